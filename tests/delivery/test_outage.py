"""Nothing is lost when the receiver is down: six hours of outage, a thousand submissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Delivery, DeliveryAttempt, OutboxEvent
from app.services.asking import SubmitInput, ask_questions, submit_answers
from tests.delivery.support import drain
from tests.receiver import verify

SUBMISSIONS = 1000
OUTAGE = timedelta(hours=6)
WORKER_EVERY = timedelta(minutes=30)
SUBMITS_EACH = 5


@pytest.fixture
def app_settings() -> dict[str, object]:
    # Fewer, larger claims (TRICKLE_DELIVERY_BATCH); the rules are the same.
    return {"ALLOW_PRIVATE_TARGETS": True, "DELIVERY_TIMEOUT_SECONDS": 2.0, "DELIVERY_BATCH": 50}


class Visitor:
    """One browser: asked once, then submitting again and again (the ask token allows it),
    each time with a new first name, so that each submit is a change and an event."""

    def __init__(self, n: int, now) -> None:
        self.n = n
        asked = ask_questions("acme", "blog", None, None, now)
        assert [q.rule.key for q in asked.questions] == ["email", "first_name", "company"]
        self.token, self.ask_token = asked.visitor, asked.ask_token
        self.email = f"person{n}@corp{n % 37}.example"

    def submit(self, k: int, now) -> None:
        answers = {"email": self.email, "first_name": f"P{self.n}-{k}"}
        submit_answers("acme", "blog", SubmitInput(self.token, self.ask_token, answers), now)


def pending() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.status == "pending")
    )


def test_a_six_hour_outage_loses_nothing(clock, site, destination, receiver, worker):
    assert worker.batch == 50
    receiver.stop()
    start = clock.now
    every = OUTAGE / SUBMISSIONS
    next_run = start + WORKER_EVERY
    visitors: list[Visitor] = []
    attempts_meanwhile = 0
    for i in range(SUBMISSIONS):
        clock.now = start + i * every
        # A new visitor every fifth submit; the others come back to change their first name.
        if i % SUBMITS_EACH == 0:
            visitors.append(Visitor(len(visitors), clock.now))
        visitor = visitors[(i * 7) % len(visitors)] if i % SUBMITS_EACH else visitors[-1]
        visitor.submit(i, clock.now)
        if clock.now >= next_run:
            attempts_meanwhile += drain(worker)
            next_run += WORKER_EVERY
    clock.now = start + OUTAGE
    attempts_meanwhile += drain(worker)

    assert receiver.received() == []
    assert pending() == SUBMISSIONS
    # Only the oldest event of each contact is tried; the others wait behind it, in order.
    tried = db.session.scalar(select(func.count(func.distinct(DeliveryAttempt.delivery_id))))
    assert tried == len(visitors) == SUBMISSIONS // SUBMITS_EACH
    assert attempts_meanwhile > 3 * tried
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent)) == SUBMISSIONS
    assert db.session.scalar(select(func.max(Delivery.failures))) >= 4

    receiver.start()
    rounds = 0
    while pending():  # a worker every 30 minutes, until everything is out
        clock.advance(minutes=30)
        drain(worker)
        db.session.expire_all()
        rounds += 1
    assert rounds <= 12  # the longest wait is one 5 h retry (+10 %)

    rows = db.session.execute(select(Delivery.message_id, Delivery.body, Delivery.status)).all()
    expected = {row.message_id: bytes(row.body) for row in rows}
    assert {row.status for row in rows} == {"delivered"}
    assert len(expected) == SUBMISSIONS

    received = receiver.received()
    ids = [r.headers["webhook-id"] for r in received]
    assert set(ids) == set(expected)  # none missing, none unknown
    for request in received:  # a duplicate carries the same id and the very same bytes
        assert request.body == expected[request.headers["webhook-id"]]
    # Each contact's events arrived in the order they happened.
    first_seen: dict[int, list[str]] = {}
    for request in received:
        data = verify(destination.secret, request)["data"]
        names = first_seen.setdefault(data["contact_id"], [])
        if data["profile"]["first_name"] not in names:
            names.append(data["profile"]["first_name"])
    assert len(first_seen) == len(visitors)
    for names in first_seen.values():
        assert names == sorted(names, key=lambda name: int(name.rsplit("-", 1)[1]))
    assert db.session.scalar(
        select(func.count())
        .select_from(DeliveryAttempt)
        .where(DeliveryAttempt.outcome == "delivered")
    ) == len(received)
