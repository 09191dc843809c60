"""Helpers for delivery tests: a destination config, running the worker dry, queueing and reading
deliveries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from app.clock import current_time
from app.extensions import db
from app.models import Delivery, DeliveryAttempt, Destination, Site
from app.services.delivery import DeliveryWorker
from app.services.outbox import record_outbox
from tests.factories import acme_config

TRICKLE = Path(sys.executable).with_name("trickle")


def destination_config(url: str, **overrides: object) -> dict[str, object]:
    destination = {
        "key": "crm",
        "url": url,
        "events": ["contact.updated", "contact.merged"],
        **overrides,
    }
    return acme_config(destinations=[destination])


def drain(worker: DeliveryWorker) -> int:
    """Run the worker until nothing is due now; returns how many attempts it made."""
    total = 0
    while sent := worker.run_once():
        total += sent
    return total


def queue(site: Site, contact_id: int | None, n: int = 0, when=None) -> Delivery:
    """Record one ``contact.updated`` outbox event for ``contact_id`` now (or at ``when``) and
    commit; returns the delivery queued for the ``crm`` destination."""
    now = when or current_time()
    data = {"contact_id": contact_id, "n": n, "changed": ["first_name"], "profile": {"n": n}}
    record_outbox(site.id, "contact.updated", contact_id, data, now)
    db.session.commit()
    return db.session.scalars(select(Delivery).order_by(Delivery.id.desc()).limit(1)).one()


def deliveries() -> list[Delivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(Delivery).order_by(Delivery.id)))


def attempts_of(delivery: Delivery) -> list[DeliveryAttempt]:
    return list(
        db.session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id == delivery.id)
            .order_by(DeliveryAttempt.id)
        )
    )


def fresh(row):
    """``row`` as the database holds it now (workers commit in their own sessions)."""
    db.session.refresh(row)
    return row


def queue_many(destination: Destination, count: int, contacts: int, when) -> list[str]:
    """``count`` deliveries to ``destination`` at ``when``, for ``contacts`` contacts in turn,
    queued (and committed) in one go; returns their webhook-ids in queue order."""
    from app.services.outbox import queue_delivery as _queue

    queued = [
        _queue(
            destination,
            "contact.updated",
            n % contacts + 1,
            {"contact_id": n % contacts + 1, "n": n, "changed": [], "profile": {}},
            when,
            None,
        )
        for n in range(count)
    ]
    ids = [delivery.message_id for delivery in queued]  # before the commit expires them
    db.session.commit()
    return ids


def start_worker(database_url: str, log: Path, **settings: str) -> subprocess.Popen:
    """``trickle worker`` in its own process, on the test's database, logging to ``log``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRICKLE_")}
    env.update(
        TRICKLE_DATABASE_URL=database_url,
        TRICKLE_SECRET_KEY="worker-test",
        TRICKLE_ALLOW_PRIVATE_TARGETS="true",
        TRICKLE_DELIVERY_LEASE_SECONDS="1",
        TRICKLE_DELIVERY_POLL_SECONDS="0.05",
        TRICKLE_DELIVERY_TIMEOUT_SECONDS="0.8",
    )
    env.update(settings)
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(TRICKLE), "worker"],
            env=env,
            cwd=Path(__file__).resolve().parents[2],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
