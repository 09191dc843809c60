"""engagement kept on write: running tallies on contacts and visitors, event counters on skips

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 08:30:00

Every ask, event and submit read all of a contact's events to score them. Contacts and visitors
now hold a running tally (``tally_*``, see ``domain.engagement.Tally``) and skips the event
counters at the skip (``seq_at``, ``own_seq_at``). Events get an index on (contact_id,
external_id): an event's insert asks whether its contact holds the id already, which the unique
key (contact_id, visitor_id, external_id) answered only by walking the contact's history.

The upgrade fills in the counters from the events (so a skip waits exactly as before) and leaves
each tally unbuilt (``tally_basis`` NULL): until the worker rebuilds a site's tallies with its
weights and half-life (``sites.tally_basis``), its contacts are scored from their events as
before. The downgrade drops the columns; nothing else changed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TALLY = ("tally_basis", "tally_total", "tally_at", "tally_last") + tuple(
    f"tally_{name}" for name in ("early", "mid", "late", "seq")
)


def _tally_columns() -> list[sa.Column]:
    return [
        sa.Column("tally_basis", sa.String(16), nullable=True),
        sa.Column("tally_total", sa.Double(), nullable=False, server_default=sa.text("0")),
        sa.Column("tally_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tally_last", sa.DateTime(timezone=True), nullable=True),
        *(
            sa.Column(f"tally_{name}", sa.Integer(), nullable=False, server_default=sa.text("0"))
            for name in ("early", "mid", "late", "seq")
        ),
    ]


def upgrade() -> None:
    for table in ("contacts", "visitors"):
        with op.batch_alter_table(table) as batch:
            for column in _tally_columns():
                batch.add_column(column)
    with op.batch_alter_table("skips") as batch:
        for name in ("seq_at", "own_seq_at"):
            batch.add_column(
                sa.Column(name, sa.Integer(), nullable=False, server_default=sa.text("0"))
            )
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("tally_basis", sa.String(16), nullable=True))
    op.create_index(
        "ix_engagement_events_contact_external", "engagement_events", ["contact_id", "external_id"]
    )
    # The counters: what the events said so far (counted events for the contact, a browser's
    # own events of its contact for the browser), and at each skip, those up to the skip.
    op.execute(
        "UPDATE contacts SET tally_seq = (SELECT count(*) FROM engagement_events e"
        " WHERE e.contact_id = contacts.id AND e.counted)"
    )
    op.execute(
        "UPDATE visitors SET tally_seq = (SELECT count(*) FROM engagement_events e"
        " WHERE e.visitor_id = visitors.id AND e.contact_id = visitors.contact_id)"
    )
    op.execute(
        "UPDATE skips SET seq_at = (SELECT count(*) FROM engagement_events e"
        " WHERE e.contact_id = skips.contact_id AND e.counted"
        " AND e.occurred_at <= skips.skipped_at),"
        " own_seq_at = (SELECT count(*) FROM engagement_events e"
        " WHERE e.contact_id = skips.contact_id AND e.visitor_id = skips.visitor_id"
        " AND e.occurred_at <= skips.skipped_at)"
    )


def downgrade() -> None:
    op.drop_index("ix_engagement_events_contact_external", table_name="engagement_events")
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("tally_basis")
    with op.batch_alter_table("skips") as batch:
        batch.drop_column("own_seq_at")
        batch.drop_column("seq_at")
    for table in ("visitors", "contacts"):
        with op.batch_alter_table(table) as batch:
            for name in reversed(TALLY):
                batch.drop_column(name)
