"""Writing outbox rows: every change a destination must hear of, in the change's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.extensions import db
from app.models import OutboxEvent
from app.services.delivery import enqueue_event


def record_outbox(
    site_id: int, event_type: str, contact_id: int | None, payload: dict[str, Any], now: datetime
) -> None:
    """Record the event and queue it for each destination that wants it, in the caller's
    transaction: the change, its event and its deliveries commit together or not at all."""
    event = OutboxEvent(
        site_id=site_id, type=event_type, contact_id=contact_id, payload=payload, created_at=now
    )
    db.session.add(event)
    enqueue_event(event)
