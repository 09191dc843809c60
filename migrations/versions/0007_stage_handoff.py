"""lifecycle_stages.handoff: the stage sales must follow up within the site's followup_hours

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 05:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lifecycle_stages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("handoff", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table("lifecycle_stages", schema=None) as batch_op:
        batch_op.drop_column("handoff")
