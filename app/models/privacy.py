"""Consent given and withdrawn, and the minimal record an erasure leaves behind."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from app.config import utc_now
from app.extensions import db
from app.models.types import UTCDateTime


class ConsentRecord(db.Model):
    """One consent given or withdrawn, with the exact text the person saw (append only).

    A contact's consent state for a field is its newest record; the profile value (true/false)
    mirrors it, so the rules, exports and webhooks read consent like any other answer.
    """

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_contact", "contact_id", "field_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id", ondelete="CASCADE"))
    granted: Mapped[bool]
    # The text shown when consent was given (label, then help), and its version: the first
    # 12 hex digits of its SHA-256, so a reworded consent is a new version.
    text: Mapped[str | None] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(String(16))
    form_key: Mapped[str | None] = mapped_column(String(64))
    visitor_id: Mapped[int | None] = mapped_column(ForeignKey("visitors.id", ondelete="SET NULL"))
    # form (the widget), visitor (the person withdrew it), api (a token), admin (the console)
    source: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(320))  # the console user or token name
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # False: recorded but not in force (a claimed browser refusing a consent someone else gave).
    applied: Mapped[bool] = mapped_column(default=True, server_default=true())


class ContactErasure(db.Model):
    """What is left of an erased contact: its old id, when, who asked and what was removed.

    Nothing about the person: no email, no value, no visitor id.
    """

    __tablename__ = "contact_erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(32))  # request | retention
    requested_by: Mapped[str | None] = mapped_column(String(320))
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # Rows removed by table, and the destinations sent contact.deleted.
    removed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notified: Mapped[list[str]] = mapped_column(JSON, default=list)
