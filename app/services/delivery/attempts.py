"""The worker's side of delivery: claiming due rows with a lease, recording each attempt.

Workers claim due rows with a lease, send them without holding a transaction, and record each
attempt in a short write transaction of its own. The rules — what an answer means, when to try
again — are in ``app.domain.webhooks``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, insert, or_, select, update
from sqlalchemy.orm import aliased

from app.domain import webhooks
from app.domain.webhooks import Outcome
from app.extensions import db
from app.models import Delivery, DeliveryAttempt, Destination
from app.models.delivery import DEAD, DELIVERED, PENDING
from app.services.delivery.http import SendResult

# A 429 or 503 may say when to come back; other answers may not move the schedule.
_RETRY_AFTER_STATUSES = (429, 503)


@dataclass(frozen=True)
class Claimed:
    """Everything needed to send one delivery, read while the lease was taken."""

    id: int
    destination_id: int
    url: str
    secrets: tuple[str, ...]
    message_id: str
    body: bytes


# The claim's statements, built once (building them per call was a fifth of a claim's time in
# the worker's profile); the values are bound at each claim.
_EARLIER = aliased(Delivery)
_FREE = or_(Delivery.lease_until.is_(None), Delivery.lease_until <= bindparam("now"))
_DUE = (
    select(Delivery.id)
    .join(Destination, Destination.id == Delivery.destination_id)
    .where(
        Delivery.status == PENDING,
        Delivery.next_attempt_at <= bindparam("now"),
        _FREE,
        Destination.enabled.is_(True),
        Destination.archived_at.is_(None),
        Destination.suspended_at.is_(None),
        ~exists().where(
            _EARLIER.destination_id == Delivery.destination_id,
            _EARLIER.contact_id == Delivery.contact_id,
            _EARLIER.status == PENDING,
            _EARLIER.id < Delivery.id,
        ),
    )
    # ix_deliveries_due's order: the scan stops after ``limit`` rows, nothing is sorted.
    .order_by(Delivery.next_attempt_at, Delivery.id)
    .limit(bindparam("limit"))
)


def _leasing(due: Any) -> Any:
    """Lease the due rows in one statement (``WITH due AS (...) UPDATE ... FROM due RETURNING
    id``), still conditional row by row."""
    rows = due.cte("due")
    return (
        update(Delivery)
        .where(Delivery.id == rows.c.id, Delivery.status == PENDING, _FREE)
        .values(lease_until=bindparam("lease_until"), leased_by=bindparam("worker"))
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )


_LEASE = _leasing(_DUE)
_LEASE_SKIPPING_LOCKED = _leasing(_DUE.with_for_update(skip_locked=True, of=Delivery))
_LEASED = (
    select(Delivery.id, Delivery.message_id, Delivery.body, Destination)
    .join(Destination, Destination.id == Delivery.destination_id)
    .where(Delivery.id.in_(bindparam("ids", expanding=True)))
    .order_by(Delivery.id)
)


def claim(worker: str, now: datetime, limit: int, lease_seconds: float) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries to ``worker`` and commit.

    Due: pending, its time has come, not leased (or the lease ran out: its worker died), its
    destination active, and no earlier event for the same contact still pending at the same
    destination (events reach a receiver in the order they happened). On PostgreSQL rows other
    workers are claiming are skipped (``FOR UPDATE SKIP LOCKED``); on every engine the lease is
    taken with a conditional update, so a row is never leased to two workers at once. Two
    statements: select-and-lease in one, then read what was leased.
    """
    lease = _LEASE_SKIPPING_LOCKED if db.engine.dialect.name == "postgresql" else _LEASE
    lease_until = now + timedelta(seconds=lease_seconds)
    params = {"now": now, "limit": limit, "lease_until": lease_until, "worker": worker}
    taken = list(db.session.scalars(lease, params))
    if not taken:
        db.session.rollback()
        return []
    rows = db.session.execute(_LEASED, {"ids": taken}).all()
    claimed = [
        Claimed(
            row.id,
            row.Destination.id,
            row.Destination.url,
            signing_secrets(row.Destination, now),
            row.message_id,
            bytes(row.body),
        )
        for row in rows
    ]
    db.session.commit()
    return claimed


def signing_secrets(destination: Destination, now: datetime) -> tuple[str, ...]:
    """The current secret, and during a rotation the previous one as well."""
    if (
        destination.previous_secret
        and destination.previous_secret_until
        and destination.previous_secret_until > now
    ):
        return (destination.secret, destination.previous_secret)
    return (destination.secret,)


def record_attempt(
    claimed: Claimed, result: SendResult, worker: str, now: datetime, rng: Any = None
) -> str:
    """Store the attempt and move the delivery on; commit. Returns the delivery's status.

    A worker whose lease was taken over (it was too slow, or presumed dead) still logs its
    attempt but leaves the delivery to the worker that holds it now.
    """
    return record_attempts([(claimed, result)], worker, now, rng)[0]


def record_attempts(
    sent: Sequence[tuple[Claimed, SendResult]], worker: str, now: datetime, rng: Any = None
) -> list[str]:
    """:func:`record_attempt` for a whole batch in one transaction: one round of locks and one
    commit instead of one per delivery. Returns each delivery's status, in order."""
    found = {
        delivery.id: (delivery, destination)
        for delivery, destination in db.session.execute(
            select(Delivery, Destination)
            .join(Destination, Destination.id == Delivery.destination_id)
            .where(Delivery.id.in_([claimed.id for claimed, _ in sent]))
            .order_by(Delivery.id)
            .with_for_update(of=Delivery)
        )
    }
    statuses, attempts = [], []
    for claimed, result in sent:
        if claimed.id not in found:  # erased meanwhile
            statuses.append(DEAD)
            continue
        delivery, destination = found[claimed.id]
        attempts.append(_apply_attempt(delivery, destination, result, worker, now, rng))
        statuses.append(delivery.status)
    if attempts:  # one INSERT for all, no objects to track (the worker never reads them back)
        db.session.execute(insert(DeliveryAttempt), attempts)
    db.session.commit()
    return statuses


def _apply_attempt(
    delivery: Delivery,
    destination: Destination,
    result: SendResult,
    worker: str,
    now: datetime,
    rng: Any,
) -> dict[str, Any]:
    """Move the delivery on; returns the attempt's row, for the caller to insert."""
    verdict = webhooks.outcome(result.status)
    attempt = {
        "delivery_id": delivery.id,
        "destination_id": delivery.destination_id,
        "attempted_at": now,
        "duration_ms": result.duration_ms,
        "status_code": result.status,
        "outcome": verdict.value,
        "error": _clip(result.error),
        "response": _storable(result.response) or None,
        "worker": worker,
    }
    if delivery.leased_by == worker and delivery.status == PENDING:
        delivery.attempts += 1
        delivery.lease_until = None
        delivery.leased_by = None
        if verdict is Outcome.DELIVERED:
            _delivered(delivery, destination, now)
        else:
            _failed(delivery, destination, verdict, result, now, rng)
    return attempt


def _delivered(delivery: Delivery, destination: Destination, now: datetime) -> None:
    delivery.status = DELIVERED
    delivery.delivered_at = now
    delivery.last_error = None
    destination.failing_since = None


def _failed(
    delivery: Delivery,
    destination: Destination,
    verdict: Outcome,
    result: SendResult,
    now: datetime,
    rng: Any,
) -> None:
    delivery.failures += 1
    delivery.last_error = _clip(_describe(result))
    destination.failing_since = destination.failing_since or now
    if verdict is Outcome.GONE:
        # The delivery stays pending: it goes out first if the destination is re-enabled.
        delivery.next_attempt_at = now
        suspend(destination, now, f"The receiver answered 410 Gone at {_when(now)}.")
        return
    retry_after = None
    if result.status in _RETRY_AFTER_STATUSES:
        retry_after = webhooks.retry_after_seconds(result.retry_after, now)
    following = webhooks.next_attempt_at(delivery.failures, now, retry_after, rng)
    if following is None:
        delivery.status = DEAD
        delivery.dead_at = now
    else:
        delivery.next_attempt_at = following
    failing_for = now - destination.failing_since
    if failing_for >= timedelta(days=webhooks.FAILING_DAYS_BEFORE_DISABLE):
        suspend(
            destination,
            now,
            f"Every attempt failed for {webhooks.FAILING_DAYS_BEFORE_DISABLE} days "
            f"(since {_when(destination.failing_since)}).",
        )


def _describe(result: SendResult) -> str:
    if result.status is None:
        return result.error or "no answer"
    return f"HTTP {result.status}"


def _clip(text: str | None) -> str | None:
    return _storable(text)[:500] if text else text


def _storable(text: str | None) -> str | None:
    """``text`` without NUL characters, which PostgreSQL cannot store in a text column: what a
    receiver answers must never make its attempt impossible to record."""
    return text.replace("\x00", "\ufffd") if text else text


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def suspend(destination: Destination, now: datetime, reason: str) -> None:
    if destination.suspended_at is None:
        destination.suspended_at = now
        destination.suspended_reason = reason
