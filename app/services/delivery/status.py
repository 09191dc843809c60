"""What the console and ``trickle deliveries status`` show of webhook destinations: the list,
one destination's page, and the suspended ones every console page warns about.

Read only: nothing here writes or commits. Writing (replay, resume, test events, backfill) is
``operations``, whose verbs each commit their own unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models import Delivery, DeliveryAttempt, Destination, Site
from app.models.delivery import DEAD, DELIVERED, PENDING
from app.services.errors import NotFound

RECENT_ATTEMPTS = 50
DEAD_LETTERS_SHOWN = 200


@dataclass(frozen=True)
class DestinationRow:
    """One line of a destination list."""

    site_key: str
    destination: Destination
    state: str  # active | off | suspended
    pending: int
    delivered: int
    dead: int


@dataclass(frozen=True)
class DestinationPage:
    """Everything one destination's page shows besides the destination itself."""

    state: str
    pending: int
    delivered: int
    dead: int
    next_attempt_at: datetime | None
    attempts: list[Any]  # rows of (DeliveryAttempt, message_id, event_type), newest first
    dead_letters: list[Delivery]  # the oldest DEAD_LETTERS_SHOWN


@dataclass(frozen=True)
class Suspension:
    site_key: str
    site_name: str
    key: str
    reason: str | None
    suspended_at: datetime


def site_destinations(site_key: str) -> list[DestinationRow]:
    """The site's active (not deleted) destinations in config order, with delivery counts;
    NotFound for an unknown site."""
    if db.session.scalar(select(Site.id).where(Site.key == site_key)) is None:
        raise NotFound(f'No site "{site_key}".')
    return destination_overview(site_key)


def destination_overview(site_key: str | None = None) -> list[DestinationRow]:
    """Active destinations (of ``site_key``, else of every site) by site and config order, with
    delivery counts."""
    query = (
        select(Destination, Site.key)
        .join(Site, Site.id == Destination.site_id)
        .where(Destination.archived_at.is_(None))
        .order_by(Site.key, Destination.position, Destination.id)
    )
    if site_key is not None:
        query = query.where(Site.key == site_key)
    rows = db.session.execute(query).all()
    by_status = counts([row.Destination.id for row in rows])
    return [
        DestinationRow(
            row.key,
            row.Destination,
            state_of(row.Destination),
            by_status[row.Destination.id][PENDING],
            by_status[row.Destination.id][DELIVERED],
            by_status[row.Destination.id][DEAD],
        )
        for row in rows
    ]


def state_of(destination: Destination) -> str:
    if not destination.enabled:
        return "off"
    return "suspended" if destination.suspended_at is not None else "active"


def counts(destination_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Deliveries by status for each destination."""
    found: dict[int, dict[str, int]] = {
        i: {PENDING: 0, DELIVERED: 0, DEAD: 0} for i in destination_ids
    }
    rows = db.session.execute(
        select(Delivery.destination_id, Delivery.status, func.count())
        .where(Delivery.destination_id.in_(list(destination_ids)))
        .group_by(Delivery.destination_id, Delivery.status)
    )
    for destination_id, status, n in rows:
        found[destination_id][status] = n
    return found


def destination_page(destination: Destination) -> DestinationPage:
    by_status = counts([destination.id])[destination.id]
    return DestinationPage(
        state=state_of(destination),
        pending=by_status[PENDING],
        delivered=by_status[DELIVERED],
        dead=by_status[DEAD],
        next_attempt_at=next_attempt_at(destination),
        attempts=recent_attempts(destination, RECENT_ATTEMPTS),
        dead_letters=dead_letters(destination, DEAD_LETTERS_SHOWN),
    )


def next_attempt_at(destination: Destination) -> datetime | None:
    """When the earliest pending delivery is due; None when nothing is pending."""
    return db.session.scalar(
        select(func.min(Delivery.next_attempt_at)).where(
            Delivery.destination_id == destination.id, Delivery.status == PENDING
        )
    )


def pending_count(destination: Destination) -> int:
    return counts([destination.id])[destination.id][PENDING]


def dead_letter_ids(destination: Destination) -> list[int]:
    """Every dead letter of ``destination``, oldest first (for "Replay all")."""
    return list(
        db.session.scalars(
            select(Delivery.id)
            .where(Delivery.destination_id == destination.id, Delivery.status == DEAD)
            .order_by(Delivery.id)
        )
    )


def suspended_destinations(site_key: str | None = None) -> list[Suspension]:
    """Destinations suspended by their receiver's answers (on ``site_key``, else every site),
    by site and config order. A destination switched off in the config is not listed: that was
    someone's choice, not something to warn about."""
    query = (
        select(Destination, Site.key, Site.name)
        .join(Site, Site.id == Destination.site_id)
        .where(
            Destination.archived_at.is_(None),
            Destination.enabled.is_(True),
            Destination.suspended_at.is_not(None),
        )
        .order_by(Site.name, Site.key, Destination.position, Destination.id)
    )
    if site_key is not None:
        query = query.where(Site.key == site_key)
    return [
        Suspension(
            row.key,
            row.name,
            row.Destination.key,
            row.Destination.suspended_reason,
            row.Destination.suspended_at,
        )
        for row in db.session.execute(query).all()
    ]


def recent_attempts(destination: Destination, limit: int = 50) -> list[Any]:
    return list(
        db.session.execute(
            select(DeliveryAttempt, Delivery.message_id, Delivery.event_type)
            .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
            .where(DeliveryAttempt.destination_id == destination.id)
            .order_by(DeliveryAttempt.attempted_at.desc(), DeliveryAttempt.id.desc())
            .limit(limit)
        ).all()
    )


def dead_letters(destination: Destination, limit: int = 200) -> list[Delivery]:
    return list(
        db.session.scalars(
            select(Delivery)
            .where(Delivery.destination_id == destination.id, Delivery.status == DEAD)
            .order_by(Delivery.id)
            .limit(limit)
        )
    )
