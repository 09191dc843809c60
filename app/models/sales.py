"""What sales report back about a contact: accepted, contacted, rejected, recycled, won, ..."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
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
