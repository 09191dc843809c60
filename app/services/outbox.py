"""Writing outbox rows: every change a destination must hear of, in the change's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.extensions import db
from app.models import Delivery, Destination, OutboxEvent
from app.services.delivery import enqueue_event


def record_outbox(
    site_id: int,
    event_type: str,
    contact_id: int | None,
    payload: dict[str, Any],
    now: datetime,
    *,
    destinations: Sequence[Destination] | None = None,
) -> list[Delivery]:
    """Record the event and queue it for each destination that wants it (or for exactly
    ``destinations``), in the caller's transaction: the change, its event and its deliveries
    commit together or not at all. Returns the deliveries queued."""
    event = OutboxEvent(
        site_id=site_id, type=event_type, contact_id=contact_id, payload=payload, created_at=now
    )
    db.session.add(event)
    return enqueue_event(event, destinations)
