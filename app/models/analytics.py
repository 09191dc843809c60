"""What the dashboard reads besides contacts: question and form counters, lifecycle stage moves."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.config import utc_now
from app.extensions import db
from app.models.types import UTCDateTime


class QuestionStat(db.Model):
    """How often one question was shown, answered and skipped on one form, per UTC day.

    Aggregate counters, never a row per view: the ask endpoint adds to an in-process tally that
    is flushed as one upsert per (form, field, day) now and then.
    """

    __tablename__ = "question_stats"
    __table_args__ = (UniqueConstraint("field_id", "form_key", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id", ondelete="CASCADE"))
    form_key: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    shown: Mapped[int] = mapped_column(default=0, server_default="0")
    answered: Mapped[int] = mapped_column(default=0, server_default="0")
    skipped: Mapped[int] = mapped_column(default=0, server_default="0")


class FormStat(db.Model):
    """Per form and UTC day: the page views that placed it (a counted ``page_view`` naming it)
    and the asks for it that returned at least one question.

    Aggregate counters like ``QuestionStat``: the events and ask endpoints add to an in-process
    tally that is flushed as one upsert per (site, form, day) now and then.
    """

    __tablename__ = "form_stats"
    __table_args__ = (UniqueConstraint("site_id", "form_key", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    form_key: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    views: Mapped[int] = mapped_column(default=0, server_default="0")
    asks: Mapped[int] = mapped_column(default=0, server_default="0")


class StageChange(db.Model):
    """A contact moving forward to a lifecycle stage, with the rule that moved it."""

    __tablename__ = "stage_changes"
    __table_args__ = (
        Index("ix_stage_changes_site_changed", "site_id", "changed_at"),
        # A contact's first move to given stages, read from the index alone (the funnel report
        # looks it up for every contact of the period; migration 0022).
        Index("ix_stage_changes_contact_stage", "contact_id", "to_stage", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    from_stage: Mapped[str | None] = mapped_column(String(64))
    to_stage: Mapped[str] = mapped_column(String(64))
    rule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
