"""The outbox: every change a destination must hear of, written in the change's transaction.

An event becomes one ``Delivery`` per destination that subscribes to it, in the transaction
that made the change (so a change and its deliveries exist together or not at all). The
delivery package sends them; every capability that changes a person writes here.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from app.domain import webhooks
from app.extensions import db
from app.models import Delivery, Destination, OutboxEvent
from app.models.delivery import PENDING
from app.services.transactions import insert_rows


def record_outbox(
    site_id: int,
    event_type: str,
    contact_id: int | None,
    payload: dict[str, Any],
    now: datetime,
    *,
    destinations: Sequence[Destination] | None = None,
    sparing: str | None = None,
) -> list[Delivery]:
    """Record the event and queue it for each destination that wants it (or for exactly
    ``destinations``), in the caller's transaction: the change, its event and its deliveries
    commit together or not at all. ``sparing``: the key of a destination not to queue it for
    (the one the change came from). Returns the deliveries queued."""
    event = OutboxEvent(
        site_id=site_id, type=event_type, contact_id=contact_id, payload=payload, created_at=now
    )
    db.session.add(event)
    return enqueue_event(event, destinations, sparing)


def new_message_id() -> str:
    """A ``webhook-id``: unique, opaque, the same for every attempt at one delivery."""
    return "msg_" + secrets.token_urlsafe(18)


def enqueue_event(
    event: OutboxEvent,
    destinations: Sequence[Destination] | None = None,
    sparing: str | None = None,
) -> list[Delivery]:
    """Queue ``event`` (just added to the session) for every destination of its site that wants
    it, or for exactly ``destinations`` (an erasure tells whoever received the person); returns
    the deliveries queued.

    Destinations switched off in the config get nothing; a suspended one (410, failing for
    days) still queues, so re-enabling it sends what happened meanwhile, in order.
    """
    if destinations is None:
        destinations = subscribers(event.site_id, event.type, sparing)
    if not destinations:
        return []
    db.session.flush()  # the event's id
    return [
        queue_delivery(d, event.type, event.contact_id, event.payload, event.created_at, event.id)
        for d in destinations
    ]


def subscribers(site_id: int, event_type: str, sparing: str | None = None) -> list[Destination]:
    """The site's destinations that want ``event_type`` now: enabled, not archived, and not
    the one keyed ``sparing``."""
    active = db.session.scalars(
        select(Destination).where(
            Destination.site_id == site_id,
            Destination.enabled.is_(True),
            Destination.archived_at.is_(None),
        )
    ).all()
    return [d for d in active if event_type in (d.events or ()) and d.key != sparing]


def record_outbox_many(
    site_id: int,
    event_type: str,
    events: Sequence[tuple[int | None, dict[str, Any]]],
    now: datetime,
    *,
    sparing: str | None = None,
) -> None:
    """``record_outbox`` for many events of one type (each a contact id and its payload): the
    events in one statement (straight to the driver when no destination wants them, see
    ``insert_rows``), their deliveries queued as ``record_outbox`` queues them (the session
    inserts them together). The events' ids follow the order of ``events``."""
    if not events:
        return
    destinations = subscribers(site_id, event_type, sparing)
    table = OutboxEvent.__table__
    if not destinations:
        fixed = {"site_id": site_id, "type": event_type, "created_at": now}
        insert_rows(table, ("contact_id", "payload"), events, fixed)
        return
    rows = [
        {
            "site_id": site_id,
            "type": event_type,
            "contact_id": contact_id,
            "payload": payload,
            "created_at": now,
        }
        for contact_id, payload in events
    ]
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids = db.session.scalars(statement, rows).all()
    for event_id, (contact_id, payload) in zip(ids, events, strict=True):
        for destination in destinations:
            queue_delivery(destination, event_type, contact_id, payload, now, event_id)


def queue_delivery(
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
