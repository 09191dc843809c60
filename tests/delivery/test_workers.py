"""Workers that die and workers side by side: a killed ``trickle worker`` loses nothing, a killed
worker sends again only what it had in flight, and four workers on PostgreSQL deliver each event
exactly once, in order per contact."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import Delivery, DeliveryAttempt
from app.services.delivery import DeliveryWorker
from tests.databases import settings_for
from tests.delivery.support import drain, queue_many, start_worker
from tests.receiver import Answer


def pending() -> int:
    db.session.rollback()  # a fresh snapshot: other processes and threads are writing
    return db.session.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.status == "pending")
    )


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


# --- 12: kill -9 ----------------------------------------------------------------------------------


def test_a_killed_worker_loses_nothing(app, database_url, clock, destination, receiver, tmp_path):
    # The worker runs on the real clock: queue the events in its past.
    clock.now = datetime.now(UTC) - timedelta(minutes=1)
    ids = queue_many(destination, 200, contacts=50, when=clock.now)
    receiver.delay(0.1)  # each batch stays in flight a while: a kill catches it leased
    log = tmp_path / "worker.log"
    rng = random.Random(12)
    killed: list[tuple[int, set[int]]] = []
    worker = start_worker(database_url, log)
    try:
        for _ in range(3):
            seen = len(receiver.received())
            receiver.wait_for(seen + rng.randint(5, 45), timeout=60)
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(10) == -signal.SIGKILL
            db.session.rollback()
            orphans = set(
                db.session.scalars(
                    select(Delivery.id).where(
                        Delivery.status == "pending",
                        Delivery.leased_by.like(f"%:{worker.pid}:%"),
                        Delivery.lease_until.is_not(None),
                    )
                )
            )
            assert orphans, "the kill should catch a batch in flight"
            killed.append((worker.pid, orphans))
            worker = start_worker(database_url, log)
        wait_until(lambda: pending() == 0, 60, "every delivery to be delivered")
        worker.send_signal(signal.SIGTERM)  # a clean stop after the batch in hand
        assert worker.wait(10) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    received = receiver.received()
    counts = Counter(r.headers["webhook-id"] for r in received)
    assert set(counts) == set(ids)  # every one arrived, at least once
    rows = {d.id: d for d in db.session.scalars(select(Delivery))}
    assert {d.status for d in rows.values()} == {"delivered"}
    assert all(d.lease_until is None and d.leased_by is None for d in rows.values())
    bodies = {d.message_id: bytes(d.body) for d in rows.values()}
    for request in received:  # duplicates are the same message, byte for byte
        assert request.body == bodies[request.headers["webhook-id"]]
    for pid, orphans in killed:
        for delivery_id in orphans:
            # The lease of the dead worker ran out and another worker delivered it.
            final = db.session.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == delivery_id)
                .order_by(DeliveryAttempt.id.desc())
                .limit(1)
            ).one()
            assert final.outcome == "delivered"
            assert f":{pid}:" not in final.worker
    resent = [i for i, n in counts.items() if n > 1]
    assert resent, "requests in flight at a kill are sent again"
    # Each contact's events arrived in order, counting first arrivals.
    first = {}
    for request in received:
        body = json.loads(request.body)["data"]
        first.setdefault(request.headers["webhook-id"], (body["contact_id"], body["n"]))
    by_contact: dict[int, list[int]] = {}
    for contact, n in first.values():
        by_contact.setdefault(contact, []).append(n)
    assert all(ns == sorted(ns) for ns in by_contact.values())
    assert "Traceback" not in log.read_text()


# --- issue 18, item 10: a kill sends again only what was in flight ------------------------------


def delivered_ids() -> set[str]:
    db.session.rollback()  # a fresh snapshot: the worker process is writing
    return set(
        db.session.scalars(select(Delivery.message_id).where(Delivery.status == "delivered"))
    )


def fork_worker(database_url: str, **settings: object) -> int:
    """A delivery worker in a process of its own on the real clock, running until it is killed:
    forked from this one, whose modules are already imported, it starts in milliseconds where
    ``trickle worker`` takes a second or two."""
    pid = os.fork()
    if pid == 0:  # the worker: it never returns into pytest
        try:
            forked = create_app(settings_for(database_url, ALLOW_PRIVATE_TARGETS=True, **settings))
            DeliveryWorker(forked).run(threading.Event())
        finally:
            os._exit(1)
    return pid


def test_a_killed_worker_sends_again_only_what_was_in_flight(
    app, database_url, clock, destination, receiver, worker
):
    clock.now = datetime.now(UTC) - timedelta(minutes=1)  # the worker runs on the real clock
    ids = queue_many(destination, 4, contacts=4, when=clock.now)  # one batch, sent side by side
    hung, fast = ids[0], set(ids[1:])
    receiver.script_for(hung, Answer(mode="hang"))  # answered by nobody until released
    killed = fork_worker(
        database_url,
        DELIVERY_BATCH=4,
        DELIVERY_TIMEOUT_SECONDS=30.0,  # the hung request outlives the kill
        DELIVERY_LEASE_SECONDS=60.0,
    )
    try:
        receiver.wait_for(len(ids), timeout=30)  # all four sent: the hung one is in flight
        receiver.wait_answered(fast, timeout=30)
        # The answers are out; the worker records them a moment later, without waiting for the
        # hung request (a worker that waits never gets there: then this gives up after 3 s).
        deadline = time.monotonic() + 3
        while delivered_ids() != fast and time.monotonic() < deadline:
            time.sleep(0.01)
        in_flight = Counter(receiver.ids()) - Counter(receiver.answered)
    finally:
        os.kill(killed, signal.SIGKILL)
        assert os.waitid(os.P_PID, killed, os.WEXITED).si_status == signal.SIGKILL
    assert in_flight == {hung: 1}
    assert delivered_ids() == fast  # recorded before the kill: these never go out again

    receiver.answer(200)  # the hung request ends (its sender is gone); answers are quick again
    clock.now = datetime.now(UTC) + timedelta(minutes=2)  # the dead worker's lease ran out
    assert drain(worker) == 1
    assert delivered_ids() == set(ids)
    resent = Counter(receiver.ids()) - Counter(ids)
    assert resent == in_flight  # duplicates: the request in flight at the kill, and nothing else
    rows = db.session.execute(
        select(Delivery.message_id, DeliveryAttempt.outcome, DeliveryAttempt.worker).join(
            Delivery, Delivery.id == DeliveryAttempt.delivery_id
        )
    ).all()
    by = {f":{killed}:": "killed", "test-worker": "fresh"}
    attempts = sorted((m, o, next(v for k, v in by.items() if k in w)) for m, o, w in rows)
    # The hung request's attempt died with its worker; each other one was recorded once.
    assert attempts == sorted(
        [(m, "delivered", "killed") for m in fast] + [(hung, "delivered", "fresh")]
    )


# --- 13: four workers ---------------------------------------------------------------------------


def test_four_workers_deliver_each_event_exactly_once(
    app, database_url, clock, destination, receiver, tmp_path
):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("several workers need PostgreSQL (SQLite mode is one machine, one worker)")
    clock.now = datetime.now(UTC) - timedelta(minutes=1)  # the workers run on the real clock
    ids = queue_many(destination, 4000, contacts=1000, when=clock.now)
    logs = [tmp_path / f"worker{i}.log" for i in range(4)]
    workers = [
        start_worker(
            database_url,
            log,
            TRICKLE_DELIVERY_LEASE_SECONDS="60",  # no lease runs out: any double send is a bug
            TRICKLE_DELIVERY_TIMEOUT_SECONDS="10",
            TRICKLE_DELIVERY_BATCH="50",
            TRICKLE_DELIVERY_POLL_SECONDS="0.05",
        )
        for log in logs
    ]
    try:
        receiver.wait_for(4000, timeout=120)
        wait_until(lambda: pending() == 0, 20, "the last attempts to be recorded")
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(15) for worker in workers]
    assert codes == [0, 0, 0, 0], [log.read_text()[-2000:] for log in logs]
    for log in logs:
        assert "Traceback" not in log.read_text()

    received = receiver.ids()
    assert len(received) == 4000
    assert sorted(received) == sorted(ids)  # all of them, each once
    rows = db.session.execute(select(Delivery.status, Delivery.attempts)).all()
    assert Counter(rows) == {("delivered", 1): 4000}
    attempts = db.session.execute(
        select(DeliveryAttempt.delivery_id, DeliveryAttempt.worker, DeliveryAttempt.outcome)
    ).all()
    assert len({a.delivery_id for a in attempts}) == len(attempts) == 4000  # one claim each
    assert Counter(a.outcome for a in attempts) == {"delivered": 4000}
    by_worker = Counter(a.worker.split(":")[1] for a in attempts)
    assert sorted(by_worker) == sorted(str(worker.pid) for worker in workers)
    assert min(by_worker.values()) > 100  # they really worked side by side
    # Each contact's four events arrived in the order they happened.
    order = {message_id: n for n, message_id in enumerate(ids)}
    by_contact: dict[int, list[int]] = {}
    for message_id in received:
        by_contact.setdefault(order[message_id] % 1000, []).append(order[message_id])
    assert len(by_contact) == 1000
    assert all(ns == sorted(ns) for ns in by_contact.values())
