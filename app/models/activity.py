"""What contacts did: submitted answers (history), skips, engagement events, replayable responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, false, text, true
from sqlalchemy.orm import Mapped, mapped_column

from app.config import utc_now
from app.extensions import db
from app.models.types import UTCDateTime


class Submission(db.Model):
    """One accepted value with its provenance: the history behind a profile value."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id", ondelete="CASCADE"), index=True)
    form_key: Mapped[str] = mapped_column(String(64))
    visitor_id: Mapped[int | None] = mapped_column(ForeignKey("visitors.id", ondelete="SET NULL"))
    value: Mapped[Any] = mapped_column(JSON)
    previous_value: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # False: a claim that did not become the current value (a claimed browser answering a field
    # someone else had filled). Kept, shown in the console, re-applied if the browser verifies.
    applied: Mapped[bool] = mapped_column(default=True, server_default=true())
    verified: Mapped[bool] = mapped_column(default=False, server_default=false())
    source: Mapped[str] = mapped_column(
        String(16), default="browser", server_default=text("'browser'")
    )


class Skip(db.Model):
    """A question a browser of the contact chose to skip; it waits for ``skip_cooldown`` more
    events. Kept per browser: a claimed browser's questions depend only on its own skips."""

    __tablename__ = "skips"
    __table_args__ = (UniqueConstraint("contact_id", "field_id", "visitor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id", ondelete="CASCADE"), index=True)
    form_key: Mapped[str] = mapped_column(String(64))
    skipped_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    visitor_id: Mapped[int | None] = mapped_column(
        ForeignKey("visitors.id", ondelete="SET NULL"), index=True
    )
    # The contact's and the skipping browser's event counters (``tally_seq``) at the skip: the
    # events since are the counter now minus these.
    seq_at: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    own_seq_at: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class EngagementEvent(db.Model):
    __tablename__ = "engagement_events"
    __table_args__ = (
        UniqueConstraint("contact_id", "visitor_id", "external_id"),
        Index("ix_engagement_events_contact_occurred", "contact_id", "occurred_at"),
        # Whether a contact holds an id already (an event's insert asks, whatever the history).
        Index("ix_engagement_events_contact_external", "contact_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    visitor_id: Mapped[int | None] = mapped_column(ForeignKey("visitors.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16))
    # The client's event id: the same id sent twice counts once (per browser; see counted).
    external_id: Mapped[str | None] = mapped_column(String(128))
    url: Mapped[str | None] = mapped_column(String(2000))
    content: Mapped[str | None] = mapped_column(String(500))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # False for an id another browser of the contact had already sent: it counts for the
    # sending browser's own view only (the contact's score counts an id once).
    counted: Mapped[bool] = mapped_column(default=True, server_default=true())


class IdempotentResponse(db.Model):
    """The response a submit gave, replayed when the same idempotency key comes again."""

    __tablename__ = "idempotent_responses"
    __table_args__ = (UniqueConstraint("visitor_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(128))
    status: Mapped[int]
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)


class OutboxEvent(db.Model):
    """A change that must reach the site's destinations, written in the change's transaction."""

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(64))
    # Not a foreign key: a contact.deleted or contact.merged event outlives its contact row.
    contact_id: Mapped[int | None] = mapped_column(index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
