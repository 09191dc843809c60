"""whatif_runs: what-ifs of proposed definitions, asked in the console and run by the worker

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-06 11:40:00

A new table; nothing existing changes. The downgrade drops it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "whatif_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("proposal", sa.JSON(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(320), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_whatif_runs_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatif_runs")),
    )
    op.create_index("ix_whatif_runs_site_digest", "whatif_runs", ["site_id", "digest", "days"])


def downgrade() -> None:
    op.drop_index("ix_whatif_runs_site_digest", table_name="whatif_runs")
    op.drop_table("whatif_runs")
