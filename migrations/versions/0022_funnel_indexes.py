"""funnel report indexes: contacts by site and creation; first stage moves and outcomes

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-06 14:30:00

The funnel report (and the dashboard's cohorts) read the contacts a site created in a period,
and for each of them its first move to given stages and its first outcome of each kind:

- ``ix_contacts_site_created`` (site_id, created_at): on (site_id) alone every contact the
  site ever had was read to keep the period's; now the read is the period's range.
- ``ix_stage_changes_contact_stage`` (contact_id, to_stage, changed_at) replaces
  ``ix_stage_changes_contact_id`` (its first column serves every lookup by contact): the first
  move is read from the index, without a visit to the table per move.
- ``ix_sales_outcomes_contact_kind`` (contact_id, kind, occurred_at), likewise for the first
  outcome of a kind (``ix_sales_outcomes_contact_occurred`` stays: a contact's timeline).

The downgrade puts the indexes back as they were.
"""

from alembic import op

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_contacts_site_created", "contacts", ["site_id", "created_at"])
    op.create_index(
        "ix_stage_changes_contact_stage", "stage_changes", ["contact_id", "to_stage", "changed_at"]
    )
    op.drop_index("ix_stage_changes_contact_id", table_name="stage_changes")
    op.create_index(
        "ix_sales_outcomes_contact_kind", "sales_outcomes", ["contact_id", "kind", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_sales_outcomes_contact_kind", table_name="sales_outcomes")
    op.create_index("ix_stage_changes_contact_id", "stage_changes", ["contact_id"])
    op.drop_index("ix_stage_changes_contact_stage", table_name="stage_changes")
    op.drop_index("ix_contacts_site_created", table_name="contacts")
