"""Console sessions kept on the server: one row per signed-in browser.

The signed cookie says who the user is (``User.get_id``) and carries this browser's session
token; the row says whether that session still stands. Signing out deletes only this browser's
row (other browsers of the same user stay signed in, as in most products; a new password or
role ends them all through ``User.session_version``). A session also ends
``SESSION_MAX_AGE_HOURS`` after sign-in however busy it is, and after ``SESSION_IDLE_MINUTES``
without a request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, session
from sqlalchemy import delete, select

from app.clock import current_time
from app.extensions import db
from app.models import ConsoleSession, User
from app.services.accounts.users import load_user

SESSION_TOKEN_KEY = "_console_session"  # noqa: S105 - a cookie key, not a secret
# The idle clock is written at most this often, so a page with several requests costs one write.
_SEEN_RESOLUTION = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _max_age() -> timedelta:
    return timedelta(hours=float(current_app.config["SESSION_MAX_AGE_HOURS"]))


def _idle() -> timedelta:
    return timedelta(minutes=float(current_app.config["SESSION_IDLE_MINUTES"]))


def start_console_session(user: User, now: datetime) -> None:
    """A new server-side session for ``user`` in this browser's cookie (after a correct
    password). Any session the cookie held before ends, and sessions past their lifetime are
    cleared away."""
    end_console_session()
    token = secrets.token_urlsafe(32)
    db.session.execute(delete(ConsoleSession).where(ConsoleSession.created_at < now - _max_age()))
    db.session.add(
        ConsoleSession(user_id=user.id, token_hash=_digest(token), created_at=now, last_seen_at=now)
    )
    db.session.commit()
    session[SESSION_TOKEN_KEY] = token


def end_console_session() -> None:
    """End the session this browser's cookie holds (signing out): its row goes, so a saved
    copy of the cookie signs no one in."""
    token = session.pop(SESSION_TOKEN_KEY, None)
    if isinstance(token, str):
        db.session.execute(
            delete(ConsoleSession).where(ConsoleSession.token_hash == _digest(token))
        )
        db.session.commit()


def console_session_stands(user: User, now: datetime) -> bool:
    """True when this browser's session of ``user`` exists, is younger than its lifetime and
    was used within the idle timeout; then its idle clock restarts. An expired one is deleted."""
    token = session.get(SESSION_TOKEN_KEY)
    if not isinstance(token, str):
        return False
    row = db.session.scalars(
        select(ConsoleSession).where(ConsoleSession.token_hash == _digest(token))
    ).one_or_none()
    if row is None or row.user_id != user.id:
        return False
    if now - row.created_at > _max_age() or now - row.last_seen_at > _idle():
        db.session.delete(row)
        db.session.commit()
        return False
    if now - row.last_seen_at >= _SEEN_RESOLUTION:
        row.last_seen_at = now
        db.session.commit()
    return True


def load_console_user(session_id: str) -> User | None:
    """Flask-Login's user loader: the user of the session id in the cookie (``load_user``),
    while this browser's server-side session stands. When it has ended (signed out, past its
    lifetime, idle too long) the cookie is emptied and ``g.console_session_ended`` tells the
    login page to say so."""
    user = load_user(session_id)
    if user is None:
        return None
    if not console_session_stands(user, current_time()):
        g.console_session_ended = True
        session.pop("_user_id", None)  # the cookie names no one from now on
        session.pop(SESSION_TOKEN_KEY, None)
        return None
    return user
