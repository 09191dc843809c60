"""Writing outbox rows: every change a destination must hear of, in the change's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.extensions import db
from app.models import OutboxEvent


def record_outbox(
    site_id: int, event_type: str, contact_id: int | None, payload: dict[str, Any], now: datetime
) -> None:
    db.session.add(
        OutboxEvent(
            site_id=site_id, type=event_type, contact_id=contact_id, payload=payload, created_at=now
        )
    )
