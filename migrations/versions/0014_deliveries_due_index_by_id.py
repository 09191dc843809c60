"""ix_deliveries_due gets id as its last column: the claim's order is the index's order

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 08:10:00

A worker claims pending deliveries ORDER BY next_attempt_at, id LIMIT batch. On (status,
next_attempt_at) alone, deliveries due at the same instant (a burst, a released backlog, a
destination resumed) were sorted by id in full at every claim: PostgreSQL read and sorted every
due row, and checked the ordering rule for each, to hand out ten (15.8 ms per claim with 5 000
due). With id in the index the scan is in the claim's order and stops after the batch.
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_due")
        batch_op.create_index(
            "ix_deliveries_due", ["status", "next_attempt_at", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_due")
        batch_op.create_index("ix_deliveries_due", ["status", "next_attempt_at"], unique=False)
