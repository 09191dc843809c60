"""ix_contacts_site_created: a site's contacts by creation time

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-06 14:30:00

The funnel report (and the dashboard's cohorts) read the contacts a site created in a period:
on (site_id) alone every contact the site ever had was read to keep the period's. With
(site_id, created_at) the read is the period's range. The downgrade drops the index.
"""

from alembic import op

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_contacts_site_created", "contacts", ["site_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_contacts_site_created", table_name="contacts")
