"""sites.inbound_secret: the secret a CRM signs inbound sales-outcome webhooks with

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 10:10:00

One nullable column on ``sites`` (NULL: the site takes no inbound webhook; ``trickle sales
inbound-secret SITE`` sets it). Nothing existing changes; the downgrade drops it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("inbound_secret", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("inbound_secret")
