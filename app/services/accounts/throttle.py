"""Failed console sign-ins counted per typed email, across every address and process.

The per-address rate limit (RATELIMIT_LOGIN) does not stop guesses spread over many addresses,
so failures are also counted per email, in the database every process shares. After
``LOGIN_BACKOFF_AFTER`` failures each further attempt must wait (``LOGIN_BACKOFF_SECONDS``,
doubling up to ``LOGIN_BACKOFF_MAX_SECONDS``) after the last failure; after
``LOGIN_FAILURES_BEFORE_LOCK`` failures within ``LOGIN_FAILURE_WINDOW_MINUTES`` the email is
locked for ``LOGIN_LOCK_MINUTES``. A refused attempt checks no password and counts nothing. The
email a visitor typed is kept only as a keyed digest, and known and unknown emails follow the
same path, so the answers and their timing say nothing of who has an account.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, case, delete, false, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from app.domain.identity import normalize_email
from app.extensions import db
from app.models import LoginThrottle, User
from app.models.types import UTCDateTime
from app.services.errors import NotFound
from app.services.transactions import commit_unit

log = logging.getLogger("trickle.accounts")
# Doubling stops here, long before a float would overflow (the delay is capped much lower).
_MAX_DOUBLINGS = 30


@dataclass(frozen=True)
class ThrottleRules:
    """The LOGIN_* settings, as numbers."""

    failures_before_lock: int
    window: timedelta
    lock: timedelta
    backoff_after: int
    backoff: timedelta
    backoff_max: timedelta

    def delay_after(self, failures: int) -> timedelta:
        """How long after the last of ``failures`` failures the next attempt must wait."""
        if failures < self.backoff_after or self.backoff <= timedelta(0):
            return timedelta(0)
        doublings = min(failures - self.backoff_after, _MAX_DOUBLINGS)
        return min(self.backoff * 2**doublings, self.backoff_max)


@dataclass(frozen=True)
class SignInLock:
    """A user's email locked after too many failed sign-ins, for the console's notice."""

    user_id: int
    email: str
    failures: int
    locked_at: datetime
    locked_until: datetime


def throttle_rules() -> ThrottleRules:
    config = current_app.config
    return ThrottleRules(
        failures_before_lock=int(config["LOGIN_FAILURES_BEFORE_LOCK"]),
        window=timedelta(minutes=float(config["LOGIN_FAILURE_WINDOW_MINUTES"])),
        lock=timedelta(minutes=float(config["LOGIN_LOCK_MINUTES"])),
        backoff_after=int(config["LOGIN_BACKOFF_AFTER"]),
        backoff=timedelta(seconds=float(config["LOGIN_BACKOFF_SECONDS"])),
        backoff_max=timedelta(seconds=float(config["LOGIN_BACKOFF_MAX_SECONDS"])),
    )


def throttle_key(email: str) -> str:
    """The keyed digest (under the app's secret key) of the normalized email."""
    secret = hmac.new(
        str(current_app.config["SECRET_KEY"]).encode(), b"login-throttle", hashlib.sha256
    ).digest()
    return hmac.new(secret, normalize_email(email).encode(), hashlib.sha256).hexdigest()


def _at(moment: datetime) -> ColumnElement[datetime]:
    return literal(moment, UTCDateTime())


def attempt_refused(key: str, now: datetime, rules: ThrottleRules) -> bool:
    """True while the email is locked, or its next attempt must still wait (backoff)."""
    row = db.session.scalars(
        select(LoginThrottle).where(LoginThrottle.key_hash == key)
    ).one_or_none()
    if row is None:
        return False
    if row.locked_until is not None:
        return now < row.locked_until
    if now - row.window_started_at >= rules.window:
        return False
    return now < row.last_failure_at + rules.delay_after(row.failures)


def record_failure(key: str, user: User | None, now: datetime, rules: ThrottleRules) -> None:
    """Count one failed sign-in for ``key`` in one atomic statement (an upsert): a new window
    when the last one is over or the lock ended, and the lock once the count reaches the limit.
    Committed at once; the lock, when this failure set it, is logged."""
    table = LoginThrottle.__table__
    c = table.c
    user_id = user.id if user is not None else None
    insert = (
        postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    first_locks = 0 < rules.failures_before_lock <= 1
    statement = insert(table).values(
        key_hash=key,
        user_id=user_id,
        failures=1,
        window_started_at=now,
        last_failure_at=now,
        locked_at=now if first_locks else None,
        locked_until=now + rules.lock if first_locks else None,
    )
    restart = or_(c.window_started_at <= now - rules.window, c.locked_until <= now)
    failures = case((restart, 1), else_=c.failures + 1)
    locks = failures >= rules.failures_before_lock if rules.failures_before_lock > 0 else false()
    statement = statement.on_conflict_do_update(
        index_elements=[c.key_hash],
        set_={
            "user_id": user_id,
            "failures": failures,
            "window_started_at": case((restart, _at(now)), else_=c.window_started_at),
            "last_failure_at": now,
            "locked_at": case((locks, _at(now)), else_=None),
            "locked_until": case((locks, _at(now + rules.lock)), else_=None),
        },
        # A locked email counts nothing more: the lock is not drawn out by refused attempts.
        where=or_(c.locked_until.is_(None), c.locked_until <= now),
    ).returning(c.failures, c.locked_until)

    def work() -> tuple[int, datetime | None] | None:
        row = db.session.execute(statement).first()
        return None if row is None else (row.failures, row.locked_until)

    counted = commit_unit(work)
    if counted is not None and counted[1] is not None:
        _log_lock(key, user, counted[0], now, counted[1])


def _log_lock(key: str, user: User | None, failures: int, now: datetime, until: datetime) -> None:
    account = user.email if user is not None else f"unknown email {key[:12]}"
    log.warning(
        "console sign-in locked for %s after %d failed attempts, until %s",
        account,
        failures,
        until.isoformat(),
        extra={
            "event": "sign_in_locked",
            "account": account,
            "user_id": user.id if user is not None else None,
            "failures": failures,
            "locked_at": now.isoformat(),
            "locked_until": until.isoformat(),
        },
    )


def clear_failures(key: str) -> None:
    """Forget the failures of ``key`` (a successful sign-in); the caller commits."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key_hash == key))


def sign_in_locks(now: datetime) -> list[SignInLock]:
    """Users whose email is locked now, the longest-locked first."""
    rows = db.session.execute(
        select(
            LoginThrottle.user_id,
            User.email,
            LoginThrottle.failures,
            LoginThrottle.locked_at,
            LoginThrottle.locked_until,
        )
        .join(User, User.id == LoginThrottle.user_id)
        .where(LoginThrottle.locked_until > now)
        .order_by(LoginThrottle.locked_at, User.email)
    ).all()
    return [SignInLock(*row) for row in rows]


def unlock_sign_in(email: str, now: datetime, by: str) -> bool:
    """Lift the lock and forget the failures of ``email`` (a user's or not), on behalf of ``by``
    (an admin, or the command line); logged. True when it was locked; NotFound when no failure
    is held for it."""
    key = throttle_key(email)

    def work() -> tuple[int | None, datetime | None]:
        row = db.session.scalars(
            select(LoginThrottle).where(LoginThrottle.key_hash == key).with_for_update()
        ).one_or_none()
        if row is None:
            raise NotFound("No failed sign-ins are held for this email.")
        held = (row.user_id, row.locked_until)
        db.session.delete(row)
        return held

    user_id, locked_until = commit_unit(work)
    was_locked = locked_until is not None and now < locked_until
    account = normalize_email(email) if user_id is not None else f"unknown email {key[:12]}"
    log.warning(
        "console sign-in %s for %s by %s",
        "unlocked" if was_locked else "failures cleared",
        account,
        by,
        extra={
            "event": "sign_in_unlocked",
            "account": account,
            "user_id": user_id,
            "by": by,
            "was_locked": was_locked,
        },
    )
    return was_locked
