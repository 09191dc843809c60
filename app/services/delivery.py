"""Webhook deliveries (DESIGN §6): queueing, claiming, recording attempts, replay and backfill.

An event becomes one ``Delivery`` per destination that subscribes to it, in the transaction
that made the change (so a change and its deliveries exist together or not at all). Workers
claim due rows with a lease, send them without holding a transaction, and record each attempt in
a short write transaction of its own. The rules — what an answer means, when to try again — are
in ``app.domain.webhooks``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import aliased

from app.domain import webhooks
from app.domain.webhooks import Outcome
from app.extensions import db
from app.models import (
    Contact,
    Delivery,
    DeliveryAttempt,
    Destination,
    OutboxEvent,
    Site,
)
from app.models.delivery import DEAD, DELIVERED, PENDING
from app.services.errors import Invalid, NotFound
from app.services.webhook_http import SendResult

TEST_EVENT = "webhook.test"
# A 429 or 503 may say when to come back; other answers may not move the schedule.
_RETRY_AFTER_STATUSES = (429, 503)


def new_message_id() -> str:
    """A ``webhook-id``: unique, opaque, the same for every attempt at one delivery."""
    return "msg_" + secrets.token_urlsafe(18)


def enqueue_event(
    event: OutboxEvent, destinations: Sequence[Destination] | None = None
) -> list[Delivery]:
    """Queue ``event`` (just added to the session) for every destination of its site that wants
    it, or for exactly ``destinations`` (an erasure tells whoever received the person); returns
    the deliveries queued.

    Destinations switched off in the config get nothing; a suspended one (410, failing for
    days) still queues, so re-enabling it sends what happened meanwhile, in order.
    """
    if destinations is None:
        active = db.session.scalars(
            select(Destination).where(
                Destination.site_id == event.site_id,
                Destination.enabled.is_(True),
                Destination.archived_at.is_(None),
            )
        ).all()
        destinations = [d for d in active if event.type in (d.events or ())]
    if not destinations:
        return []
    db.session.flush()  # the event's id
    return [
        _queue(d, event.type, event.contact_id, event.payload, event.created_at, event.id)
        for d in destinations
    ]


def _queue(
    destination: Destination,
    event_type: str,
    contact_id: int | None,
    data: dict[str, Any],
    occurred_at: datetime,
    outbox_event_id: int | None,
    message_id: str | None = None,
) -> Delivery:
    message_id = message_id or new_message_id()
    body = webhooks.encode(
        webhooks.payload(
            destination.format,
            event_type,
            message_id,
            occurred_at,
            data,
            destination.mapping or {},
        )
    )
    delivery = Delivery(
        site_id=destination.site_id,
        destination_id=destination.id,
        outbox_event_id=outbox_event_id,
        event_type=event_type,
        contact_id=contact_id,
        message_id=message_id,
        body=body,
        status=PENDING,
        next_attempt_at=occurred_at,
        created_at=occurred_at,
    )
    db.session.add(delivery)
    return delivery


def follow_merge(absorbed_id: int, survivor_id: int) -> None:
    """Queue what is still pending for a merged-away contact behind its survivor: the merge
    event (and whatever follows) goes out only after the absorbed contact's earlier events."""
    db.session.execute(
        update(Delivery)
        .where(Delivery.contact_id == absorbed_id, Delivery.status == PENDING)
        .values(contact_id=survivor_id)
        .execution_options(synchronize_session=False)
    )


# --- claiming and recording (the worker's side) -----------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """Everything needed to send one delivery, read while the lease was taken."""

    id: int
    destination_id: int
    url: str
    secrets: tuple[str, ...]
    message_id: str
    body: bytes


def claim(worker: str, now: datetime, limit: int, lease_seconds: float) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries to ``worker`` and commit.

    Due: pending, its time has come, not leased (or the lease ran out: its worker died), its
    destination active, and no earlier event for the same contact still pending at the same
    destination (events reach a receiver in the order they happened). On PostgreSQL rows other
    workers are claiming are skipped (``FOR UPDATE SKIP LOCKED``); on every engine the lease is
    taken with a conditional update, so a row is never leased to two workers at once.
    """
    earlier = aliased(Delivery)
    blocked = exists().where(
        earlier.destination_id == Delivery.destination_id,
        earlier.contact_id == Delivery.contact_id,
        earlier.status == PENDING,
        earlier.id < Delivery.id,
    )
    free = or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now)
    query = (
        select(Delivery.id)
        .join(Destination, Destination.id == Delivery.destination_id)
        .where(
            Delivery.status == PENDING,
            Delivery.next_attempt_at <= now,
            free,
            Destination.enabled.is_(True),
            Destination.archived_at.is_(None),
            Destination.suspended_at.is_(None),
            ~blocked,
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Delivery)
    ids = list(db.session.scalars(query))
    if not ids:
        db.session.rollback()
        return []
    lease_until = now + timedelta(seconds=lease_seconds)
    # One statement for the batch, still conditional row by row.
    taken = list(
        db.session.scalars(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.status == PENDING, free)
            .values(lease_until=lease_until, leased_by=worker)
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        )
    )
    rows = db.session.execute(
        select(Delivery.id, Delivery.message_id, Delivery.body, Destination)
        .join(Destination, Destination.id == Delivery.destination_id)
        .where(Delivery.id.in_(taken))
        .order_by(Delivery.id)
    ).all()
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
    statuses = []
    for claimed, result in sent:
        if claimed.id not in found:  # erased meanwhile
            statuses.append(DEAD)
            continue
        delivery, destination = found[claimed.id]
        _apply_attempt(delivery, destination, result, worker, now, rng)
        statuses.append(delivery.status)
    db.session.commit()
    return statuses


def _apply_attempt(
    delivery: Delivery,
    destination: Destination,
    result: SendResult,
    worker: str,
    now: datetime,
    rng: Any,
) -> None:
    verdict = webhooks.outcome(result.status)
    db.session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            destination_id=delivery.destination_id,
            attempted_at=now,
            duration_ms=result.duration_ms,
            status_code=result.status,
            outcome=verdict.value,
            error=_clip(result.error),
            response=_storable(result.response) or None,
            worker=worker,
        )
    )
    if delivery.leased_by == worker and delivery.status == PENDING:
        delivery.attempts += 1
        delivery.lease_until = None
        delivery.leased_by = None
        if verdict is Outcome.DELIVERED:
            _delivered(delivery, destination, now)
        else:
            _failed(delivery, destination, verdict, result, now, rng)


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


# --- operating: re-enable, replay, test, backfill -------------------------------------------------


def resume(destination: Destination, now: datetime) -> None:
    """Lift a suspension: the failure streak starts again and queued deliveries go out now,
    each with the whole retry schedule ahead of it."""
    destination.suspended_at = None
    destination.suspended_reason = None
    destination.failing_since = None
    db.session.execute(
        update(Delivery)
        .where(Delivery.destination_id == destination.id, Delivery.status == PENDING)
        .values(next_attempt_at=now, failures=0)
        .execution_options(synchronize_session=False)
    )


def replay(destination: Destination, delivery_ids: Iterable[int], now: datetime) -> int:
    """Send dead-lettered deliveries again, now, under their own ``webhook-id``."""
    ids = list(delivery_ids)
    if not ids:
        return 0
    result = db.session.execute(
        update(Delivery)
        .where(
            Delivery.destination_id == destination.id,
            Delivery.status == DEAD,
            Delivery.id.in_(ids),
        )
        .values(_requeued(now))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


def replay_since(destination: Destination, since: datetime, now: datetime) -> int:
    """Send again every event since ``since`` the destination subscribes to: deliveries that
    exist go out again under their own ``webhook-id``, events it never got are queued now.
    Returns how many deliveries will go out."""
    events = db.session.scalars(
        select(OutboxEvent)
        .where(
            OutboxEvent.site_id == destination.site_id,
            OutboxEvent.created_at >= since,
            OutboxEvent.type.in_(list(destination.events or ())),
        )
        .order_by(OutboxEvent.id)
    ).all()
    existing = dict(
        db.session.execute(
            select(Delivery.outbox_event_id, Delivery.id).where(
                Delivery.destination_id == destination.id,
                Delivery.outbox_event_id.in_([event.id for event in events]),
            )
        ).all()
    )
    count = 0
    for event in events:
        if event.id in existing:
            continue
        _queue(destination, event.type, event.contact_id, event.payload, event.created_at, event.id)
        count += 1
    # Direct deliveries (test events, backfill) since then, and those of the events above.
    again = db.session.execute(
        update(Delivery)
        .where(
            Delivery.destination_id == destination.id,
            Delivery.status != PENDING,
            Delivery.created_at >= since,
        )
        .values(_requeued(now))
        .execution_options(synchronize_session=False)
    )
    return count + int(again.rowcount)


def _requeued(now: datetime) -> dict[str, Any]:
    return {
        "status": PENDING,
        "failures": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "leased_by": None,
        "dead_at": None,
    }


def send_test_event(destination: Destination, site_key: str, now: datetime) -> Delivery:
    """Queue a ``webhook.test`` event for this destination alone."""
    data = {
        "site": site_key,
        "destination": destination.key,
        "message": "A test event from Trickle: this destination is set up.",
    }
    delivery = _queue(destination, TEST_EVENT, None, data, now, None)
    db.session.flush()
    return delivery


def backfill(destination: Destination, now: datetime, batch: int = 500) -> int:
    """Queue a ``contact.updated`` for every known contact of the site (those with at least one
    value), each carrying its whole current profile. Returns how many were queued."""
    from app.services.contacts import contact_payload
    from app.services.snapshots import site_snapshot

    if "contact.updated" not in (destination.events or ()):
        raise Invalid(
            "This destination does not receive contact.updated events; add that event first."
        )
    site_row = db.session.get(Site, destination.site_id)
    assert site_row is not None
    site = site_snapshot(site_row.key)
    count, last_id = 0, 0
    while True:
        contacts = db.session.scalars(
            select(Contact)
            .where(Contact.site_id == destination.site_id, Contact.id > last_id)
            .order_by(Contact.id)
            .limit(batch)
        ).all()
        if not contacts:
            return count
        for contact in contacts:
            data = contact_payload(site, contact, changed=None, now=now)
            if data["profile"]:
                _queue(destination, "contact.updated", contact.id, data, now, None)
                count += 1
        last_id = contacts[-1].id
        db.session.flush()


# --- finding a destination, reading a time (admin and the CLI) --------------------------------------


def find_destination(destination_key: str, site_key: str | None = None) -> Destination:
    """The active destination with this key (on ``site_key`` when given); NotFound when there
    is none, Invalid when several sites use the key and no site was named."""
    query = (
        select(Destination, Site.key)
        .join(Site, Site.id == Destination.site_id)
        .where(Destination.key == destination_key, Destination.archived_at.is_(None))
    )
    if site_key is not None:
        query = query.where(Site.key == site_key)
    found = db.session.execute(query.order_by(Site.key)).all()
    if not found:
        where = f' on site "{site_key}"' if site_key is not None else ""
        raise NotFound(f'No destination "{destination_key}"{where}.')
    if len(found) > 1:
        sites = ", ".join(row.key for row in found)
        raise Invalid(f'Several sites have a destination "{destination_key}" ({sites}); name one.')
    return found[0].Destination


_SPAN = re.compile(r"(\d+)\s*([mhd])")
_SPAN_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str, now: datetime) -> datetime:
    """``6h``, ``30m``, ``3d`` back from ``now``, or an ISO date / date-time (UTC unless it says
    otherwise); Invalid for anything else or a time in the future."""
    text = text.strip()
    span = _SPAN.fullmatch(text)
    if span:
        try:
            moment = now - timedelta(**{_SPAN_UNITS[span[2]]: int(span[1])})
        except OverflowError:
            raise Invalid(f'"{text}" is too far back.') from None
    else:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise Invalid(
                f'"{text}" is not a time: use an ISO date or time (2026-11-20, '
                "2026-11-20T09:00Z) or a span back from now (30m, 6h, 3d)."
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    if moment > now:
        raise Invalid(f'"{text}" is in the future.')
    return moment
