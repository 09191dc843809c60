"""Sign-in throttle rows purged by the worker's maintenance once they decide nothing any more
(review of the per-email throttle, item 2): no live lock, and the failure window over or the
lock ended. Rows of failures still counting, and live locks, stay."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import LoginThrottle
from app.services.accounts import authenticate_user, create_user, purge_login_throttles
from app.services.accounts import throttle as throttle_module
from app.services.delivery import DeliveryWorker
from app.services.errors import TooManyAttempts
from app.services.privacy import RetentionReport
from tests.factories import PASSWORD

ANN = "ann@acme.example"
OLD, RECENT, LOCKED = "old@acme.example", "recent@acme.example", "locked@acme.example"


@pytest.fixture
def app_settings():
    # No backoff: the failures can be made one after another; locked for longer than the window.
    return {
        "LOGIN_BACKOFF_SECONDS": 0.0,
        "LOGIN_FAILURES_BEFORE_LOCK": 3,
        "LOGIN_FAILURE_WINDOW_MINUTES": 15.0,
        "LOGIN_LOCK_MINUTES": 60.0,
    }


@pytest.fixture
def worker(app: Flask):
    running = DeliveryWorker(app, name="test-worker")
    yield running
    running.close()


def fail(email: str, clock, times: int = 1) -> None:
    for _ in range(times):
        assert authenticate_user(email, "a wrong password", clock()) is None


def held_keys() -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(select(LoginThrottle.key_hash)))


def keys(*emails: str) -> set[str]:
    return {throttle_module.throttle_key(email) for email in emails}


def test_maintenance_purges_rows_once_their_window_is_over_or_their_lock_ended(
    app, clock, worker, caplog
):
    caplog.set_level(logging.INFO, logger="trickle.accounts")
    create_user(LOCKED, "analyst", PASSWORD)
    fail(OLD, clock)
    fail(LOCKED, clock, 3)  # locked for 60 minutes
    clock.advance(minutes=10)
    fail(RECENT, clock)
    clock.advance(minutes=5)  # OLD's window is just over: its next failure would count from one

    assert worker.run_maintenance() == []
    assert held_keys() == keys(RECENT, LOCKED)

    clock.advance(minutes=45)  # LOCKED's lock just ended, RECENT's window too
    assert purge_login_throttles(clock()) == 2
    assert held_keys() == set()
    assert authenticate_user(LOCKED, PASSWORD, clock()).email == LOCKED
    purged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("purged")]
    assert purged == [
        "purged 1 expired sign-in throttle rows",
        "purged 2 expired sign-in throttle rows",
    ]


def test_a_live_lock_stays_after_its_window_and_still_refuses(app, clock):
    create_user(LOCKED, "analyst", PASSWORD)
    fail(LOCKED, clock, 3)
    clock.advance(minutes=59, seconds=59)
    assert purge_login_throttles(clock()) == 0
    assert held_keys() == keys(LOCKED)
    with pytest.raises(TooManyAttempts):
        authenticate_user(LOCKED, PASSWORD, clock())


def test_failures_still_counting_stay_and_still_add_up(app, clock):
    fail(RECENT, clock, 2)
    clock.advance(minutes=14, seconds=59)
    assert purge_login_throttles(clock()) == 0
    fail(RECENT, clock)  # the third failure within the window locks
    with pytest.raises(TooManyAttempts):
        authenticate_user(RECENT, "a wrong password", clock())


def test_a_large_backlog_goes_in_batches(app, clock, monkeypatch):
    monkeypatch.setattr(throttle_module, "_PURGE_BATCH", 2)
    emails = [f"typed{n}@acme.example" for n in range(5)]
    for email in emails:
        fail(email, clock)
    clock.advance(minutes=15)
    fail(RECENT, clock)
    assert purge_login_throttles(clock()) == 5
    assert held_keys() == keys(RECENT)


def test_a_purge_failure_is_logged_and_retention_still_runs(
    app, clock, worker, monkeypatch, caplog
):
    def broken(now):
        raise RuntimeError("database restarting")

    monkeypatch.setattr("app.services.delivery.worker.purge_login_throttles", broken)
    monkeypatch.setattr(
        "app.services.delivery.worker.run_due", lambda now: [RetentionReport("acme")]
    )
    assert worker.run_maintenance() == [RetentionReport("acme")]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        "worker test-worker: sign-in throttle purge failed; trying again later"
    ]
