"""A signed-in user changes their own password on /admin/account: the current one is checked
(and counted like a sign-in), every other session ends, this browser stays signed in; bad
input answers 422 with the field's error and changes nothing.

Each request runs in its own app context, as in production (see test_console_sessions)."""

from __future__ import annotations

import pytest

from app.services.accounts import create_user
from tests.console import csrf_token, field_errors, sign_in
from tests.factories import PASSWORD

EMAIL = "ann@acme.example"
NEW = "a much longer secret"
PAGE = "/admin/account"


@pytest.fixture
def app_settings() -> dict[str, object]:
    return {"RATELIMIT_ENABLED": False, "LOGIN_BACKOFF_SECONDS": 0}


@pytest.fixture
def ann(app):
    create_user(EMAIL, "analyst", PASSWORD)
    return _signed_in(app)


def _signed_in(app, password: str = PASSWORD):
    client = app.test_client()
    with app.app_context():
        response = sign_in(client, EMAIL, password)
    return client if response.status_code == 302 else None


def _change(app, client, current: str, new: str, repeat: str | None = None, token: bool = True):
    with app.app_context():
        data = {"current_password": current, "new_password": new, "repeat": repeat or new}
        if token:
            data["csrf_token"] = csrf_token(client, PAGE)
        return client.post(PAGE, data=data)


def _status(app, client, path: str = "/admin/") -> int:
    with app.app_context():
        return client.get(path).status_code


def test_the_account_page_names_the_user_and_links_from_every_page(app, ann):
    with app.app_context():
        home = ann.get("/admin/").get_data(as_text=True)
        page = ann.get(PAGE).get_data(as_text=True)
    assert f'<a class="who" href="{PAGE}" title="Your account">{EMAIL} · analyst</a>' in home
    assert "<dt>Email</dt><dd>ann@acme.example</dd>" in page
    assert 'autocomplete="current-password"' in page
    assert "At least 12 characters." in page


def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(app, ann):
    laptop = _signed_in(app)

    response = _change(app, ann, PASSWORD, NEW)

    assert (response.status_code, response.location) == (302, PAGE)
    with app.app_context():
        page = ann.get(PAGE).get_data(as_text=True)
    assert "Your password is changed. Other browsers signed in as you are signed out." in page
    assert _status(app, ann) == 200
    assert _status(app, laptop) == 302  # its session ended with the old password
    assert _signed_in(app, PASSWORD) is None
    assert _signed_in(app, NEW) is not None


@pytest.mark.parametrize(
    ("current", "new", "repeat", "errors"),
    [
        (PASSWORD + "x", NEW, NEW, {"current_password": "Wrong password."}),
        ("", NEW, NEW, {"current_password": "Enter your current password."}),
        (PASSWORD, "", "", {"new_password": "Enter a new password."}),
        (PASSWORD, "short", "short", {"new_password": "Use at least 12 characters."}),
        (PASSWORD, "x" * 201, "x" * 201, {"new_password": "Use at most 200 characters."}),
        (PASSWORD, PASSWORD, PASSWORD, {"new_password": "Choose a password other than the current one."}),
        (PASSWORD, NEW, NEW + "!", {"repeat": "The two new passwords differ."}),
    ],
)  # fmt: skip
def test_bad_input_changes_nothing(app, ann, current, new, repeat, errors):
    laptop = _signed_in(app)

    response = _change(app, ann, current, new, repeat)

    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True)) == errors
    assert (_status(app, ann), _status(app, laptop)) == (200, 200)
    assert _signed_in(app, PASSWORD) is not None


def test_without_the_csrf_token_nothing_changes(app, ann):
    assert _change(app, ann, PASSWORD, NEW, token=False).status_code == 400
    assert _signed_in(app, PASSWORD) is not None


def test_guessing_the_current_password_counts_like_sign_ins(app, ann):
    """An open browser is no way around the sign-in lock (10 failures lock the email)."""
    for _ in range(10):
        assert _change(app, ann, "wrong guess", NEW).status_code == 422

    locked = _change(app, ann, PASSWORD, NEW)

    assert locked.status_code == 429
    assert _signed_in(app, NEW) is None


def test_the_page_needs_a_login(app, client):
    response = client.get(PAGE)
    assert (response.status_code, response.location) == (
        302,
        "/admin/login?next=%2Fadmin%2Faccount",
    )
