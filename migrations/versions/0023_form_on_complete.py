"""forms.on_complete: what a form does once the visitor is done

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 14:30:00

A form's ``on_complete`` from the config (docs/config.md): ``{"message": text}``,
``{"open": url}`` or ``{"download": url}``, with an optional ``label``; null for none (every
existing form). The downgrade drops the column.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("forms", schema=None) as batch:
        batch.add_column(sa.Column("on_complete", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("forms", schema=None) as batch:
        batch.drop_column("on_complete")
