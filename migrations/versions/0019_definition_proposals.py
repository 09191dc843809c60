"""definition_proposals: changes to the definition waiting for the other team; sites.definition_approval

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 11:40:00

A change to a site's definition (stages, ``followup_hours``, ``sales_outcomes``) takes effect
when a user of the other team approves it (docs/sales.md, "Changing the definition"): until
then it is a row of ``definition_proposals``. ``sites.definition_approval`` (true for every
site, as the config's default) lets a site turn that off. The downgrade drops both; pending
proposals are lost with it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "definition_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("diff", sa.JSON(), nullable=False),
        sa.Column("other_sections", sa.JSON(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("proposed_by", sa.String(length=320), nullable=False),
        sa.Column("proposed_team", sa.String(length=16), nullable=True),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=320), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("applied_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_definition_proposals_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_definition_proposals")),
    )
    with op.batch_alter_table("definition_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_definition_proposals_site_id"), ["site_id"], unique=False
        )
    with op.batch_alter_table("sites") as batch:
        batch.add_column(
            sa.Column(
                "definition_approval", sa.Boolean(), server_default=sa.true(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("definition_approval")
    with op.batch_alter_table("definition_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_definition_proposals_site_id"))
    op.drop_table("definition_proposals")
