"""The site settings page's inbound webhook card (admins only): the endpoint, the secret's
status, generating or replacing it (shown once) with an overlap."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import SiteSecret
from app.services.sales import new_inbound_secret
from tests.console import csrf_token, field_errors

PAGE = "/admin/sites/acme/settings"
GENERATE = "/admin/sites/acme/settings/inbound-secret"
NEW_SECRET = re.compile(r'<code id="new-inbound-secret">([^<]+)</code>')


def card(html: str) -> str:
    start = html.index('<section class="card inbound" id="inbound">')
    return " ".join(html[start : html.index("</section>", start)].split())


def secrets() -> list[tuple]:
    db.session.expire_all()
    query = select(
        SiteSecret.purpose, SiteSecret.secret, SiteSecret.created_by, SiteSecret.expires_at
    )
    return [tuple(row) for row in db.session.execute(query.order_by(SiteSecret.id))]


def generate(client, **data):
    token = csrf_token(client, PAGE)
    return client.post(GENERATE, data={"inbound-csrf_token": token, **data})


@pytest.fixture
def admin(signed_in, site):
    return signed_in("admin", "root@acme.example")


def test_without_a_secret_the_card_names_the_endpoint(admin):
    shown = card(admin.get(PAGE).get_data(as_text=True))
    assert "<code>http://localhost/api/v1/sites/acme/inbound/outcomes</code>" in shown
    assert "No inbound secret yet: the site takes no inbound webhook." in shown
    assert "Generate inbound secret</button>" in shown
    assert 'name="inbound-overlap_hours"' not in shown


def test_a_generated_secret_is_shown_once_then_replaced_with_an_overlap(admin, clock):
    response = generate(admin)
    assert response.status_code == 200
    [(purpose, stored, by, expires)] = secrets()
    assert (purpose, by, expires) == ("inbound", "root@acme.example", None)
    assert stored.startswith("whsec_")
    assert NEW_SECRET.search(response.get_data(as_text=True)).group(1) == stored
    again = admin.get(PAGE).get_data(as_text=True)
    assert stored not in again
    shown = card(again)
    assert (
        f"Current secret <code>…{stored[-4:]}</code>, generated 2026-03-02 09:00 UTC by"
        " root@acme.example."
    ) in shown
    assert 'id="inbound-overlap_hours" name="inbound-overlap_hours"' in shown
    assert 'value="24"' in shown
    clock.advance(hours=1)
    replaced = generate(admin, **{"inbound-overlap_hours": "6"})
    newer = NEW_SECRET.search(replaced.get_data(as_text=True)).group(1)
    assert [(s, e.isoformat() if e else None) for _, s, _, e in secrets()] == [
        (stored, "2026-03-02T16:00:00+00:00"),
        (newer, None),
    ]
    assert (
        f"Replaced secret <code>…{stored[-4:]}</code> still verifies until 2026-03-02 16:00 UTC."
    ) in card(admin.get(PAGE).get_data(as_text=True))


@pytest.mark.parametrize(
    ("overlap", "message"),
    [
        ("-1", "Enter 0 to 720 hours."),
        ("721", "Enter 0 to 720 hours."),
        ("x", "Not a valid integer value."),
    ],
)
def test_a_bad_overlap_is_shown_on_its_input_and_changes_nothing(admin, clock, overlap, message):
    old = new_inbound_secret("acme", "ops@acme.example", clock())
    response = generate(admin, **{"inbound-overlap_hours": overlap})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_errors(html)["inbound-overlap_hours"] == message
    assert secrets() == [("inbound", old, "ops@acme.example", None)]
    assert old not in html


def test_a_post_without_the_csrf_token_is_refused(admin):
    assert admin.post(GENERATE, data={"inbound-overlap_hours": "24"}).status_code == 400
    assert secrets() == []


@pytest.mark.parametrize("role", ["analyst", "marketer"])
def test_only_admins_see_or_use_it(signed_in, site, role):
    client = signed_in(role, f"{role}@acme.example")
    assert 'id="inbound"' not in client.get(PAGE).get_data(as_text=True)
    assert generate(client, **{"inbound-overlap_hours": "24"}).status_code == 403
    assert secrets() == []


def test_a_sales_user_cannot_reach_it(signed_in, site):
    client = signed_in("sales", "rep@acme.example")
    assert client.get(PAGE).status_code == 403
    assert client.post(GENERATE, data={"inbound-overlap_hours": "24"}).status_code in (400, 403)
    assert secrets() == []
