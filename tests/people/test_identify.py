"""POST /identify and POST /links: what verifies, and that nothing else does or tells anything.

Forged, expired, other-site and other-contact proofs are treated as absent: ``verified`` false,
the browser unchanged, and the same answer whether or not the email is known.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.domain.identity import identity_hash, mint_link_token
from app.extensions import db
from app.models import Contact, Visitor
from app.services.accounts import create_token
from app.services.people import mint_links, new_identity_secret
from app.services.tokens import read_visitor_token, visitor_token
from tests.factories import Widget, acme_config, make_site

ADA = "ada@acme-corp.example"


@pytest.fixture
def two_sites(app, clock) -> dict[str, str]:
    """Acme (with Ada, a known contact) and Other, each with its identity secret."""
    make_site()
    other = acme_config()
    other["site"] = {**other["site"], "key": "other", "name": "Other"}
    make_site(other)
    return {key: new_identity_secret(key, None, clock()) for key in ("acme", "other")}


@pytest.fixture
def ada(client, two_sites) -> Widget:
    widget = Widget(client)
    widget.ask()
    assert widget.submit({"email": ADA, "first_name": "Ada"}).status_code == 200
    return widget


def trust_of(widget: Widget) -> list[tuple[str | None, str]]:
    """(email, trust) of every browser."""
    rows = db.session.execute(
        select(Contact.email, Visitor.trust).join(Contact, Contact.id == Visitor.contact_id)
    )
    return sorted((tuple(row) for row in rows), key=lambda row: (row[0] or "", row[1]))


def identify(client, body: dict[str, Any], site: str = "acme"):
    return client.post(f"/api/v1/sites/{site}/identify", json=body)


def test_a_hash_verifies_whatever_the_case_and_spaces_of_the_email(client, ada, two_sites):
    phone = Widget(client)
    assert phone.identify(
        email="  ADA@Acme-Corp.example ", hash=identity_hash(two_sites["acme"], ADA)
    )
    assert trust_of(phone) == [(ADA, "claimed"), (ADA, "verified")]


@pytest.mark.parametrize(
    "proof",
    [
        "forged",
        "other site's secret",
        "another person's hash",
        "uppercase hex of another",
        "empty-ish",
    ],
)
def test_a_hash_that_does_not_verify_is_treated_as_absent(client, ada, two_sites, proof):
    hashes = {
        "forged": "0" * 64,
        "other site's secret": identity_hash(two_sites["other"], ADA),
        "another person's hash": identity_hash(two_sites["acme"], "bob@acme-corp.example"),
        "uppercase hex of another": identity_hash(two_sites["acme"], "x@y.example").upper(),
        "empty-ish": " ",
    }
    phone = Widget(client)
    assert phone.identify(email=ADA, hash=hashes[proof]) is False
    # A new anonymous browser; Ada's contact untouched.
    assert trust_of(phone) == [(None, "claimed"), (ADA, "claimed")]  # None sorts first


def test_known_and_unknown_emails_get_the_same_answer_to_a_wrong_hash(client, ada):
    answers = []
    for email in (ADA, "nobody@elsewhere.example"):
        phone = Widget(client)
        phone.ask()
        response = identify(client, {"visitor": phone.visitor, "email": email, "hash": "ab" * 32})
        # Stored under the id its ask gave it: the answer is that visitor's token.
        stored = visitor_token("acme", read_visitor_token("acme", phone.visitor))
        answers.append(
            (response.status_code, response.get_json() == {"visitor": stored, "verified": False})
        )
    assert answers == [(200, True), (200, True)]


def test_a_site_without_a_secret_ignores_hashes(client, app):
    make_site()
    phone = Widget(client)
    assert phone.identify(email=ADA, hash=identity_hash("tis_guess", ADA)) is False


def test_a_rotated_secret_verifies_during_its_overlap_only(client, ada, two_sites, clock):
    old = two_sites["acme"]
    new_identity_secret("acme", None, clock(), overlap_hours=24)
    clock.advance(hours=23)
    assert Widget(client).identify(email=ADA, hash=identity_hash(old, ADA))
    clock.advance(hours=2)
    assert Widget(client).identify(email=ADA, hash=identity_hash(old, ADA)) is False


def test_links_verify_until_they_expire_and_only_on_their_site(client, ada, two_sites, clock):
    [link] = mint_links("acme", [ADA], clock(), days=30)
    assert link.expires_at == clock().replace(month=4, day=1)
    assert Widget(client).identify(link=link.token)
    assert Widget(client, site="other").identify(link=link.token) is False
    clock.advance(days=30)
    assert Widget(client).identify(link=link.token) is False  # replayed after expiry


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-token",
        "a.b.c",
        "AAAAAAAAAAAAAAAAAAAAAA.99999999999.sig",
        "ünïcode.1.2",
    ],
)
def test_malformed_links_are_treated_as_absent(client, ada, token):
    body: dict[str, Any] = {"link": token}
    response = identify(client, body)
    if token == "":
        assert response.status_code == 422
        return
    assert response.status_code == 200
    assert response.get_json()["verified"] is False


def test_a_link_for_nobody_known_or_signed_too_far_ahead_does_not_verify(
    client, ada, two_sites, clock
):
    key = db.session.scalar(select(Contact.site_id))
    from app.models import Site

    link_key = db.session.get(Site, key).link_key
    now = int(clock().timestamp())
    stranger = mint_link_token(link_key, two_sites["acme"], "nobody@acme-corp.example", now + 3600)
    far = mint_link_token(link_key, two_sites["acme"], ADA, now + 401 * 86400)
    digest, expires, signature = mint_link_token(
        link_key, two_sites["acme"], ADA, now + 3600
    ).split(".")
    padded = f"{digest}.0{expires}.{signature}"  # the same link spelled another way
    assert Widget(client).identify(link=stranger) is False
    assert Widget(client).identify(link=far) is False
    assert Widget(client).identify(link=padded) is False
    assert Widget(client).identify(link=f"{digest}.{expires}.{signature}")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"_body": ["Send either email with hash, or link."]}),
        ({"email": ADA}, {"hash": ["Send email and hash together."]}),
        ({"hash": "ab"}, {"email": ["Send email and hash together."]}),
        (
            {"email": ADA, "hash": "ab", "link": "x.1.y"},
            {"_body": ["Send either email with hash, or link."]},
        ),
        ({"link": "x" * 257}, {"link": ["Length must be between 1 and 256."]}),
        ({"link": "x", "extra": 1}, {"extra": ["Unknown field."]}),
    ],
)
def test_bad_identify_bodies_are_refused_and_change_nothing(client, ada, body, fields):
    response = identify(client, body)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == fields
    assert db.session.scalar(select(db.func.count()).select_from(Visitor)) == 1


def test_the_links_endpoint_mints_many_for_an_admin_token(client, ada, clock):
    admin = create_token("acme", "admin", "esp", now=clock())[1]
    marketer = create_token("acme", "marketer", "m", now=clock())[1]
    body = {"emails": [ADA, "Bob@acme-corp.example"], "days": 7}
    refused = client.post(
        "/api/v1/sites/acme/links", json=body, headers={"Authorization": f"Bearer {marketer}"}
    )
    assert refused.status_code == 403
    response = client.post(
        "/api/v1/sites/acme/links", json=body, headers={"Authorization": f"Bearer {admin}"}
    )
    assert response.status_code == 200
    data = response.get_json()
    assert data["parameter"] == "trickle"
    assert [(x["email"], x["expires_at"]) for x in data["links"]] == [
        (ADA, "2026-03-09T09:00:00Z"),
        ("bob@acme-corp.example", "2026-03-09T09:00:00Z"),
    ]
    assert Widget(client).identify(link=data["links"][0]["token"])


def test_links_need_a_secret_and_a_sane_lifetime(client, app, clock):
    make_site()
    admin = create_token("acme", "admin", "esp", now=clock())[1]
    headers = {"Authorization": f"Bearer {admin}"}
    no_secret = client.post("/api/v1/sites/acme/links", json={"emails": [ADA]}, headers=headers)
    assert no_secret.status_code == 422
    assert "not set up" in no_secret.get_json()["error"]["message"]
    new_identity_secret("acme", None, clock())
    too_long = client.post(
        "/api/v1/sites/acme/links", json={"emails": [ADA], "days": 401}, headers=headers
    )
    assert too_long.status_code == 422
    assert too_long.get_json()["error"]["fields"] == {
        "days": ["Must be greater than or equal to 1 and less than or equal to 400."]
    }
