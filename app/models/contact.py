"""The contact aggregate: a person, their browsers (visitors), their company (account) and values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Double,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.config import utc_now
from app.extensions import db
from app.models.types import UTCDateTime


class Account(db.Model):
    """A company, keyed by the email domain of its contacts (free-mail domains never form one)."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("site_id", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class EngagementTally:
    """The columns of a running engagement tally (``domain.engagement.Tally``), kept on write:
    the whole contact's on ``contacts``, one browser's own on ``visitors`` (what a claimed
    browser is judged by). ``tally_basis`` names the weights and half-life ``tally_total`` was
    summed with: when the config changes them, the tally is rebuilt from the events (by the
    worker, or by the next event) and is not read meanwhile (docs/architecture.md, "Engagement").
    """

    tally_basis: Mapped[str | None] = mapped_column(String(16))
    tally_total: Mapped[float] = mapped_column(Double, default=0.0, server_default=text("0"))
    tally_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tally_last: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tally_early: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    tally_mid: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    tally_late: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    tally_seq: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class Contact(EngagementTally, db.Model):
    __tablename__ = "contacts"
    # AUTOINCREMENT on SQLite: an erased contact's id is never handed to someone else (webhook
    # receivers and erasure records know people by it). PostgreSQL sequences never reuse ids.
    __table_args__ = (
        UniqueConstraint("site_id", "email"),
        Index("ix_contacts_email_digest", "site_id", "email_digest"),
        # The contacts a site created in a period (the funnel report's cohorts, migration 0022).
        Index("ix_contacts_site_created", "site_id", "created_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    # Normalised (trimmed, lower-case); None while the contact is anonymous.
    email: Mapped[str | None] = mapped_column(String(320))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    lifecycle_stage: Mapped[str | None] = mapped_column(String(64))
    # Set when sales recycled the contact (``sales_outcomes.requalify_after``): the engagement
    # score it must reach before the stage rules move it forward again. None: no hold.
    requalify_score: Mapped[float | None] = mapped_column(Double)
    # When ``contact.engaged`` (hot activity of a handed-off contact or its account) was last
    # sent for this contact: at most one per ``sales_outcomes.hot_activity.window_hours``.
    engaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The keyed digest of the email a signed link names (the link never carries the address):
    # base64url(HMAC-SHA256(site link key, email))[:22]. None while anonymous.
    email_digest: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)

    account: Mapped[Account | None] = relationship()


# How far a browser's link to its contact is trusted (docs/architecture.md, "Trust").
CLAIMED, VERIFIED = "claimed", "verified"
# What a value came from: a browser's answer, a file import, a token-API write.
BROWSER = "browser"


class Visitor(EngagementTally, db.Model):
    """One browser. Its public id travels inside a signed visitor token.

    ``trust`` is ``claimed`` while the browser has only typed the contact's email (it sees and
    overwrites only what it gave itself) and ``verified`` once it proved it (an identity hash,
    a signed link; ``verified_by`` says which).
    """

    __tablename__ = "visitors"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    trust: Mapped[str] = mapped_column(
        String(16), default=CLAIMED, server_default=text("'claimed'")
    )
    verified_by: Mapped[str | None] = mapped_column(String(16))  # identity_hash | link | upgrade
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contact: Mapped[Contact] = relationship()


class ProfileValue(db.Model):
    """The current value of one field for one contact."""

    __tablename__ = "profile_values"
    __table_args__ = (UniqueConstraint("contact_id", "field_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id", ondelete="CASCADE"), index=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    form_key: Mapped[str | None] = mapped_column(String(64))
    visitor_id: Mapped[int | None] = mapped_column(ForeignKey("visitors.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(
        String(16), default=BROWSER, server_default=text("'browser'")
    )
    # Given by a verified browser, an import or the token API (not merely claimed).
    verified: Mapped[bool] = mapped_column(default=False, server_default=false())


class AccountValue(db.Model):
    """The current value of one account-scope field for one company."""

    __tablename__ = "account_values"
    __table_args__ = (UniqueConstraint("account_id", "field_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id", ondelete="CASCADE"), index=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    # The form the value came through (None for values stored before this was kept).
    form_key: Mapped[str | None] = mapped_column(String(64))
    # Spares the account's other contacts the question: given by a verified browser, an import
    # or the token API, or the same answer from two distinct contacts. Otherwise a candidate.
    trusted: Mapped[bool] = mapped_column(default=True, server_default=true())


class ContactMerge(db.Model):
    """An anonymous contact folded into an identified one (the merged row itself is gone)."""

    __tablename__ = "contact_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    survivor_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    merged_contact_id: Mapped[int]
    visitor_id: Mapped[int | None] = mapped_column(ForeignKey("visitors.id", ondelete="SET NULL"))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
