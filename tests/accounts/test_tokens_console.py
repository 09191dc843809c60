"""The API tokens page of the console: admins list, create (shown once) and revoke tokens."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken
from app.services.accounts import authenticate_token, create_token, create_user
from app.services.errors import Unauthenticated
from tests.console import csrf_token, sign_in
from tests.factories import PASSWORD

ROOT = "root@acme.example"
PAGE = "/admin/sites/acme/tokens"
NEW_TOKEN = re.compile(r'<code id="new-token">([^<]+)</code>')


@pytest.fixture
def admin_client(signed_in, sites):
    return signed_in("admin", ROOT)


def token_rows() -> list[tuple]:
    """Every token as stored: name, role, site id, revoked_at, ordered by id."""
    db.session.expire_all()
    query = select(ApiToken.name, ApiToken.role, ApiToken.site_id, ApiToken.revoked_at)
    return [tuple(row) for row in db.session.execute(query.order_by(ApiToken.id))]


def create(client, name: str = "Nightly BI", role: str = "analyst", site: str = "acme"):
    data = {"name": name, "role": role, "csrf_token": csrf_token(client, "/admin/")}
    return client.post(f"/admin/sites/{site}/tokens", data=data)


def revoke(client, token_id: int, site: str = "acme"):
    data = {"csrf_token": csrf_token(client, "/admin/")}
    return client.post(f"/admin/sites/{site}/tokens/{token_id}/revoke", data=data)


def cells(html: str) -> list[list[str]]:
    """The text of each cell of the tokens table, row by row."""
    body = re.search(r'<table class="tokens">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        for row in rows
    ]


def test_the_page_lists_the_sites_tokens_newest_first(admin_client, clock):
    first, first_raw = create_token("acme", "analyst", "BI", now=clock())
    clock.advance(minutes=30)
    authenticate_token(first_raw, "acme", "analyst", clock())
    create_token("other", "analyst", "Elsewhere", now=clock())
    second, second_raw = create_token("acme", "admin", "Erasure", now=clock())
    clock.advance(minutes=30)
    db.session.execute(
        ApiToken.__table__.update().where(ApiToken.id == second.id).values(revoked_at=clock())
    )
    db.session.commit()
    response = admin_client.get(PAGE)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert cells(html) == [
        [
            "Erasure",
            "admin",
            f"{second_raw[:12]}…",
            "—",
            "2026-03-02 09:30 UTC",
            "never",
            "revoked 2026-03-02 10:00 UTC",
        ],
        [
            "BI",
            "analyst",
            f"{first_raw[:12]}…",
            "—",
            "2026-03-02 09:00 UTC",
            "2026-03-02 09:30 UTC",
            "Revoke",
        ],
    ]
    assert f'action="/admin/sites/acme/tokens/{first.id}/revoke"' in html
    assert f"/tokens/{second.id}/revoke" not in html
    assert "Elsewhere" not in html
    assert first_raw not in html
    assert '<form method="post" action="/admin/sites/acme/tokens" novalidate>' in html


def test_creating_shows_the_token_once_and_stores_only_its_hash(admin_client, clock):
    response = create(admin_client, "  Nightly BI ", "marketer")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Token “Nightly BI” created" in html
    assert "it will not be shown again" in html
    raw = NEW_TOKEN.search(html).group(1)
    token = db.session.scalars(select(ApiToken)).one()
    assert (token.name, token.role, token.site.key, token.created_by.email) == (
        "Nightly BI",
        "marketer",
        "acme",
        ROOT,
    )
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:12]
    assert cells(html) == [
        ["Nightly BI", "marketer", f"{raw[:12]}…", ROOT, "2026-03-02 09:00 UTC", "never", "Revoke"]
    ]
    # the form is empty again, and the token is in no cookie, no session, no later page
    assert 'id="name" maxlength="200" name="name" type="text" value=""' in html
    assert raw not in response.headers.get("Set-Cookie", "")
    with admin_client.session_transaction() as session:
        assert raw not in repr(dict(session))
    later = admin_client.get(PAGE).get_data(as_text=True)
    assert raw not in later
    assert NEW_TOKEN.search(later) is None
    assert authenticate_token(raw, "acme", "marketer", clock()).id == token.id


@pytest.mark.parametrize(
    ("name", "role", "field", "message"),
    [
        ("", "analyst", "name", "Enter a name, so you can tell this token from others."),
        ("   ", "analyst", "name", "Enter a name, so you can tell this token from others."),
        ("x" * 201, "analyst", "name", "Use at most 200 characters."),
        ("a\x00b", "analyst", "name", "Contains characters that are not allowed."),
        ("Nightly BI", "owner", "role", "Not a valid choice."),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_saves_nothing(
    admin_client, name, role, field, message
):
    response = create(admin_client, name, role)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'<p class="error" id="{field}-error">{re.escape(message)}</p>', html)
    assert html.count('class="error"') == 1
    assert re.search(rf'<div class="field bad">\s*<label for="{field}"', html)
    assert token_rows() == []
    assert NEW_TOKEN.search(html) is None


def test_a_name_with_markup_is_shown_as_text(admin_client):
    response = create(admin_client, '<b>x</b><script>alert("hi")</script>')
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    escaped = "&lt;b&gt;x&lt;/b&gt;&lt;script&gt;alert(&#34;hi&#34;)&lt;/script&gt;"
    assert f"Token “{escaped}” created" in html
    assert "<b>x</b>" not in html
    assert "<script>alert" not in html
    listing = admin_client.get(PAGE).get_data(as_text=True)
    assert f"<td>{escaped}</td>" in listing
    assert "<b>x</b>" not in listing


def test_revoking_stops_the_token_at_once(admin_client, clock):
    token, raw = create_token("acme", "analyst", "BI", now=clock())
    response = revoke(admin_client, token.id)
    assert (response.status_code, response.location) == (302, PAGE)
    assert token_rows()[0][3] == clock()
    with pytest.raises(Unauthenticated):
        authenticate_token(raw, "acme", "analyst", clock())
    html = admin_client.get(PAGE).get_data(as_text=True)
    flash = f'<p class="flash" role="status">Token &#34;BI&#34; ({raw[:12]}…) is revoked: calls with it are refused.</p>'
    assert flash in html
    assert cells(html)[0][-1] == "revoked 2026-03-02 09:00 UTC"


@pytest.mark.parametrize(
    ("site", "which"), [("other", "own"), ("acme", "next"), ("nope", "own"), ("acme", "huge")]
)
def test_revoking_an_unknown_or_foreign_token_is_404(admin_client, clock, site, which):
    token, raw = create_token("acme", "analyst", "BI", now=clock())
    token_id = {"own": token.id, "next": token.id + 1, "huge": 10**20}[which]
    assert revoke(admin_client, token_id, site).status_code == 404
    assert token_rows()[0][3] is None
    assert authenticate_token(raw, "acme", "analyst", clock()).id == token.id


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("site", ["nope", "acme%00"])
def test_an_unknown_site_is_404(admin_client, method, site):
    data = {"name": "BI", "role": "analyst", "csrf_token": csrf_token(admin_client, "/admin/")}
    response = getattr(admin_client, method)(f"/admin/sites/{site}/tokens", data=data)
    assert response.status_code == 404
    assert token_rows() == []


def _requests(token_id: int) -> list[tuple[str, str, dict[str, str]]]:
    return [
        ("get", PAGE, {}),
        ("post", PAGE, {"name": "BI", "role": "admin"}),
        ("post", f"{PAGE}/{token_id}/revoke", {}),
    ]


@pytest.mark.parametrize("role", ["analyst", "marketer"])
@pytest.mark.parametrize("which", range(3))
def test_only_admins_may_see_or_change_tokens(client, sites, clock, role, which):
    token, _ = create_token("acme", "analyst", "BI", now=clock())
    create_user("low@acme.example", role, PASSWORD)
    sign_in(client, "low@acme.example")
    before = token_rows()
    method, path, data = _requests(token.id)[which]
    if method == "post":
        data = {**data, "csrf_token": csrf_token(client, "/admin/")}
    response = getattr(client, method)(path, data=data)
    assert response.status_code == 403
    assert token_rows() == before


@pytest.mark.parametrize("which", range(3))
def test_anonymous_visitors_are_sent_to_sign_in(client, sites, clock, which):
    token, _ = create_token("acme", "analyst", "BI", now=clock())
    before = token_rows()
    method, path, data = _requests(token.id)[which]
    if method == "post":
        data = {**data, "csrf_token": csrf_token(client)}
    response = getattr(client, method)(path, data=data)
    assert response.status_code == 302
    assert response.location.startswith("/admin/login?next=%2Fadmin%2Fsites%2Facme%2Ftokens")
    assert token_rows() == before


@pytest.mark.parametrize("bad_token", [None, "forged"])
@pytest.mark.parametrize("which", [1, 2])
def test_a_post_without_a_valid_csrf_token_is_400_and_changes_nothing(
    admin_client, clock, which, bad_token
):
    token, _ = create_token("acme", "analyst", "BI", now=clock())
    before = token_rows()
    _method, path, data = _requests(token.id)[which]
    if bad_token:
        data = {**data, "csrf_token": bad_token}
    response = admin_client.post(path, data=data)
    assert response.status_code == 400
    assert token_rows() == before
