"""Failed console sign-ins counted per typed email, across every address and process.

The per-address rate limit (RATELIMIT_LOGIN) does not stop guesses spread over many addresses,
so failures are also counted per email, in the database every process shares. After
``LOGIN_BACKOFF_AFTER`` failures each further attempt must wait (``LOGIN_BACKOFF_SECONDS``,
doubling up to ``LOGIN_BACKOFF_MAX_SECONDS``) after the last failure; after
``LOGIN_FAILURES_BEFORE_LOCK`` failures within ``LOGIN_FAILURE_WINDOW_MINUTES`` the email is
locked for ``LOGIN_LOCK_MINUTES``. A refused attempt checks no password and counts nothing.

Each attempt is counted (``reserve_attempt``) before its password is checked, in one atomic
statement that also refuses it, so attempts running at the same time never get more checks
than the limits allow; a right password then forgets the count (``Reservation.succeeded``),
but never a lock that other attempts set meanwhile. The email a visitor typed is kept only as
a keyed digest, and known and unknown emails follow the same path, so the answers and their
timing say nothing of who has an account. Rows that decide nothing any more are purged by the
worker's maintenance (``purge_login_throttles``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, case, delete, false, literal, or_, select, true
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
# Rows purged per transaction: a large backlog never holds the write lock for long.
_PURGE_BATCH = 500


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


def _waited(c: Any, now: datetime, rules: ThrottleRules) -> ColumnElement[bool]:
    """True when the backoff after the row's failures is over at ``now``: the last failure at
    least ``rules.delay_after(failures)`` ago, as one CASE over the failure counts whose delay
    differs (it stops changing at the cap)."""
    if rules.delay_after(rules.backoff_after) <= timedelta(0):
        return true()
    steps, failures = [], rules.backoff_after
    while True:
        delay = rules.delay_after(failures)
        steps.append((c.failures <= failures, _at(now - delay)))
        if delay >= rules.backoff_max or failures - rules.backoff_after >= _MAX_DOUBLINGS:
            break
        failures += 1
    latest = case(
        (c.failures < rules.backoff_after, _at(now)),
        *steps,
        else_=_at(now - rules.delay_after(failures + 1)),
    )
    return c.last_failure_at <= latest


@dataclass(frozen=True)
class Reservation:
    """One sign-in attempt, counted as a failure before its password is checked: what it left
    in the row (``locked_until`` set when its count locked the email)."""

    key: str
    account: str
    user_id: int | None
    failures: int
    at: datetime
    locked_until: datetime | None

    def failed(self) -> None:
        """The password was wrong (or the user disabled): it stays counted; the lock, when this
        attempt's count set it, is logged."""
        if self.locked_until is not None:
            _log_lock(self)

    def succeeded(self) -> None:
        """Forget the failures of the email (a successful sign-in); the caller commits. Not
        while it is locked by other attempts counted during the password check: a sign-in never
        lifts a lock it did not set. The lock this attempt's own count set goes with it (the
        attempt was no failure), recognized as the row this attempt left: any later attempt
        would have moved its count or its time. One conditional statement, so that a lock
        landing meanwhile is seen (PostgreSQL re-reads a row changed under it; SQLite writes
        one at a time)."""
        c = LoginThrottle.__table__.c
        unlocked: ColumnElement[bool] = c.locked_until.is_(None)
        if self.locked_until is not None:
            unlocked = or_(
                unlocked,
                and_(
                    c.failures == self.failures,
                    c.last_failure_at == self.at,
                    c.locked_until == self.locked_until,
                ),
            )
        db.session.execute(delete(LoginThrottle).where(c.key_hash == self.key, unlocked))


def reserve_attempt(
    key: str, user: User | None, now: datetime, rules: ThrottleRules
) -> Reservation | None:
    """Count one sign-in attempt for ``key`` as a failure, before its password is checked, in one
    atomic statement (an upsert) committed at once: a new window when the last one is over or
    the lock ended, and the lock once the count reaches the limit. None, with nothing counted,
    while the email is locked or its backoff runs: the attempt is refused.

    Counted first, attempts that run at the same time can never get more password checks than
    attempts made one after another: each one that starts sees the count of all the others.
    """
    table = LoginThrottle.__table__
    c = table.c
    user_id = user.id if user is not None else None
    account = user.email if user is not None else f"unknown email {key[:12]}"
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
    lock_over = c.locked_until <= now
    restart = or_(c.window_started_at <= now - rules.window, lock_over)
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
        # A locked email, or one whose backoff runs, counts nothing more: refused attempts do
        # not draw the lock or the wait out.
        where=and_(or_(c.locked_until.is_(None), lock_over), or_(restart, _waited(c, now, rules))),
    ).returning(c.failures, c.locked_until)

    def work() -> Reservation | None:
        row = db.session.execute(statement).first()
        if row is None:
            return None
        return Reservation(key, account, user_id, row.failures, now, row.locked_until)

    return commit_unit(work)


def _log_lock(reservation: Reservation) -> None:
    assert reservation.locked_until is not None
    log.warning(
        "console sign-in locked for %s after %d failed attempts, until %s",
        reservation.account,
        reservation.failures,
        reservation.locked_until.isoformat(),
        extra={
            "event": "sign_in_locked",
            "account": reservation.account,
            "user_id": reservation.user_id,
            "failures": reservation.failures,
            "locked_at": reservation.at.isoformat(),
            "locked_until": reservation.locked_until.isoformat(),
        },
    )


def purge_login_throttles(now: datetime) -> int:
    """Delete the rows that no longer decide anything: no live lock, and the failure window
    over or the lock ended (the next attempt would count from one either way), in batches each
    committed on its own. Run by the delivery worker's hourly maintenance, so that the table
    holds only the emails typed lately. Returns how many went."""
    rules = throttle_rules()
    c = LoginThrottle.__table__.c
    stale = or_(
        c.locked_until <= now,
        and_(c.locked_until.is_(None), c.window_started_at <= now - rules.window),
    )
    batch = select(c.id).where(stale).limit(_PURGE_BATCH).scalar_subquery()
    count = 0
    while True:
        purged: Any = db.session.execute(delete(LoginThrottle).where(c.id.in_(batch)))
        db.session.commit()
        count += int(purged.rowcount)
        if purged.rowcount < _PURGE_BATCH:
            break
    if count:
        log.info("purged %d expired sign-in throttle rows", count, extra={"purged": count})
    return count


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
