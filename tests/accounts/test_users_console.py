"""The users pages of the console: admins list, add and change users; nobody else may."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from app.admin.contacts import console_time
from app.extensions import db
from app.models import User
from app.services.accounts import create_user, load_user, update_user
from app.services.accounts.users import LAST_ADMIN
from app.services.errors import Invalid
from tests.console import csrf_token, sign_in
from tests.factories import PASSWORD

ROOT = "root@acme.example"
MIA = "mia@acme.example"
NEW_PASSWORD = re.compile(r'<code id="new-password">([^<]+)</code>')


def fresh(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one request as production does: in its own app context (a new thread starts with an
    empty context), so nothing (``g``, the db session, the loaded user) is shared with the test's
    context or another client's requests."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call, *args, **kwargs).result()


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def stored(email: str) -> tuple[str, bool, str]:
    """Role, active and password hash as stored (not as cached by the session)."""
    row = db.session.execute(
        select(User.role, User.active, User.password_hash).where(User.email == email)
    ).one()
    return tuple(row)


def user_id(email: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == email))


@pytest.fixture
def root(app) -> User:
    user, _ = create_user(ROOT, "admin", PASSWORD)
    return user


@pytest.fixture
def mia(app) -> User:
    user, _ = create_user(MIA, "marketer", PASSWORD)
    return user


@pytest.fixture
def admin_client(client, root):
    assert sign_in(client, ROOT).status_code == 302
    return client


def token(client) -> str:
    return csrf_token(client, "/admin/")


def add(client, email: str, role: str = "analyst", password: str = "", **extra: str):
    data = {"email": email, "role": role, "password": password, "csrf_token": token(client)}
    return client.post("/admin/users", data={**data, **extra})


def change(client, target: int, role: str, active: bool):
    data = {"role": role, "csrf_token": token(client)}
    if active:
        data["active"] = "y"
    return client.post(f"/admin/users/{target}", data=data)


def test_the_list_shows_every_user_with_role_state_and_times(admin_client, mia, clock):
    disabled, _ = create_user("old@acme.example", "analyst", PASSWORD)
    disabled.active = False
    db.session.commit()
    response = admin_client.get("/admin/users")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    rows = re.findall(r"<tr>\s*(.*?)</tr>", html, re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row, re.S) for row in rows[1:]]
    created = {u.email: console_time(u.created_at) for u in db.session.scalars(select(User))}
    assert [[" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in row] for row in cells] == [
        [MIA, "marketer", "active", created[MIA], "—", "—"],
        ["old@acme.example", "analyst", "disabled", created["old@acme.example"], "—", "—"],
        [f"{ROOT} (you)", "admin", "active", created[ROOT], "2026-03-02 09:00 UTC", "—"],
    ]
    assert f'href="/admin/users/{mia.id}"' in html
    assert '<form method="post" action="/admin/users" novalidate>' in html


def test_adding_a_user_shows_the_generated_password_once(admin_client, app, clock):
    response = add(admin_client, "Lea@Acme.example", "marketer")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "User lea@acme.example created." in html
    assert "it will not be shown again" in html
    password = NEW_PASSWORD.search(html).group(1)
    assert len(password) == 20
    assert stored("lea@acme.example")[:2] == ("marketer", True)
    # never in the cookie, nor on any later page
    assert password not in response.headers.get("Set-Cookie", "")
    with admin_client.session_transaction() as session:
        assert password not in repr(dict(session))
    assert password not in admin_client.get("/admin/users").get_data(as_text=True)
    lea_id = user_id("lea@acme.example")
    assert password not in admin_client.get(f"/admin/users/{lea_id}").get_data(as_text=True)
    assert "Copy" not in admin_client.get(f"/admin/users/{lea_id}").get_data(as_text=True)

    lea = app.test_client()
    assert fresh(sign_in, lea, "lea@acme.example", password).location == "/admin/"
    assert "lea@acme.example · marketer" in fresh(lea.get, "/admin/").get_data(as_text=True)


def test_adding_a_user_with_a_typed_password_flashes_and_redirects(admin_client, app):
    response = add(admin_client, "lea@acme.example", "analyst", "a typed long password")
    assert (response.status_code, response.location) == (302, "/admin/users")
    with admin_client.session_transaction() as session:
        assert "a typed long password" not in repr(dict(session))
    html = admin_client.get("/admin/users").get_data(as_text=True)
    assert '<p class="flash" role="status">User lea@acme.example created.</p>' in html
    lea = app.test_client()
    assert fresh(sign_in, lea, "lea@acme.example", "a typed long password").location == "/admin/"


@pytest.mark.parametrize(
    ("email", "role", "password", "field", "message"),
    [
        ("not-an-email", "analyst", "", "email", "Enter a valid email address."),
        ("", "analyst", "", "email", "Enter an email address."),
        ("ROOT@acme.example", "analyst", "", "email", "A user with this email exists."),
        ("lea@acme.example", "analyst", "short", "password", "Use at least 12 characters."),
        ("lea@acme.example", "analyst", "x" * 201, "password", "Use at most 200 characters."),
        ("lea@acme.example", "owner", "", "role", "Not a valid choice."),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_saves_nothing(
    admin_client, email, role, password, field, message
):
    before = user_count()
    response = add(admin_client, email, role, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'<p class="error" id="{field}-error">{re.escape(message)}</p>', html)
    assert html.count('class="error"') == 1
    assert re.search(rf'<div class="field bad">\s*<label for="{field}"', html)
    assert re.search(rf'aria-describedby="[^"]*{field}-error"[^>]*aria-invalid="true"', html) or (
        re.search(rf'aria-invalid="true"[^>]*aria-describedby="[^"]*{field}-error"', html)
    )
    assert user_count() == before
    assert NEW_PASSWORD.search(html) is None


def test_an_email_with_markup_is_stored_as_typed_and_shown_as_text(admin_client):
    # create_user accepts it (any printable local part, as the CLI does): it is shown escaped.
    response = add(admin_client, "<b>x</b>@acme.example", "analyst")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "User &lt;b&gt;x&lt;/b&gt;@acme.example created." in html
    assert "<b>x</b>" not in html
    listing = admin_client.get("/admin/users").get_data(as_text=True)
    assert "&lt;b&gt;x&lt;/b&gt;@acme.example" in listing
    assert "<b>x</b>" not in listing
    page = admin_client.get(f"/admin/users/{user_id('<b>x</b>@acme.example')}")
    assert "<b>x</b>" not in page.get_data(as_text=True)


def _requests(target: int) -> list[tuple[str, str, dict[str, str]]]:
    return [
        ("get", "/admin/users", {}),
        ("post", "/admin/users", {"email": "lea@acme.example", "role": "admin"}),
        ("get", f"/admin/users/{target}", {}),
        ("post", f"/admin/users/{target}", {"role": "analyst"}),  # and not active
        ("post", f"/admin/users/{target}/password", {}),
    ]


@pytest.mark.parametrize("role", ["analyst", "marketer"])
@pytest.mark.parametrize("which", range(5))
def test_only_admins_may_see_or_change_users(client, root, role, which):
    create_user("low@acme.example", role, PASSWORD)
    sign_in(client, "low@acme.example")
    before = (user_count(), stored(ROOT), stored("low@acme.example"))
    for target in (root.id, user_id("low@acme.example")):
        method, path, data = _requests(target)[which]
        if method == "post":
            data = {**data, "csrf_token": token(client)}
        response = getattr(client, method)(path, data=data)
        assert response.status_code == 403
    assert (user_count(), stored(ROOT), stored("low@acme.example")) == before


@pytest.mark.parametrize("which", range(5))
def test_anonymous_visitors_are_sent_to_sign_in(client, root, which):
    before = (user_count(), stored(ROOT))
    method, path, data = _requests(root.id)[which]
    if method == "post":
        data = {**data, "csrf_token": csrf_token(client)}
    response = getattr(client, method)(path, data=data)
    assert response.status_code == 302
    assert response.location.startswith("/admin/login?next=%2Fadmin%2Fusers")
    assert (user_count(), stored(ROOT)) == before


@pytest.mark.parametrize("bad_token", [None, "forged"])
@pytest.mark.parametrize("which", [1, 3, 4])
def test_a_post_without_a_valid_csrf_token_is_400_and_saves_nothing(
    admin_client, mia, which, bad_token
):
    before = (user_count(), stored(ROOT), stored(MIA))
    _method, path, data = _requests(mia.id)[which]
    if bad_token:
        data = {**data, "csrf_token": bad_token}
    response = admin_client.post(path, data=data)
    assert response.status_code == 400
    assert (user_count(), stored(ROOT), stored(MIA)) == before


@pytest.mark.parametrize(("method", "path"), [("get", ""), ("post", ""), ("post", "/password")])
def test_an_unknown_user_is_404(admin_client, method, path):
    data = {"role": "admin", "active": "y", "csrf_token": token(admin_client)}
    response = getattr(admin_client, method)(f"/admin/users/999999{path}", data=data)
    assert response.status_code == 404


def test_the_user_page_shows_and_changes_role_and_state(admin_client, mia):
    html = admin_client.get(f"/admin/users/{mia.id}").get_data(as_text=True)
    assert f"<h1>{MIA} <small" in html
    assert '<option selected value="marketer">marketer</option>' in html
    assert 'id="active" name="active" type="checkbox" value="y"' in html
    assert "checked" in re.search(r'<input[^>]*id="active"[^>]*>', html).group(0)
    assert f'action="/admin/users/{mia.id}/password"' in html

    response = change(admin_client, mia.id, "analyst", active=False)
    assert (response.status_code, response.location) == (302, f"/admin/users/{mia.id}")
    assert stored(MIA)[:2] == ("analyst", False)
    html = admin_client.get(f"/admin/users/{mia.id}").get_data(as_text=True)
    assert f"Saved {MIA}: analyst, disabled." in html
    assert "checked" not in re.search(r'<input[^>]*id="active"[^>]*>', html).group(0)

    assert change(admin_client, mia.id, "admin", active=True).status_code == 302
    assert stored(MIA)[:2] == ("admin", True)


@pytest.mark.parametrize(
    ("role", "active", "field"), [("marketer", True, "role"), ("admin", False, "active")]
)
def test_the_last_active_admin_cannot_be_demoted_or_disabled(
    admin_client, root, mia, role, active, field
):
    other, _ = create_user("gone@acme.example", "admin", PASSWORD)  # disabled: does not count
    update_user(other, "admin", active=False)
    before = (stored(ROOT), stored(MIA), stored("gone@acme.example"))
    response = change(admin_client, root.id, role, active)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<p class="error" id="{field}-error">{LAST_ADMIN}</p>' in html
    assert html.count('class="error"') == 1
    assert (stored(ROOT), stored(MIA), stored("gone@acme.example")) == before
    assert admin_client.get("/admin/users").status_code == 200  # still an admin


def test_an_admin_may_step_down_when_another_admin_remains(admin_client, app, mia):
    update_user(mia, "admin", active=True)
    root_id = user_id(ROOT)
    response = change(admin_client, root_id, "analyst", active=True)
    assert (response.status_code, response.location) == (302, "/admin/")
    assert stored(ROOT)[:2] == ("analyst", True)
    assert admin_client.get("/admin/users").status_code == 403
    # and now mia is the last admin
    mia_client = app.test_client()
    fresh(sign_in, mia_client, MIA)
    response = fresh(
        mia_client.post,
        f"/admin/users/{mia.id}",
        data={"role": "marketer", "active": "y", "csrf_token": fresh(token, mia_client)},
    )
    assert response.status_code == 422
    assert stored(MIA)[:2] == ("admin", True)


def test_the_last_admin_rule_reads_the_database_not_a_stale_object(app, root, mia):
    update_user(mia, "admin", active=True)
    stale_root = db.session.get(User, root.id)
    update_user(mia, "analyst", active=True)
    with pytest.raises(Invalid) as refused:
        update_user(stale_root, "analyst", active=True)
    assert refused.value.fields == {"role": [LAST_ADMIN]}
    assert stored(ROOT)[:2] == ("admin", True)


def test_disabling_a_user_ends_their_open_session(admin_client, app, mia):
    mia_client = app.test_client()
    fresh(sign_in, mia_client, MIA)
    assert fresh(mia_client.get, "/admin/").status_code == 200

    assert change(admin_client, mia.id, "marketer", active=False).status_code == 302

    response = fresh(mia_client.get, "/admin/")
    assert (response.status_code, response.location) == (302, "/admin/login?next=%2Fadmin%2F")
    assert load_user(f"{mia.id}.0") is None
    assert "Wrong email or password." in fresh(sign_in, mia_client, MIA).get_data(as_text=True)


def test_disabling_yourself_signs_you_out(admin_client, mia):
    update_user(mia, "admin", active=True)
    response = change(admin_client, user_id(ROOT), "admin", active=False)
    assert (response.status_code, response.location) == (302, "/admin/")
    assert stored(ROOT)[:2] == ("admin", False)
    assert fresh(admin_client.get, "/admin/").location == "/admin/login?next=%2Fadmin%2F"


def test_resetting_a_password_shows_a_new_one_once(admin_client, app, mia):
    old_hash = stored(MIA)[2]
    response = admin_client.post(
        f"/admin/users/{mia.id}/password", data={"csrf_token": token(admin_client)}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"New password for {MIA}." in html
    assert "it will not be shown again" in html
    password = NEW_PASSWORD.search(html).group(1)
    assert stored(MIA)[2] != old_hash
    assert password not in admin_client.get(f"/admin/users/{mia.id}").get_data(as_text=True)
    mia_client = app.test_client()
    assert "Wrong email or password." in fresh(sign_in, mia_client, MIA).get_data(as_text=True)
    assert fresh(sign_in, mia_client, MIA, password).location == "/admin/"


@pytest.mark.parametrize("action", ["reset password", "change role", "disable and enable"])
def test_a_password_reset_or_role_change_ends_open_sessions(admin_client, app, mia, action):
    mia_client = app.test_client()
    fresh(sign_in, mia_client, MIA)
    assert fresh(mia_client.get, "/admin/").status_code == 200
    if action == "reset password":
        url, data = f"/admin/users/{mia.id}/password", {"csrf_token": token(admin_client)}
        assert admin_client.post(url, data=data).status_code == 200
    elif action == "change role":
        assert change(admin_client, mia.id, "analyst", active=True).status_code == 302
    else:
        assert change(admin_client, mia.id, "marketer", active=False).status_code == 302
        assert change(admin_client, mia.id, "marketer", active=True).status_code == 302
    response = fresh(mia_client.get, "/admin/")
    assert (response.status_code, response.location) == (302, "/admin/login?next=%2Fadmin%2F")
    assert load_user(f"{mia.id}.0") is None
    version = 2 if action == "disable and enable" else 1
    assert load_user(f"{mia.id}.{version}").email == MIA


@pytest.mark.parametrize("session_id", ["", "1", "1.", ".0", "x.0", "1.x", "1.0.0"])
def test_a_malformed_session_id_signs_nobody_in(app, mia, session_id):
    assert load_user(session_id) is None
