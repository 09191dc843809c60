"""The demo's webhook inbox: a receiver inside the app itself, so that ``make run`` shows the
delivery worker at work without a second program.

``trickle demo --inbox-url URL`` adds the destination ``inbox`` to the demo site, pointing at
this app's /demo/inbox. The inbox exists only while the demo site has that destination; it
accepts a request only when it is signed with that destination's secret (Standard Webhooks,
five minutes' clock tolerance) and keeps the last ``KEPT`` in this process's memory: it is a
demo, so a restart empties it and every server process has its own.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.domain import webhooks
from app.extensions import db
from app.models import Destination, Site
from app.services.delivery import signing_secrets
from app.services.siteconfig import EVENTS

DEMO_SITE = "demo"
INBOX_DESTINATION = "inbox"
INBOX_EVENTS = EVENTS  # the demo's inbox shows every kind of webhook Trickle sends
KEPT = 50
MAX_BODY_BYTES = 32 * 1024
TOLERANCE_SECONDS = 5 * 60
_EXTENSION = "trickle.demo_inbox"


def with_inbox(config: Mapping[str, Any], url: str) -> dict[str, Any]:
    """``config`` (the demo site's) with the inbox destination at ``url``."""
    others = [d for d in config.get("destinations") or [] if d.get("key") != INBOX_DESTINATION]
    inbox = {"key": INBOX_DESTINATION, "url": url, "events": list(INBOX_EVENTS)}
    return {**config, "destinations": [*others, inbox]}


def inbox_secrets(now: datetime) -> tuple[str, ...]:
    """The secrets that sign the inbox's deliveries now (two during a rotation); none when the
    demo site or its inbox destination is not loaded."""
    destination = db.session.scalars(
        select(Destination)
        .join(Site, Site.id == Destination.site_id)
        .where(
            Site.key == DEMO_SITE,
            Destination.key == INBOX_DESTINATION,
            Destination.archived_at.is_(None),
        )
    ).one_or_none()
    return signing_secrets(destination, now) if destination is not None else ()


class Rejected(Exception):
    """A request the inbox refuses: ``status`` and a reason for the sender's log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Received:
    webhook_id: str
    received_at: datetime
    event_type: str
    body: str  # the JSON, indented for reading


def accept(
    secrets: tuple[str, ...], headers: Mapping[str, str], body: bytes, now: datetime
) -> Received:
    """The request as an inbox entry when it is genuine and fresh; Rejected otherwise."""
    message_id = headers.get("webhook-id") or ""
    timestamp = headers.get("webhook-timestamp") or ""
    given = (headers.get("webhook-signature") or "").split()
    if not (message_id and timestamp and given):
        raise Rejected(400, "webhook-id, webhook-timestamp and webhook-signature are required")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise Rejected(400, "webhook-timestamp must be a Unix time in seconds")
    if abs(now.timestamp() - int(timestamp)) > TOLERANCE_SECONDS:
        raise Rejected(401, "webhook-timestamp is more than 5 minutes from now")
    expected = webhooks.signature(secrets, message_id, int(timestamp), body).split()
    if not any(
        hmac.compare_digest(e.encode(), g.encode("utf-8", "replace"))
        for e in expected
        for g in given
    ):
        raise Rejected(401, "no valid signature")
    try:
        payload = json.loads(body)
    except ValueError:
        raise Rejected(400, "the body is not JSON") from None
    kind = payload.get("type") if isinstance(payload, dict) else None
    text = json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True)
    return Received(message_id, now, str(kind or "?"), text)


class Inbox:
    """The last ``size`` requests received, newest first; a retry (same webhook-id) is kept once."""

    def __init__(self, size: int = KEPT) -> None:
        self._entries: deque[Received] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, entry: Received) -> bool:
        """Keep ``entry``; False when its webhook-id is already here (a duplicate)."""
        with self._lock:
            if any(e.webhook_id == entry.webhook_id for e in self._entries):
                return False
            self._entries.appendleft(entry)
            return True

    def entries(self) -> list[Received]:
        with self._lock:
            return list(self._entries)


def inbox_of(app: Flask) -> Inbox:
    inbox: Inbox = app.extensions.setdefault(_EXTENSION, Inbox())
    return inbox
