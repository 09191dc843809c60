"""Sign-in locks as admins see and lift them: the notice on every console page, the users page's
Unlock button (CSRF, admins only) and `trickle users unlock`; each unlock is logged."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import LoginThrottle, User
from app.services.accounts import create_user
from tests.console import csrf_token, sign_in, table_rows
from tests.factories import PASSWORD

ANN = "ann@acme.example"
ROOT = "root@acme.example"
MIA = "mia@acme.example"
NOTICE = (
    "Sign-in locked: ann@acme.example was locked after 3 failed sign-ins at "
    "2026-03-02 09:00 UTC, until 2026-03-02 09:15 UTC. Unlock it on the Users page."
)
REFUSED = "Too many failed sign-ins for this email. Try again later."


@pytest.fixture
def app_settings():
    return {"LOGIN_BACKOFF_SECONDS": 0.0, "LOGIN_FAILURES_BEFORE_LOCK": 3}


@pytest.fixture
def people(app) -> None:
    for email, role in ((ANN, "analyst"), (ROOT, "admin"), (MIA, "marketer")):
        create_user(email, role, PASSWORD)


@pytest.fixture
def locked(client, people) -> None:
    """Ann's email locked by three wrong passwords."""
    for _ in range(3):
        assert sign_in(client, ANN, "a wrong password").status_code == 200
    assert sign_in(client, ANN).status_code == 429


def signed_in_as(client, email: str):
    """``client`` signed in as ``email`` (signed out first if someone was). One test client
    only: the test's app context keeps one CSRF token, which a second browser would not share."""
    if client.get("/admin/").status_code == 200:
        client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert sign_in(client, email).status_code == 302
    return client


def signed_out(client):
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    return client


def notices(client, path: str = "/admin/") -> list[str]:
    html = client.get(path).get_data(as_text=True)
    found = re.findall(r'<p class="notice" role="status">(.*?)</p>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", each).split()) for each in found]


def lock_cell(client) -> str:
    rows = table_rows(client.get("/admin/users").get_data(as_text=True))
    return {row[0]: row[5] for row in rows}[ANN]


def unlock(client, user_id: int, token: str | None):
    data = {"csrf_token": token} if token else {}
    return client.post(f"/admin/users/{user_id}/unlock", data=data)


def ann_id() -> int:
    return db.session.scalar(select(User.id).where(User.email == ANN))


def test_admins_see_the_lock_on_every_console_page_until_it_ends(app, locked, clock, client):
    root = signed_in_as(client, ROOT)
    assert notices(root) == [NOTICE]
    assert notices(root, "/admin/users") == [NOTICE]
    clock.advance(minutes=15)
    assert notices(root) == []


def test_other_roles_do_not_see_the_notice(app, locked, client):
    assert notices(signed_in_as(client, MIA)) == []


def test_an_unknown_emails_lock_makes_no_notice(app, people, client):
    for _ in range(4):
        sign_in(client, "nobody@acme.example", "a wrong password")
    assert notices(signed_in_as(client, ROOT)) == []


def test_the_users_page_shows_the_lock_and_unlocking_lets_ann_in(app, locked, caplog, client):
    caplog.set_level(logging.INFO, logger="trickle.accounts")
    root = signed_in_as(client, ROOT)
    assert lock_cell(root) == "locked until 2026-03-02 09:15 UTC Unlock"
    response = unlock(root, ann_id(), csrf_token(root, "/admin/users"))
    assert (response.status_code, response.location) == (302, "/admin/users")
    html = root.get("/admin/users").get_data(as_text=True)
    assert '<p class="flash" role="status">ann@acme.example may sign in again.</p>' in html
    assert lock_cell(root) == "—"
    assert notices(root) == []
    assert db.session.scalars(select(LoginThrottle)).all() == []
    assert sign_in(signed_out(client), ANN).status_code == 302
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "sign_in_unlocked"]
    assert (
        record.getMessage() == "console sign-in unlocked for ann@acme.example by root@acme.example"
    )
    assert (record.user_id, record.by, record.was_locked) == (ann_id(), ROOT, True)


@pytest.mark.parametrize("token", [None, "forged"])
def test_unlocking_needs_the_csrf_token(app, locked, token, client):
    root = signed_in_as(client, ROOT)
    assert unlock(root, ann_id(), token).status_code == 400
    assert lock_cell(root) == "locked until 2026-03-02 09:15 UTC Unlock"


@pytest.mark.parametrize("who", ["a marketer", "nobody signed in"])
def test_only_admins_may_unlock(app, locked, who, client):
    if who == "a marketer":
        signed_in_as(client, MIA)
    response = unlock(client, ann_id(), csrf_token(client))
    assert (response.status_code, response.location) == (
        (403, None)
        if who == "a marketer"
        else (302, "/admin/login?next=%2Fadmin%2Fusers%2F1%2Funlock")
    )
    assert notices(signed_in_as(client, ROOT)) == [NOTICE]


def test_unlocking_someone_not_locked_says_so(app, people, client):
    root = signed_in_as(client, ROOT)
    response = unlock(root, ann_id(), csrf_token(root, "/admin/users"))
    assert response.status_code == 302
    html = root.get("/admin/users").get_data(as_text=True)
    assert '<p class="flash" role="status">ann@acme.example was not locked.</p>' in html


def test_unlocking_an_unknown_user_is_404(app, people, client):
    root = signed_in_as(client, ROOT)
    assert unlock(root, 999, csrf_token(root, "/admin/users")).status_code == 404


def test_the_command_unlocks_a_user(app, locked, runner, caplog, client):
    caplog.set_level(logging.INFO, logger="trickle.accounts")
    result = runner.invoke(args=["users", "unlock", " Ann@Acme.example "])
    assert (result.exit_code, result.output) == (0, "Unlocked ann@acme.example.\n")
    assert sign_in(client, ANN).status_code == 302
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "sign_in_unlocked"]
    assert (
        record.getMessage() == "console sign-in unlocked for ann@acme.example by the command line"
    )


def test_the_command_unlocks_an_unknown_email_and_clears_failures(app, people, runner, client):
    for _ in range(3):
        sign_in(client, "nobody@acme.example", "a wrong password")
    result = runner.invoke(args=["users", "unlock", "nobody@acme.example"])
    assert (result.exit_code, result.output) == (0, "Unlocked nobody@acme.example.\n")
    sign_in(client, ANN, "a wrong password")
    result = runner.invoke(args=["users", "unlock", ANN])
    assert (result.exit_code, result.output) == (
        0,
        "Cleared the failed sign-ins of ann@acme.example.\n",
    )
    assert db.session.scalars(select(LoginThrottle)).all() == []


@pytest.mark.parametrize("email", ["mia@acme.example", "not an email", ""])
def test_the_command_refuses_an_email_with_nothing_held(app, locked, runner, email):
    result = runner.invoke(args=["users", "unlock", email])
    assert (result.exit_code, result.output) == (
        1,
        "error: No failed sign-ins are held for this email.\n",
    )
    assert len(db.session.scalars(select(LoginThrottle)).all()) == 1
