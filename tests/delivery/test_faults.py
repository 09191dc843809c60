"""What the worker does when the receiver fails: the retry schedule, redirects, 410, Retry-After,
hangs, dropped connections, days of failure, and inputs that must not stop it."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import delete, select, update

from app.domain.webhooks import RETRY_DELAYS
from app.extensions import db
from app.models import Delivery, DeliveryAttempt, Destination
from app.services.delivery import DeliveryWorker
from app.services.delivery.http import SendResult
from app.services.delivery.operations import resume
from tests.delivery.support import attempts_of, deliveries, drain, fresh, queue
from tests.receiver import Answer, Receiver, verify

SHORT_TIMEOUT = {"ALLOW_PRIVATE_TARGETS": True, "DELIVERY_TIMEOUT_SECONDS": 0.3}


def logged_errors(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.get_records("call")
        if record.name == "trickle.worker" and record.levelno >= logging.ERROR
    ]


def due_in(delivery: Delivery, now: datetime) -> float:
    return (fresh(delivery).next_attempt_at - now).total_seconds()


# --- 2: the schedule --------------------------------------------------------------------------


def test_500_is_retried_on_the_schedule_then_dead_lettered(
    clock, site, destination, receiver, worker
):
    receiver.answer(500, body=b"nope")
    delivery = queue(site, 1)
    expected_rng = random.Random(7)  # the worker fixture's rng: the jitter is known exactly
    started = clock.now

    sent_at = []
    for attempt, delay in enumerate((*RETRY_DELAYS, None), start=1):
        assert drain(worker) == 1
        sent_at.append(clock.now)
        fresh(delivery)
        assert (delivery.attempts, delivery.failures) == (attempt, attempt)
        if delay is None:
            break
        jitter = expected_rng.uniform(-0.1, 0.1)
        assert delivery.status == "pending"
        assert delivery.last_error == "HTTP 500"
        assert delivery.next_attempt_at == clock.now + timedelta(seconds=delay * (1 + jitter))
        assert 0.9 * delay <= due_in(delivery, clock.now) <= 1.1 * delay
        # Not a moment early...
        clock.now = delivery.next_attempt_at - timedelta(microseconds=1)
        assert drain(worker) == 0
        # ...and on time.
        clock.now = delivery.next_attempt_at

    assert (delivery.status, delivery.attempts, delivery.dead_at) == ("dead", 8, clock.now)
    clock.advance(days=30)
    assert drain(worker) == 0
    assert [(t - started).total_seconds() for t in sent_at[:2]] == [
        0,
        pytest.approx(5, rel=0.1),
    ]
    total = (sent_at[-1] - started).total_seconds()
    assert 0.9 * sum(RETRY_DELAYS) <= total <= 1.1 * sum(RETRY_DELAYS)

    requests = receiver.received()
    assert len(requests) == 8
    assert {r.headers["webhook-id"] for r in requests} == {delivery.message_id}
    assert {r.body for r in requests} == {bytes(delivery.body)}
    assert [int(r.headers["webhook-timestamp"]) for r in requests] == [
        int(t.timestamp()) for t in sent_at
    ]
    assert len({r.headers["webhook-signature"] for r in requests}) == 8
    for request in requests:
        verify(destination.secret, request)
    rows = attempts_of(delivery)
    assert [(a.status_code, a.outcome, a.response) for a in rows] == [(500, "retry", "nope")] * 8
    assert [a.attempted_at for a in rows] == sent_at


# --- 3: redirects -------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["same receiver", "other receiver"])
def test_a_redirect_is_a_failure_and_is_not_followed(
    where, clock, site, destination, receiver, worker
):
    with Receiver() as other:
        target = receiver.url + "/moved" if where == "same receiver" else other.url
        receiver.answer(308, {"Location": target})
        delivery = queue(site, 1)

        assert drain(worker) == 1
        fresh(delivery)
        assert (delivery.status, delivery.failures, delivery.last_error) == (
            "pending",
            1,
            "HTTP 308",
        )
        assert 4.5 <= due_in(delivery, clock.now) <= 5.5
        clock.now = delivery.next_attempt_at
        assert drain(worker) == 1

        assert [r.path for r in receiver.received()] == ["/hooks", "/hooks"]
        assert other.received() == []
        assert [(a.status_code, a.outcome) for a in attempts_of(delivery)] == [(308, "retry")] * 2


# --- 4: 410 -------------------------------------------------------------------------------------


def test_410_suspends_the_destination_until_resumed(clock, site, destination, receiver, worker):
    receiver.script(Answer(410, body=b"gone"))
    first = queue(site, 1, n=1)
    assert drain(worker) == 1

    fresh(destination)
    assert destination.suspended_at == clock.now
    assert "410" in destination.suspended_reason
    assert destination.suspended_reason == "The receiver answered 410 Gone at 2026-03-02 09:00 UTC."
    fresh(first)
    assert (first.status, first.attempts, first.failures) == ("pending", 1, 1)

    second = queue(site, 1, n=2)  # the same contact: it goes out after the first
    third = queue(site, 3, n=3)
    for hours in (1, 24, 24 * 30):
        clock.advance(hours=hours)
        assert drain(worker) == 0
    assert receiver.ids() == [first.message_id]

    resume(destination, clock.now)
    db.session.commit()
    assert (destination.suspended_at, destination.suspended_reason) == (None, None)
    fresh(first)
    assert (first.failures, first.next_attempt_at) == (0, clock.now)  # a fresh retry schedule
    assert drain(worker) == 3
    ids = receiver.ids()
    assert ids[0] == first.message_id
    assert sorted(ids[1:]) == sorted([first.message_id, second.message_id, third.message_id])
    assert ids.index(second.message_id) > ids.index(first.message_id, 1)
    assert [d.status for d in deliveries()] == ["delivered"] * 3
    assert [(a.status_code, a.outcome) for a in attempts_of(first)] == [
        (410, "gone"),
        (200, "delivered"),
    ]


# --- 5: Retry-After -----------------------------------------------------------------------------


def test_429_retry_after_seconds_is_honoured(clock, site, receiver, worker):
    receiver.script(Answer(429, {"Retry-After": "120"}))
    delivery = queue(site, 1)
    start = clock.now
    assert drain(worker) == 1
    assert fresh(delivery).next_attempt_at == start + timedelta(seconds=120)

    clock.now = start + timedelta(seconds=119)
    assert drain(worker) == 0
    clock.now = start + timedelta(seconds=120)
    assert drain(worker) == 1
    assert fresh(delivery).status == "delivered"
    assert len(receiver.received()) == 2


def test_503_retry_after_http_date_is_honoured(clock, site, receiver, worker):
    start = clock.now
    back = start + timedelta(hours=1)
    receiver.script(Answer(503, {"Retry-After": format_datetime(back, usegmt=True)}))
    delivery = queue(site, 1)
    assert drain(worker) == 1
    assert fresh(delivery).next_attempt_at == back

    clock.now = back - timedelta(seconds=1)
    assert drain(worker) == 0
    clock.now = back
    assert drain(worker) == 1
    assert fresh(delivery).status == "delivered"


def test_retry_after_on_other_answers_is_ignored(clock, site, receiver, worker):
    receiver.script(Answer(500, {"Retry-After": "3600"}))
    delivery = queue(site, 1)
    drain(worker)
    assert 4.5 <= due_in(delivery, clock.now) <= 5.5


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("99999999999999999999", 24 * 3600),  # capped at a day: no overflow
        ("Fri, 31 Dec 9999 23:59:59 GMT", 24 * 3600),
        ("\u00b2", None),  # "²".isdigit() is True, float("²") fails
        ("Thu, 01 Jan 1970 00:00:00 GMT", None),  # in the past: the schedule decides
    ],
)
def test_an_outlandish_retry_after_is_survived(header, seconds, clock, site, receiver, worker):
    receiver.script(Answer(429, {"Retry-After": header}))
    delivery = queue(site, 1)
    assert drain(worker) == 1
    fresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 429")
    if seconds is None:
        assert 4.5 <= due_in(delivery, clock.now) <= 5.5
    else:
        assert due_in(delivery, clock.now) == seconds


# --- 6: hangs and dropped connections -----------------------------------------------------------


@pytest.mark.parametrize("app_settings", [SHORT_TIMEOUT], ids=["timeout 0.3 s"])
def test_a_hanging_receiver_times_out_and_is_retried(clock, site, receiver, worker):
    assert worker.timeout == 0.3
    receiver.hang()
    delivery = queue(site, 1)
    try:
        assert drain(worker) == 1
    finally:
        receiver.answer(200)  # let the hung request go
    (attempt,) = attempts_of(delivery)
    assert (attempt.status_code, attempt.outcome, attempt.error) == (
        None,
        "retry",
        "timed out after 0.3 s",
    )
    assert 300 <= attempt.duration_ms < 2000
    fresh(delivery)
    assert (delivery.status, delivery.last_error) == ("pending", "timed out after 0.3 s")
    assert 4.5 <= due_in(delivery, clock.now) <= 5.5

    clock.now = delivery.next_attempt_at
    assert drain(worker) == 1
    assert fresh(delivery).status == "delivered"


def test_a_dropped_connection_is_recorded_and_retried(clock, site, receiver, worker):
    receiver.close()
    delivery = queue(site, 1)
    assert drain(worker) == 1
    (attempt,) = attempts_of(delivery)
    assert (attempt.status_code, attempt.outcome, attempt.error) == (
        None,
        "retry",
        "the receiver closed the connection without answering",
    )
    assert 4.5 <= due_in(delivery, clock.now) <= 5.5

    receiver.answer(200)
    clock.now = delivery.next_attempt_at
    assert drain(worker) == 1
    assert fresh(delivery).status == "delivered"


def test_a_receiver_that_is_down_is_recorded_and_retried(clock, site, receiver, worker):
    receiver.stop()
    delivery = queue(site, 1)
    assert drain(worker) == 1
    (attempt,) = attempts_of(delivery)
    assert attempt.error.startswith(f"could not connect to 127.0.0.1:{receiver.port}: ")
    assert fresh(delivery).status == "pending"


# --- 7: five days of failure --------------------------------------------------------------------


def run_until(clock, worker, site, end: datetime, events_every: timedelta, contact: list[int]):
    """Queue an event every ``events_every`` and run the worker whenever something is due,
    until ``end``; returns the times the destination was seen suspended at (the first one)."""
    next_event = clock.now
    while clock.now < end:
        if clock.now >= next_event:
            contact[0] += 1
            queue(site, contact[0], n=contact[0])
            next_event += events_every
        drain(worker)
        due = db.session.scalar(
            select(Delivery.next_attempt_at)
            .where(Delivery.status == "pending")
            .order_by(Delivery.next_attempt_at)
            .limit(1)
        )
        clock.now = min(t for t in (due, next_event, end) if t is not None and t > clock.now)


def test_failing_for_five_days_suspends_the_destination(clock, site, destination, receiver, worker):
    receiver.answer(500)
    start = clock.now
    contact = [0]
    five_days = start + timedelta(days=5)
    run_until(clock, worker, site, five_days, timedelta(hours=12), contact)
    assert fresh(destination).failing_since == start
    assert destination.suspended_at is None

    run_until(clock, worker, site, start + timedelta(days=6), timedelta(hours=12), contact)
    fresh(destination)
    attempts = list(db.session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)))
    suspending = next(a for a in attempts if a.attempted_at >= five_days)
    assert destination.suspended_at == suspending.attempted_at
    assert destination.suspended_reason == (
        "Every attempt failed for 5 days (since 2026-03-02 09:00 UTC)."
    )
    assert attempts[-1].id == suspending.id  # nothing was sent after the suspension
    assert all(a.outcome == "retry" for a in attempts)


def test_a_success_in_between_resets_the_failure_streak(clock, site, destination, receiver, worker):
    receiver.answer(500)
    start = clock.now
    contact = [0]
    run_until(clock, worker, site, start + timedelta(days=3), timedelta(hours=12), contact)
    assert fresh(destination).failing_since == start

    receiver.answer(200)
    queue(site, 1000)
    assert drain(worker) >= 1
    assert fresh(destination).failing_since is None
    receiver.answer(500)
    clock.advance(seconds=1)
    queue(site, 1001)
    drain(worker)
    restarted = clock.now
    assert fresh(destination).failing_since == restarted

    run_until(clock, worker, site, start + timedelta(days=7), timedelta(hours=12), contact)
    assert fresh(destination).suspended_at is None
    run_until(
        clock, worker, site, restarted + timedelta(days=5, hours=12), timedelta(hours=12), contact
    )
    assert fresh(destination).suspended_at >= restarted + timedelta(days=5)


# --- 16: nothing stops the worker ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://[::1", "not a valid URL: ***"),
        ("http://127.0.0.1:99999/hooks", "not a valid URL: ***"),
        ("ftp://127.0.0.1/hooks", "not an http(s) URL: ftp://127.0.0.1/hooks"),
    ],
)
def test_an_unusable_url_is_a_failed_attempt(url, error, clock, site, receiver, worker):
    """A URL changed behind the config's back (it validates URLs): each attempt fails, is
    recorded with the reason, and the worker goes on with the next one."""
    db.session.execute(update(Destination).values(url=url))
    db.session.commit()
    first, second = queue(site, 1), queue(site, 2)

    assert drain(worker) == 2
    assert [a.error for a in attempts_of(first)] == [error]
    assert [a.error for a in attempts_of(second)] == [error]
    assert [d.status for d in deliveries()] == ["pending", "pending"]
    assert 4.5 <= due_in(first, clock.now) <= 5.5

    db.session.execute(update(Destination).values(url=receiver.url))
    db.session.commit()
    clock.advance(seconds=6)
    assert drain(worker) == 2
    assert [d.status for d in deliveries()] == ["delivered", "delivered"]


def test_a_sender_that_raises_is_a_failed_attempt(app, site, receiver, worker_errors, caplog):
    worker_errors["expected"] = True
    calls = []

    def sender(url, headers, body, **options):
        calls.append(headers["webhook-id"])
        if len(calls) == 1:
            raise RuntimeError("bug in sending")
        return SendResult(200, 1, "ok", None, None)

    first, second = queue(site, 1), queue(site, 2)
    worker = DeliveryWorker(app, name="w", sender=sender)
    worker.batch = 1
    try:
        assert drain(worker) == 2
    finally:
        worker.close()
    assert [a.error for a in attempts_of(first)] == ["internal error: RuntimeError"]
    assert logged_errors(caplog) == [f"sending {first.message_id} failed"]
    assert fresh(first).status == "pending"
    assert fresh(second).status == "delivered"


def test_a_broken_secret_is_a_failed_attempt(
    app, site, destination, receiver, worker, worker_errors, caplog
):
    worker_errors["expected"] = True
    db.session.execute(update(Destination).values(secret="not-a-secret"))
    db.session.commit()
    delivery = queue(site, 1)
    assert drain(worker) == 1
    assert [a.error for a in attempts_of(delivery)] == ["internal error: ValueError"]
    assert receiver.received() == []
    assert logged_errors(caplog) == [f"sending {delivery.message_id} failed"]


def test_a_delivery_erased_while_in_flight_is_skipped(app, site, receiver):
    erased, kept = queue(site, 1), queue(site, 2)
    erased_id = erased.id

    def sender(url, headers, body, **options):
        if headers["webhook-id"] == erased.message_id:
            with app.app_context():
                db.session.execute(delete(Delivery).where(Delivery.id == erased_id))
                db.session.commit()
        return SendResult(200, 1, "ok", None, None)

    worker = DeliveryWorker(app, name="w", sender=sender)
    try:
        assert drain(worker) == 2
    finally:
        worker.close()
    assert [(d.id, d.status) for d in deliveries()] == [(kept.id, "delivered")]


@pytest.mark.parametrize("status", [200, 500])
def test_an_answer_with_nul_bytes_is_recorded(status, site, receiver, worker):
    receiver.script(Answer(status, body=b"bad\x00answer\xff"))
    delivery = queue(site, 1)
    assert drain(worker) == 1
    (attempt,) = attempts_of(delivery)
    assert (attempt.status_code, attempt.response) == (status, "bad\ufffdanswer\ufffd")
    assert fresh(delivery).status == ("delivered" if status == 200 else "pending")
    assert len(receiver.received()) == 1


def test_an_attempt_that_cannot_be_recorded_is_recorded_without_the_answer(
    app, site, receiver, worker, monkeypatch, worker_errors, caplog
):
    worker_errors["expected"] = True
    from app.services.delivery import worker as delivery_worker

    real = delivery_worker.record_attempt
    failures = []

    def flaky(claimed, result, *args):
        if result.response:
            failures.append(claimed.id)
            raise ValueError("the database refused it")
        return real(claimed, result, *args)

    def flaky_batch(sent, *args):
        if any(result.response for _, result in sent):
            raise ValueError("the database refused it")
        return real_batch(sent, *args)

    real_batch = delivery_worker.record_attempts
    monkeypatch.setattr(delivery_worker, "record_attempt", flaky)
    monkeypatch.setattr(delivery_worker, "record_attempts", flaky_batch)
    receiver.script(Answer(500, body=b"unstorable"))
    delivery = queue(site, 1)
    assert drain(worker) == 1
    assert failures == [delivery.id]
    (attempt,) = attempts_of(delivery)
    assert (attempt.status_code, attempt.response, attempt.error) == (
        500,
        None,
        "the attempt could not be recorded as it was (ValueError)",
    )
    assert (fresh(delivery).status, delivery.attempts) == ("pending", 1)
    assert logged_errors(caplog) == [
        "recording the batch failed; recording each attempt on its own",
        f"recording {delivery.message_id} failed; recording it without the answer",
    ]
