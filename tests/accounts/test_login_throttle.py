"""Failed sign-ins counted per typed email across client addresses (issue 18 item 2): a backoff,
then a lock that even the right password cannot pass, answered the same for unknown emails."""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import LoginThrottle, User
from app.services.accounts import authenticate_user, create_user
from app.services.accounts import users as users_module
from app.services.accounts.throttle import reserve_attempt, throttle_key, throttle_rules
from app.services.errors import TooManyAttempts
from tests.console import csrf_token, field_errors
from tests.factories import PASSWORD

ANN = "ann@acme.example"
NOBODY = "nobody@acme.example"
WRONG = (200, {"password": "Wrong email or password."})
REFUSED = (429, {"password": "Too many failed sign-ins for this email. Try again later."})
# Low limits keep the tests short: two free failures, then 1 s doubling up to 4 s; locked for
# 15 minutes at the fifth failure within 15 minutes.
LIMITS = {
    "LOGIN_BACKOFF_AFTER": 2,
    "LOGIN_BACKOFF_SECONDS": 1.0,
    "LOGIN_BACKOFF_MAX_SECONDS": 4.0,
    "LOGIN_FAILURES_BEFORE_LOCK": 5,
    "LOGIN_FAILURE_WINDOW_MINUTES": 15.0,
    "LOGIN_LOCK_MINUTES": 15.0,
}


@pytest.fixture
def app_settings():
    return LIMITS


@pytest.fixture
def ann(app) -> User:
    user, _ = create_user(ANN, "analyst", PASSWORD)
    return user


def attempt(client, email: str, password: str, address: str = "198.51.100.1", token: str = ""):
    """One sign-in from ``address``, with the form's CSRF token (fetched from there unless
    given: a test client's session keeps one token)."""
    environ = {"REMOTE_ADDR": address}
    if not token:
        html = client.get("/admin/login", environ_overrides=environ).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_overrides=environ,
    )


def answer(response) -> tuple[int, dict[str, str]]:
    return response.status_code, field_errors(response.get_data(as_text=True))


def page_without(response, email: str) -> str:
    """The page with what differs by nature between two emails left out: the email typed
    (echoed in its field) and the CSRF token."""
    html = response.get_data(as_text=True).replace(email, "EMAIL")
    return re.sub(r'value="[^"]{40,}"', 'value="TOKEN"', html)


def spread_guesses(client, clock, email: str, count: int = 40) -> list:
    """``count`` wrong passwords for ``email`` from 20 addresses, 5 s apart (past the backoff)."""
    responses, token = [], csrf_token(client)
    for index in range(count):
        clock.advance(seconds=5)
        address = f"198.51.100.{index % 20 + 1}"
        responses.append(attempt(client, email, f"guess number {index:04d}", address, token))
    return responses


def held(email: str) -> LoginThrottle | None:
    db.session.expire_all()
    return db.session.scalars(
        select(LoginThrottle).where(LoginThrottle.key_hash == throttle_key(email))
    ).one_or_none()


@pytest.fixture
def hash_checks(monkeypatch) -> list[str]:
    """Every password hash checked at sign-in (the cost that would tell emails apart)."""
    checked: list[str] = []
    real = users_module.check_password_hash

    def counting(stored: str, password: str) -> bool:
        checked.append(password)
        return real(stored, password)

    monkeypatch.setattr(users_module, "check_password_hash", counting)
    return checked


def test_guesses_from_many_addresses_lock_the_account_even_for_the_right_password(
    client, ann, clock, hash_checks
):
    answers = [answer(response) for response in spread_guesses(client, clock, ANN)]
    assert answers == [WRONG] * 5 + [REFUSED] * 35
    assert len(hash_checks) == 5  # refused attempts check no password
    assert answer(attempt(client, ANN, PASSWORD, "203.0.113.77")) == REFUSED
    assert client.get("/admin/").status_code == 302
    assert db.session.get(User, ann.id).last_login_at is None


def test_an_unknown_email_gets_the_same_answers_the_same_page_and_the_same_work(
    client, ann, clock, hash_checks
):
    known = spread_guesses(client, clock, ANN, 8)
    known_checks = len(hash_checks)
    unknown = spread_guesses(client, clock, NOBODY, 8)
    assert [answer(r) for r in unknown] == [answer(r) for r in known] == [WRONG] * 5 + [REFUSED] * 3
    assert [page_without(r, NOBODY) for r in unknown] == [page_without(r, ANN) for r in known]
    assert len(hash_checks) - known_checks == known_checks == 5
    assert page_without(attempt(client, NOBODY, PASSWORD), NOBODY) == page_without(
        attempt(client, ANN, PASSWORD), ANN
    )


def test_a_typed_email_is_kept_only_as_a_digest(client, ann, clock):
    spread_guesses(client, clock, " NoBody@Acme.Example ", 1)
    [row] = db.session.scalars(select(LoginThrottle)).all()
    assert (row.key_hash, row.user_id, row.failures) == (throttle_key(NOBODY), None, 1)
    assert re.fullmatch(r"[0-9a-f]{64}", row.key_hash)
    assert "nobody" not in repr(db.session.execute(select(LoginThrottle.__table__)).all())


def test_the_backoff_doubles_and_refuses_even_the_right_password(client, ann, clock):
    assert answer(attempt(client, ANN, "wrong password 1")) == WRONG
    assert answer(attempt(client, ANN, "wrong password 2")) == WRONG  # two free failures
    assert answer(attempt(client, ANN, PASSWORD)) == REFUSED  # 1 s to wait
    clock.advance(seconds=1)
    assert answer(attempt(client, ANN, "wrong password 3")) == WRONG
    clock.advance(seconds=1.9)
    assert answer(attempt(client, ANN, PASSWORD)) == REFUSED  # 2 s to wait now
    clock.advance(seconds=0.1)
    assert attempt(client, ANN, PASSWORD).status_code == 302
    assert held(ANN) is None  # a success forgets the failures


def test_a_success_starts_the_count_afresh(client, ann, clock):
    spread_guesses(client, clock, ANN, 4)
    clock.advance(seconds=5)
    assert attempt(client, ANN, PASSWORD).status_code == 302
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    answers = [answer(response) for response in spread_guesses(client, clock, ANN, 4)]
    assert answers == [WRONG] * 4
    assert held(ANN).failures == 4


def test_failures_further_apart_than_the_window_do_not_add_up(client, ann, clock):
    spread_guesses(client, clock, ANN, 4)
    clock.advance(minutes=15)
    assert [answer(r) for r in spread_guesses(client, clock, ANN, 4)] == [WRONG] * 4
    assert (held(ANN).failures, held(ANN).locked_until) == (4, None)


def test_the_lock_ends_by_itself(client, ann, clock):
    spread_guesses(client, clock, ANN, 5)
    locked_at = clock()
    assert held(ANN).locked_until == locked_at + timedelta(minutes=15)
    clock.advance(minutes=14, seconds=59)
    assert answer(attempt(client, ANN, PASSWORD)) == REFUSED
    clock.advance(seconds=1)
    assert attempt(client, ANN, PASSWORD).status_code == 302
    assert held(ANN) is None


def test_after_the_lock_a_wrong_password_counts_from_one(client, ann, clock):
    spread_guesses(client, clock, ANN, 5)
    clock.advance(minutes=15)
    assert answer(attempt(client, ANN, "wrong again")) == WRONG
    row = held(ANN)
    assert (row.failures, row.locked_at, row.locked_until) == (1, None, None)


def test_a_disabled_users_right_password_is_a_failure_too(client, ann, clock):
    db.session.get(User, ann.id).active = False
    db.session.commit()
    assert answer(attempt(client, ANN, PASSWORD)) == WRONG
    assert (held(ANN).failures, held(ANN).user_id) == (1, ann.id)


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("", PASSWORD, {"email": "This field is required."}),
        (ANN, "", {"password": "This field is required."}),
        ("a" * 321, PASSWORD, {"email": "Field cannot be longer than 320 characters."}),
    ],
)
def test_a_form_with_bad_input_counts_nothing(client, ann, email, password, message):
    response = attempt(client, email, password)
    assert (response.status_code, field_errors(response.get_data(as_text=True))) == (200, message)
    assert db.session.scalars(select(LoginThrottle)).all() == []


def test_the_lock_is_logged_once_with_the_account(client, ann, clock, caplog):
    caplog.set_level(logging.INFO, logger="trickle.accounts")
    spread_guesses(client, clock, ANN, 8)
    [record] = [r for r in caplog.records if r.name == "trickle.accounts"]
    assert (record.levelname, record.getMessage()) == (
        "WARNING",
        "console sign-in locked for ann@acme.example after 5 failed attempts, "
        "until 2026-03-02T09:15:25+00:00",
    )
    assert (record.event, record.user_id, record.failures, record.locked_at) == (
        "sign_in_locked",
        ann.id,
        5,
        "2026-03-02T09:00:25+00:00",
    )


def test_the_lock_of_an_unknown_email_is_logged_by_digest(client, ann, clock, caplog):
    caplog.set_level(logging.INFO, logger="trickle.accounts")
    spread_guesses(client, clock, NOBODY, 5)
    [record] = [r for r in caplog.records if r.name == "trickle.accounts"]
    digest = throttle_key(NOBODY)[:12]
    assert record.getMessage() == (
        f"console sign-in locked for unknown email {digest} after 5 failed attempts, "
        "until 2026-03-02T09:15:25+00:00"
    )
    assert (record.account, record.user_id) == (f"unknown email {digest}", None)


def test_the_service_refuses_with_too_many_attempts(app, ann, clock):
    for _ in range(2):
        assert authenticate_user(ANN, "wrong password!", clock()) is None
    with pytest.raises(TooManyAttempts) as refused:
        authenticate_user(ANN, PASSWORD, clock())
    assert (refused.value.status, refused.value.message) == (
        429,
        "Too many failed sign-ins for this email. Try again later.",
    )


def test_attempts_counted_at_the_same_moment_are_all_counted_and_lock_once(app, ann, clock, caplog):
    caplog.set_level(logging.INFO, logger="trickle.accounts")
    key, rules = throttle_key(ANN), replace(throttle_rules(), backoff=timedelta(0))

    def fail_once(_: int) -> bool:
        with app.app_context():
            reservation = reserve_attempt(key, None, clock(), rules)
            if reservation is not None:
                reservation.failed()
            db.session.remove()
            return reservation is not None

    with ThreadPoolExecutor(max_workers=4) as pool:
        counted = list(pool.map(fail_once, range(8)))
    assert sorted(counted) == [False] * 3 + [True] * 5
    row = held(ANN)
    assert (row.failures, row.locked_until) == (5, clock() + timedelta(minutes=15))
    assert len([r for r in caplog.records if r.name == "trickle.accounts"]) == 1
