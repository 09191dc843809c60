"""Form counters: form_stats (views and asks per site, form and UTC day)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 17:00:00

The dashboard's views and asks per form (docs/console.md, "Dashboard"): a page view that names
the forms on its page counts one view for each, an ask that returns questions one ask for its
form. Aggregate counters, flushed from the processes' tallies like question_stats. The table
starts empty: views and asks before the upgrade were not recorded per form. The downgrade drops it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_stats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("form_key", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("views", sa.Integer(), server_default="0", nullable=False),
        sa.Column("asks", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_form_stats_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_stats")),
        sa.UniqueConstraint(
            "site_id", "form_key", "day", name=op.f("uq_form_stats_site_id_form_key_day")
        ),
    )


def downgrade() -> None:
    op.drop_table("form_stats")
