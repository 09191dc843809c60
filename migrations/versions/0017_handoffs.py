"""handoffs: the measured hand-off SLA (to sales, and back to marketing); contacts.engaged_at

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 11:00:00

A new table, ``handoffs``: one row per hand-over of a contact with its due time, first touch,
breach and close (docs/sales.md, "The hand-off SLA"). The upgrade opens one for every contact
that sits on its site's hand-off stage today, started when it last reached that stage, due
``followup_hours`` later, touched by its first sales touch since (accepted, contacted, rejected
or recycled) and closed by an accept, reject or recycle. Breaches are left to the worker, which
sends ``contact.sla_breached`` for those past due.

``contacts.engaged_at``: when ``contact.engaged`` was last sent for the contact (NULL: never).
The downgrade drops both.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TOUCHES = ("accepted", "contacted", "rejected", "recycled")
_TYPES = {"_at": sa.DateTime(timezone=True), "_id": sa.Integer()}
CLOSERS = ("accepted", "rejected", "recycled", "opportunity", "won", "lost")


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "site_id", sa.Integer(), sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "contact_id",
            sa.Integer(),
            sa.ForeignKey("contacts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("team", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("touched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("touched_by", sa.String(320), nullable=True),
        sa.Column("touch_kind", sa.String(16), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(16), nullable=True),
    )
    op.create_index("ix_handoffs_contact_started", "handoffs", ["contact_id", "started_at"])
    op.create_index("ix_handoffs_site_open", "handoffs", ["site_id", "team", "closed_at", "due_at"])
    where = sa.text("due_at IS NOT NULL AND touched_at IS NULL AND breached_at IS NULL AND closed_at IS NULL")
    op.create_index(
        "ix_handoffs_unbreached",
        "handoffs",
        ["due_at"],
        sqlite_where=where,
        postgresql_where=where,
    )
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("engaged_at", sa.DateTime(timezone=True), nullable=True))
    _open_current_handoffs()


def _open_current_handoffs() -> None:
    """A hand-off for each contact on its site's hand-off stage, from the recorded moves and
    outcomes (computed here rather than in SQL: date arithmetic differs between engines)."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT c.id, c.site_id, s.followup_hours, st.key,"
            " (SELECT MAX(sc.changed_at) FROM stage_changes sc"
            "   WHERE sc.contact_id = c.id AND sc.to_stage = st.key)"
            " FROM contacts c JOIN sites s ON s.id = c.site_id"
            " JOIN lifecycle_stages st ON st.site_id = s.id AND st.handoff AND st.archived_at IS NULL"
            " WHERE c.lifecycle_stage = st.key"
        )
    ).all()
    handoffs = sa.table(
        "handoffs",
        *(
            sa.column(name, _TYPES.get(name[-3:], sa.String()))
            for name in (
                "site_id",
                "contact_id",
                "team",
                "stage",
                "started_at",
                "due_at",
                "touched_at",
                "touched_by",
                "touch_kind",
                "closed_at",
                "closed_by",
            )
        ),
    )
    for contact_id, site_id, hours, stage, reached in rows:
        if reached is None:
            continue
        outcomes = bind.execute(
            sa.text(
                'SELECT kind, occurred_at, "by" FROM sales_outcomes'
                " WHERE contact_id = :id AND occurred_at >= :since ORDER BY occurred_at, id"
            ),
            {"id": contact_id, "since": reached},
        ).all()
        touch = next((o for o in outcomes if o.kind in TOUCHES), None)
        close = next((o for o in outcomes if o.kind in CLOSERS), None)
        op.bulk_insert(
            handoffs,
            [
                {
                    "site_id": site_id,
                    "contact_id": contact_id,
                    "team": "sales",
                    "stage": stage,
                    "started_at": _utc(reached),
                    "due_at": _utc(reached) + timedelta(hours=hours) if hours > 0 else None,
                    "touched_at": None if touch is None else _utc(touch.occurred_at),
                    "touched_by": None if touch is None else touch.by,
                    "touch_kind": None if touch is None else touch.kind,
                    "closed_at": None if close is None else _utc(close.occurred_at),
                    "closed_by": None if close is None else close.kind,
                }
            ],
        )


def _utc(value: datetime | str) -> datetime:
    """A time read back (SQLite gives text, naive UTC) as stored again: naive UTC on SQLite,
    aware on PostgreSQL, as the app's ``UTCDateTime`` stores it."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.replace(tzinfo=None) if op.get_bind().dialect.name == "sqlite" else value


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("engaged_at")
    op.drop_index("ix_handoffs_unbreached", table_name="handoffs")
    op.drop_index("ix_handoffs_site_open", table_name="handoffs")
    op.drop_index("ix_handoffs_contact_started", table_name="handoffs")
    op.drop_table("handoffs")
