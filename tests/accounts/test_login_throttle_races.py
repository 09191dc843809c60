"""Sign-ins for one email that run at the same time (review of the per-email throttle, item 1).

Each attempt is counted before its password is checked, so attempts that start together get no
more password checks than attempts made one after the other, and a sign-in never lifts a lock
that other attempts set while its password was being checked. The interleaving is fixed, not
left to chance: the password check waits at a gate until the test has every attempt in place.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from flask import Flask

from app.extensions import db
from app.models import User
from app.services.accounts import authenticate_user, create_user
from app.services.accounts import users as users_module
from app.services.errors import TooManyAttempts
from tests.accounts.test_login_throttle import ANN, NOBODY, held
from tests.factories import PASSWORD

TIMEOUT = 30.0  # seconds: a bound on every wait, never a sleep
ATTEMPTS = 20
SIGNED_IN, WRONG, REFUSED = "signed in", "wrong", "refused"
# The backoff stops simultaneous attempts after the third, or (without a backoff) the lock does.
BACKOFF_AFTER_3 = {
    "LOGIN_BACKOFF_AFTER": 3,
    "LOGIN_BACKOFF_SECONDS": 1.0,
    "LOGIN_FAILURES_BEFORE_LOCK": 10,
}
LOCK_AFTER_3 = {"LOGIN_BACKOFF_SECONDS": 0.0, "LOGIN_FAILURES_BEFORE_LOCK": 3}


class Gate:
    """``check_password_hash`` held until ``open``: every attempt that gets as far as a password
    check waits there (only for ``password`` when given). ``wait_for(n)`` returns once ``n``
    attempts are waiting at the gate or over (refused without a check)."""

    def __init__(self, password: str | None = None) -> None:
        self.password = password
        self.checked: list[str] = []
        self._opened = threading.Event()
        self._arrived = 0
        self._changed = threading.Condition()
        self._attempt = threading.local()  # whether this thread's attempt arrived already

    def check(self, real: Callable[[str, str], bool], stored: str, password: str) -> bool:
        with self._changed:
            self.checked.append(password)
        if self.password in (None, password):
            self.arrive()
            assert self._opened.wait(TIMEOUT)
        return real(stored, password)

    def arrive(self) -> None:
        if getattr(self._attempt, "arrived", False):
            return
        self._attempt.arrived = True
        with self._changed:
            self._arrived += 1
            self._changed.notify_all()

    def over(self) -> None:
        """This thread's attempt is over (arrived, if it had not): the thread may run another."""
        self.arrive()
        self._attempt.arrived = False

    def wait_for(self, count: int) -> None:
        with self._changed:
            arrived = self._changed.wait_for(lambda: self._arrived >= count, TIMEOUT)
            assert arrived, f"{self._arrived} of {count} arrived, {len(self.checked)} checks"

    def open(self) -> None:
        self._opened.set()


@pytest.fixture
def gate(monkeypatch) -> Callable[..., Gate]:
    def install(password: str | None = None) -> Gate:
        made = Gate(password)
        real = users_module.check_password_hash
        monkeypatch.setattr(
            users_module, "check_password_hash", lambda stored, pw: made.check(real, stored, pw)
        )
        return made

    return install


@pytest.fixture
def ann(app: Flask) -> int:
    """Ann's user id."""
    user, _ = create_user(ANN, "analyst", PASSWORD)
    user_id = user.id
    db.session.remove()  # the test's own session holds nothing open while the threads write
    return user_id


def outcome(email: str, password: str, clock) -> str:
    try:
        return SIGNED_IN if authenticate_user(email, password, clock()) else WRONG
    except TooManyAttempts:
        return REFUSED


def in_thread(app: Flask, gate: Gate, email: str, password: str, clock) -> str:
    """One sign-in on its own thread, with its own session (as a request has)."""
    with app.app_context():
        try:
            return outcome(email, password, clock)
        finally:
            gate.over()
            db.session.remove()


def together(app: Flask, gate: Gate, attempts: list[tuple[str, str]], clock) -> list[str]:
    """The attempts all started, each held at the password check, then let through at once."""
    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        futures = [pool.submit(in_thread, app, gate, *each, clock) for each in attempts]
        gate.wait_for(len(attempts))
        gate.open()
        return [future.result(TIMEOUT) for future in futures]


@pytest.mark.parametrize("email", [ANN, NOBODY])
@pytest.mark.parametrize(
    ("app_settings", "locked_for"),
    [(BACKOFF_AFTER_3, None), (LOCK_AFTER_3, timedelta(minutes=15))],
    ids=["backoff", "lock"],
)
def test_attempts_started_together_get_only_the_checks_the_limits_allow(
    app, ann, clock, gate, email, locked_for
):
    held_at_check = gate()
    answers = together(
        app, held_at_check, [(email, f"guess {n:02d}") for n in range(ATTEMPTS)], clock
    )
    assert sorted(answers) == [REFUSED] * 17 + [WRONG] * 3
    assert len(held_at_check.checked) == 3
    row = held(email)
    locked_until = clock() + locked_for if locked_for else None
    assert (row.failures, row.last_failure_at, row.locked_until) == (3, clock(), locked_until)


@pytest.mark.parametrize("app_settings", [LOCK_AFTER_3])
def test_a_right_password_checked_while_the_lock_lands_signs_in_but_keeps_the_lock(
    app, ann, clock, gate, caplog
):
    caplog.set_level(logging.INFO, logger="trickle.accounts")
    right_held = gate(PASSWORD)
    with ThreadPoolExecutor(max_workers=1) as pool:
        signing_in = pool.submit(in_thread, app, right_held, ANN, PASSWORD, clock)
        right_held.wait_for(1)
        # The right password counts as the first attempt until its check is over.
        meanwhile = [outcome(ANN, f"wrong guess {n}", clock) for n in range(4)]
        db.session.remove()
        right_held.open()
        assert signing_in.result(TIMEOUT) == SIGNED_IN
    assert meanwhile == [WRONG, WRONG, REFUSED, REFUSED]
    row = held(ANN)
    assert (row.failures, row.locked_at, row.locked_until) == (
        3,
        clock(),
        clock() + timedelta(minutes=15),
    )
    assert outcome(ANN, PASSWORD, clock) == REFUSED
    assert [r.event for r in caplog.records if r.name == "trickle.accounts"] == ["sign_in_locked"]


@pytest.mark.parametrize("app_settings", [LOCK_AFTER_3])
def test_the_attempt_that_would_lock_signs_in_with_the_right_password_and_locks_nothing(
    app, ann, clock, caplog
):
    caplog.set_level(logging.INFO, logger="trickle.accounts")
    answers = [outcome(ANN, password, clock) for password in ("wrong 1", "wrong 2", PASSWORD)]
    assert answers == [WRONG, WRONG, SIGNED_IN]
    assert held(ANN) is None
    assert [r for r in caplog.records if r.name == "trickle.accounts"] == []
    assert db.session.get(User, ann).last_login_at == clock()
