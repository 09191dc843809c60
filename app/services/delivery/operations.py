"""Operating a destination (DESIGN §6): re-enable, replay, test, backfill, rotate its secret;
finding one.

The verbs the console and the CLI call (``resume_destination``, ``replay_dead_letters``,
``queue_test_event``, ``backfill_destination``, ``rotate_signing_secret``,
``replay_destination_since``) find the destination by its site and key, act and commit, in one
unit of work. The building blocks they use (``resume``, ``replay``,
``send_test_event``, ``backfill``, ``replay_since``) change rows and leave the commit to their
caller's unit of work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from app.extensions import db
from app.models import Contact, Delivery, Destination, OutboxEvent, Site
from app.models.delivery import DEAD, PENDING
from app.services.delivery.status import dead_letter_ids, pending_count, state_of
from app.services.errors import Invalid, NotFound
from app.services.outbox import queue_delivery
from app.services.people import contact_payload
from app.services.siteconfig import rotate_generated_secret, site_snapshot
from app.services.transactions import commit_unit

TEST_EVENT = "webhook.test"
REPLAY_BATCH = 500


@dataclass(frozen=True)
class Queued:
    """What an operator's verb queued: how many deliveries, and the destination's state then
    (``active``, ``off`` or ``suspended``: they wait while it is not active)."""

    count: int
    state: str


# --- the operator's verbs (console and CLI): each one committed unit of work --------------------


def resume_destination(site_key: str, destination_key: str, now: datetime) -> int | None:
    """Lift the destination's suspension (see ``resume``). Returns how many deliveries are
    pending, now due; None, with nothing written, when it was not suspended."""

    def work() -> int | None:
        destination = find_destination(destination_key, site_key)
        if destination.suspended_at is None:
            return None
        resume(destination, now)
        return pending_count(destination)

    return commit_unit(work)


def replay_dead_letters(
    site_key: str,
    destination_key: str,
    now: datetime,
    delivery_ids: Sequence[int] | None = None,
    *,
    batch: int = REPLAY_BATCH,
) -> Queued:
    """Send the destination's dead letters ``delivery_ids`` (None: every one) again, now, each
    under its own ``webhook-id``; ``batch`` ids to a statement. Ids of other deliveries are
    passed over."""

    def work() -> Queued:
        destination = find_destination(destination_key, site_key)
        ids = dead_letter_ids(destination) if delivery_ids is None else list(delivery_ids)
        count = sum(
            replay(destination, ids[start : start + batch], now)
            for start in range(0, len(ids), batch)
        )
        return Queued(count, state_of(destination))

    return commit_unit(work)


def queue_test_event(site_key: str, destination_key: str, now: datetime) -> Queued:
    """Queue a ``webhook.test`` event for the destination alone (see ``send_test_event``)."""

    def work() -> Queued:
        destination = find_destination(destination_key, site_key)
        send_test_event(destination, site_key, now)
        return Queued(1, state_of(destination))

    return commit_unit(work)


def backfill_destination(site_key: str, destination_key: str, now: datetime) -> Queued:
    """Queue every known contact of the site for the destination (see ``backfill``); Invalid,
    with nothing written, when it does not receive ``contact.updated``."""

    def work() -> Queued:
        destination = find_destination(destination_key, site_key)
        count = backfill(destination, now)
        return Queued(count, state_of(destination))

    return commit_unit(work)


def rotate_signing_secret(site_key: str, destination_key: str, now: datetime) -> datetime:
    """Give the destination a generated signing secret; the previous one signs too until the
    returned time. Invalid, with nothing written, when its secret comes from the environment
    or a rotation is still under way (see ``siteconfig.rotate_generated_secret``)."""
    return commit_unit(
        lambda: rotate_generated_secret(find_destination(destination_key, site_key), now)
    )


def replay_destination_since(
    destination_key: str, site_key: str | None, since: datetime, now: datetime
) -> int:
    """``replay_since`` for the destination ``find_destination`` names, committed. NotFound or
    Invalid (as ``find_destination``) change nothing. Returns how many deliveries will go out."""

    def work() -> int:
        return replay_since(find_destination(destination_key, site_key), since, now)

    return commit_unit(work)


# --- building blocks: they change rows, the caller commits -------------------------------------------


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
