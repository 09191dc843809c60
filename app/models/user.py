"""People who use the console: marketers, analysts, admins, and sales reps."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.config import utc_now
from app.extensions import db
from app.models.types import UTCDateTime

ROLES: tuple[str, ...] = ("analyst", "marketer", "admin")  # each role can do all the previous can
# Outside the hierarchy: records sales outcomes (docs/sales.md) and nothing else; an admin may
# do what it does. A sales token records outcomes through the API; a sales console user works
# the hand-off queue and reads the briefs (docs/console.md), nothing more.
SALES = "sales"
TOKEN_ROLES: tuple[str, ...] = (*ROLES, SALES)
CONSOLE_ROLES: tuple[str, ...] = TOKEN_ROLES  # who may be a console user


def role_allows(held: str, needed: str) -> bool:
    """True when role ``held`` may do what needs ``needed``: the hierarchy for its roles;
    ``sales`` work for the sales role and admin, and nothing else for the sales role."""
    if needed == SALES:
        return held in (SALES, "admin")
    return held in ROLES and needed in ROLES and ROLES.index(held) >= ROLES.index(needed)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of the session's user id: bumping it (new password, role change) ends every session.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    def get_id(self) -> str:
        """What the session stores: id and session version, so old sessions stop working."""
        return f"{self.id}.{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def can(self, role: str, *others: str) -> bool:
        """True when this user's role allows ``role`` (or one of ``others``): it is that role
        or above it, as ``role_allows`` says."""
        return any(role_allows(self.role, needed) for needed in (role, *others))


class ConsoleSession(db.Model):
    """One signed-in browser. Its cookie carries a random token, of which only the SHA-256 is
    kept here: signing out deletes the row, so a copy of the cookie no longer signs anyone in.
    The row's clocks give the absolute lifetime and the idle timeout (SESSION_* settings)."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginThrottle(db.Model):
    """Failed console sign-ins for one typed email, shared by every process: the count within
    the current window, when the last one came (the backoff is counted from it) and, once there
    were too many, how long the email is locked (LOGIN_* settings). Keyed by a keyed digest of
    the normalized email, so an email that names no user is not kept readable; ``user_id`` is
    the user the email named at the last failure, if any."""

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
