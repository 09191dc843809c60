"""Webhook deliveries: one row per (event, destination), and every attempt made to send it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.config import utc_now
from app.extensions import db
from app.models.types import UTCDateTime

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


class Delivery(db.Model):
    """One event on its way to one destination.

    The body is built once, when the event happens, and stored: every attempt sends (and signs)
    the same bytes under the same ``message_id`` (the ``webhook-id``), so a receiver can drop
    duplicates. Only the ``webhook-timestamp`` is the attempt's own.

    A worker owns a row while ``lease_until`` is in the future; a worker that dies simply lets
    its lease run out and another one takes the row over (at-least-once).
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("outbox_event_id", "destination_id"),
        # Claiming: due pending rows, oldest first, in the claim's own order (no sort).
        Index("ix_deliveries_due", "status", "next_attempt_at", "id"),
        # Ordering: is an earlier event for this contact still pending at this destination?
        Index("ix_deliveries_order", "destination_id", "contact_id", "status", "id"),
        # The destination page: dead letters and recent deliveries.
        Index("ix_deliveries_destination", "destination_id", "status", "created_at"),
        # Erasure and retention: every delivery that carried one contact.
        Index("ix_deliveries_contact", "contact_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    destination_id: Mapped[int] = mapped_column(ForeignKey("destinations.id", ondelete="CASCADE"))
    # None for a test event or a backfill: those are sent to one destination only.
    outbox_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_events.id", ondelete="SET NULL")
    )
    event_type: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[int | None]
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)  # in a row, since the last replay
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leased_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))


class DeliveryAttempt(db.Model):
    """One request sent (or refused before sending) and what came back."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_recent", "destination_id", "attempted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    destination_id: Mapped[int] = mapped_column(ForeignKey("destinations.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(default=0)
    status_code: Mapped[int | None]
    outcome: Mapped[str] = mapped_column(String(16))  # delivered | retry | gone
    error: Mapped[str | None] = mapped_column(String(500))
    response: Mapped[str | None] = mapped_column(Text)  # the first 1 KB of the body
    worker: Mapped[str | None] = mapped_column(String(100))
