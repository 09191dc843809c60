"""Sending the outbox downstream (DESIGN §6): the worker and its attempts, operating a
destination (resume, replay, test, backfill) and what the console and CLI show of it.

Inside: ``attempts`` (claiming due rows, recording attempts), ``worker`` (the loop),
``http`` (one signed POST to a checked address), ``operations`` (the operator's verbs),
``status`` (read-only views of destinations and their queues).
"""

from app.services.delivery.attempts import signing_secrets
from app.services.delivery.operations import (
    backfill,
    find_destination,
    parse_since,
    replay,
    replay_destination_since,
    resume,
    send_test_event,
)
from app.services.delivery.status import (
    dead_letter_ids,
    destination_overview,
    destination_page,
    pending_count,
    site_destinations,
    state_of,
    suspended_destinations,
)
from app.services.delivery.worker import DeliveryWorker

__all__ = [
    "DeliveryWorker",
    "backfill",
    "dead_letter_ids",
    "destination_overview",
    "destination_page",
    "find_destination",
    "parse_since",
    "pending_count",
    "replay",
    "replay_destination_since",
    "resume",
    "send_test_event",
    "signing_secrets",
    "site_destinations",
    "state_of",
    "suspended_destinations",
]
