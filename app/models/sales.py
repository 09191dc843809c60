"""What sales report back about a contact: accepted, contacted, rejected, recycled, won, ..."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class SalesOutcome(db.Model):
    """One fact a rep (or the CRM) reported, kept on the contact's timeline at ``occurred_at``.

    The idempotency key is unique per site: the same key sent again gets this row back, never a
    second one. ``from_stage``/``to_stage`` record the stage move it caused, if any.
    """

    __tablename__ = "sales_outcomes"
    __table_args__ = (
        UniqueConstraint("site_id", "idempotency_key"),
        Index("ix_sales_outcomes_contact_occurred", "contact_id", "occurred_at"),
        # A contact's first outcome of a kind, from the index alone (the funnel report; 0022).
        Index("ix_sales_outcomes_contact_kind", "contact_id", "kind", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(128))
    # An opportunity's amount in hundredths of its currency (1200.50 is 120050): exact on
    # every engine, as a float would not be.
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    by: Mapped[str] = mapped_column(String(320))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_stage: Mapped[str | None] = mapped_column(String(64))
    to_stage: Mapped[str | None] = mapped_column(String(64))


# The hand-offs the worker watches for a breach: open, untouched, with a window. (A touch or a
# close that comes late records its breach itself, so the index holds only what is pending.)
UNBREACHED = (
    "due_at IS NOT NULL AND touched_at IS NULL AND breached_at IS NULL AND closed_at IS NULL"
)
SALES_TEAM = "sales"
MARKETING_TEAM = "marketing"


class Handoff(db.Model):
    """One hand-over of a contact with a service level: to sales when it reaches the hand-off
    stage (sales owe the first touch within ``followup_hours``), or back to marketing when sales
    recycle it (marketing owe a touch within ``recycle_followup_days``).

    At most one is open (``closed_at`` NULL) per contact: a new one closes the one before.
    ``due_at`` is fixed when it starts (NULL: no window agreed); ``touched_at`` is the first
    touch on or after ``started_at`` (the clock stops there); the worker sets ``breached_at``
    once, when ``due_at`` passed untouched or touched late.
    """

    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_contact_started", "contact_id", "started_at"),
        Index("ix_handoffs_site_open", "site_id", "team", "closed_at", "due_at"),
        Index(
            "ix_handoffs_unbreached",
            "due_at",
            sqlite_where=text(UNBREACHED),
            postgresql_where=text(UNBREACHED),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    team: Mapped[str] = mapped_column(String(16))  # who owes the touch: sales | marketing
    stage: Mapped[str | None] = mapped_column(String(64))  # the stage it started on
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    touched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    touched_by: Mapped[str | None] = mapped_column(String(320))
    touch_kind: Mapped[str | None] = mapped_column(String(16))
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What closed it: an outcome kind (accepted, rejected, recycled, ...) or "requalified"
    # (the contact reached the hand-off stage again) / "handed_off" (a new hand-off began).
    closed_by: Mapped[str | None] = mapped_column(String(16))


class WhatIfRun(db.Model):
    """One what-if of a proposed definition (docs/sales.md): asked for in the console, run by
    the worker, its result kept as JSON. A request for the same site, proposal and window while
    one is pending or running gets that one back (``digest`` names the proposal)."""

    __tablename__ = "whatif_runs"
    __table_args__ = (Index("ix_whatif_runs_site_digest", "site_id", "digest", "days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of the proposal's canonical JSON
    proposal: Mapped[dict[str, Any]] = mapped_column(JSON)
    days: Mapped[int]
    requested_by: Mapped[str] = mapped_column(String(320))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # pending | running | done | failed
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
