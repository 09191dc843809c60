"""The site settings page's identity verification card (admins only): the secret's status,
generating or rotating it (shown once), and the link key email tools need."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Site, SiteSecret
from app.services.people import new_identity_secret
from tests.console import csrf_token, field_errors

PAGE = "/admin/sites/acme/settings"
GENERATE = "/admin/sites/acme/settings/identity-secret"
NEW_SECRET = re.compile(r'<code id="new-identity-secret">([^<]+)</code>')
ONCE = "Copy it now, into your site's backend and your email tool: it will not be shown again."


def text(html: str) -> str:
    """The page's text with whitespace collapsed (tags kept)."""
    return " ".join(html.split())


def card(html: str) -> str:
    start = html.index('<section class="card identity" id="identity">')
    return text(html[start : html.index("</section>", start)])


def secrets() -> list[tuple]:
    db.session.expire_all()
    query = select(SiteSecret.secret, SiteSecret.created_by, SiteSecret.expires_at)
    return [tuple(row) for row in db.session.execute(query.order_by(SiteSecret.id))]


def generate(client, **data):
    return client.post(GENERATE, data={"csrf_token": csrf_token(client, PAGE), **data})


@pytest.fixture
def admin(signed_in, site):
    return signed_in("admin", "root@acme.example")


def test_without_a_secret_the_card_says_so_and_shows_the_link_key(admin, site):
    html = admin.get(PAGE).get_data(as_text=True)

    shown = card(html)
    assert (
        "No identity secret yet: identity hashes and signed links are not checked, so every"
        " browser that types an email stays claimed."
    ) in shown
    assert '<button class="primary" type="submit">Generate identity secret</button>' in shown
    assert 'name="overlap_hours"' not in shown  # nothing to overlap yet
    link_key = db.session.scalar(select(Site.link_key))
    assert f'<code id="link-key">{link_key}</code>' in shown
    assert "Email tools that mint signed links themselves need this key" in shown


def test_a_generated_secret_is_shown_once_and_never_again(admin, clock):
    response = generate(admin)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    ((stored, by, expires),) = secrets()
    assert (by, expires) == ("root@acme.example", None)
    assert NEW_SECRET.search(html).group(1) == stored
    assert stored.startswith("tis_") and len(stored) == 47
    assert ONCE in text(html)
    assert stored not in response.headers.get("Set-Cookie", "")
    with admin.session_transaction() as session:
        assert stored not in repr(dict(session))

    again = admin.get(PAGE).get_data(as_text=True)
    assert stored not in again
    assert ONCE not in text(again)
    assert (
        f"Current secret <code>…{stored[-4:]}</code>, generated 2026-03-02 09:00 UTC by"
        " root@acme.example."
    ) in card(again)
    assert "Rotate identity secret</button>" in card(again)


def test_rotating_keeps_the_replaced_secret_for_the_overlap(admin, clock):
    old = new_identity_secret("acme", "ops@acme.example", clock())
    clock.advance(hours=1)

    response = generate(admin, overlap_hours="24")

    assert response.status_code == 200
    new = NEW_SECRET.search(response.get_data(as_text=True)).group(1)
    assert new != old
    assert [(secret, by) for secret, by, _ in secrets()] == [
        (old, "ops@acme.example"),
        (new, "root@acme.example"),
    ]
    assert [expires.isoformat() if expires else None for *_, expires in secrets()] == [
        "2026-03-03T10:00:00+00:00",
        None,
    ]
    shown = card(admin.get(PAGE).get_data(as_text=True))
    assert f"Current secret <code>…{new[-4:]}</code>, generated 2026-03-02 10:00 UTC" in shown
    assert (
        f"Replaced secret <code>…{old[-4:]}</code> still verifies until 2026-03-03 10:00 UTC."
    ) in shown
    assert 'value="72"' in shown  # the overlap input starts at the default again


@pytest.mark.parametrize(
    ("overlap", "message"),
    [
        ("-1", "Enter 0 to 720 hours."),
        ("999", "Enter 0 to 720 hours."),
        ("soon", "Not a valid integer value."),
        ("", "Not a valid integer value."),
    ],
)
def test_a_bad_overlap_is_shown_on_its_input_and_changes_nothing(admin, clock, overlap, message):
    old = new_identity_secret("acme", "ops@acme.example", clock())

    response = generate(admin, overlap_hours=overlap)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_errors(html)["overlap_hours"] == message
    assert secrets() == [(old, "ops@acme.example", None)]
    assert NEW_SECRET.search(html) is None
    assert old not in html


def test_a_post_without_the_csrf_token_is_refused(admin):
    assert admin.post(GENERATE, data={"overlap_hours": "72"}).status_code == 400
    assert secrets() == []


@pytest.mark.parametrize("role", ["analyst", "marketer"])
def test_marketers_and_analysts_neither_see_nor_use_it(signed_in, site, clock, role):
    client = signed_in(role)
    new_identity_secret("acme", "ops@acme.example", clock())
    before = secrets()

    html = client.get(PAGE).get_data(as_text=True)

    assert "Identity verification" not in html
    assert db.session.scalar(select(Site.link_key)) not in html
    assert 'action="/admin/sites/acme/settings/identity-secret"' not in html
    assert generate(client, overlap_hours="0").status_code == 403
    assert secrets() == before


def test_an_unknown_site_is_404(admin):
    token = csrf_token(admin, PAGE)
    response = admin.post("/admin/sites/nope/settings/identity-secret", data={"csrf_token": token})
    assert response.status_code == 404
