"""Sending the outbox downstream (DESIGN §6): the worker and its attempts, operating a
destination (replay, test, backfill) and what the console and CLI show of it.

Inside: ``attempts`` (claiming due rows, recording attempts), ``worker`` (the loop),
``http`` (one signed POST to a checked address), ``operations`` (the operator's verbs, each
one committed unit of work), ``status`` (read-only views of destinations and their queues).
"""

from app.services.delivery.attempts import signing_secrets
from app.services.delivery.operations import (
    Queued,
    backfill_destination,
    find_destination,
    parse_since,
    queue_test_event,
    replay_dead_letters,
    replay_destination_since,
    resume_destination,
    rotate_signing_secret,
)
from app.services.delivery.status import (
    destination_overview,
    destination_page,
    site_destinations,
    suspended_destinations,
)
from app.services.delivery.worker import DeliveryWorker

__all__ = [
    "DeliveryWorker",
    "Queued",
    "backfill_destination",
    "destination_overview",
    "destination_page",
    "find_destination",
    "parse_since",
    "queue_test_event",
    "replay_dead_letters",
    "replay_destination_since",
    "resume_destination",
    "rotate_signing_secret",
    "signing_secrets",
    "site_destinations",
    "suspended_destinations",
]
