"""sales outcomes: what sales report back about a contact; a site's sales_outcomes config

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 09:30:00

A new table ``sales_outcomes`` (one row per reported outcome, unique idempotency key per site)
``sites.sales_outcomes``, the config section as loaded (NULL: the site has none), and
``contacts.requalify_score``, the score a recycled contact must reach to qualify again (NULL: no
hold). Nothing existing changes; the downgrade drops all three.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("sales_outcomes", sa.JSON(), nullable=True))
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("requalify_score", sa.Double(), nullable=True))
    op.create_table(
        "sales_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("external_id", sa.String(128), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("by", sa.String(320), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_stage", sa.String(64), nullable=True),
        sa.Column("to_stage", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "idempotency_key"),
    )
    op.create_index(
        "ix_sales_outcomes_contact_occurred", "sales_outcomes", ["contact_id", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_sales_outcomes_contact_occurred", table_name="sales_outcomes")
    op.drop_table("sales_outcomes")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("requalify_score")
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("sales_outcomes")
