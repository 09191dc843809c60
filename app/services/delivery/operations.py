"""Operating a destination (DESIGN §6): re-enable, replay, test, backfill; finding one.

Each verb changes rows and leaves the commit to its caller's unit of work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from app.extensions import db
from app.models import Contact, Delivery, Destination, OutboxEvent, Site
from app.models.delivery import DEAD, PENDING
from app.services.errors import Invalid, NotFound
from app.services.outbox import queue_delivery
from app.services.transactions import commit_unit

TEST_EVENT = "webhook.test"


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
        queue_delivery(
            destination, event.type, event.contact_id, event.payload, event.created_at, event.id
        )
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
    delivery = queue_delivery(destination, TEST_EVENT, None, data, now, None)
    db.session.flush()
    return delivery


def backfill(destination: Destination, now: datetime, batch: int = 500) -> int:
    """Queue a ``contact.updated`` for every known contact of the site (those with at least one
    value), each carrying its whole current profile. Returns how many were queued."""
    from app.services.people import contact_payload
    from app.services.siteconfig import site_snapshot

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
                queue_delivery(destination, "contact.updated", contact.id, data, now, None)
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


# --- verbs that are a committed unit of their own (the CLI has no unit to join) ---------------


def replay_destination_since(
    destination_key: str, site_key: str | None, since: datetime, now: datetime
) -> int:
    """``replay_since`` for the destination ``find_destination`` names, committed. NotFound or
    Invalid (as ``find_destination``) change nothing. Returns how many deliveries will go out."""

    def work() -> int:
        return replay_since(find_destination(destination_key, site_key), since, now)

    return commit_unit(work)
