"""sites.requalify_*: re-qualifying a site's contacts after its definition changed

Revision ID: 0020
Revises: 0021
Create Date: 2026-12-06 11:40:00

When an applied config changes the definition (stages, followup_hours, sales_outcomes), the
worker judges the site's contacts again in batches (``people.requalify``); these columns hold
what it is asked to do and how far it got, which the console shows. Existing sites start with
nothing to do (``requalify_version`` null). The downgrade drops the columns.

(Numbered before 0021, the what-ifs, which reached main first and revises 0018; this one
follows it. 0019, the pending definition revisions, is to join the chain where it lands.)
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0021"
branch_labels = None
depends_on = None

NULLABLE = ("requalify_version", "requalify_cursor", "requalify_upto", "requalify_total")
COUNTERS = ("requalify_done", "requalify_moved")
TIMES = ("requalify_started_at", "requalify_finished_at")


def upgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch:
        for name in NULLABLE:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
        for name in COUNTERS:
            batch.add_column(
                sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)
            )
        for name in TIMES:
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch:
        for name in (*NULLABLE, *COUNTERS, *TIMES):
            batch.drop_column(name)
