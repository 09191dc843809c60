"""Data-subject requests through the token API: GET everything held on one person, DELETE it;
404 for unknown ids and other sites' contacts; an erased email starts afresh."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.identity import identity_hash
from app.domain.specs import iso
from app.extensions import db
from app.models import (
    ConsentRecord,
    Contact,
    ContactErasure,
    EngagementEvent,
    OutboxEvent,
    ProfileValue,
    StageChange,
    Submission,
    Visitor,
)
from app.services.accounts import create_token
from app.services.people import new_identity_secret
from tests.factories import CONSENT_TEXT as TEXT
from tests.factories import CONSENT_VERSION as VERSION
from tests.factories import NEWSLETTER, Widget, acme_config, consent_config, make_site

URL = "/api/v1/sites/{}/contacts/{}"
STAGES = [{"key": "lead", "when": {"fields_known": ["email"]}}]
DESTINATION = {"key": "crm", "url": "https://crm.example/hooks", "events": ["contact.updated"]}


@pytest.fixture
def tokens(app, clock):
    make_site({**consent_config(), "stages": STAGES, "destinations": [DESTINATION]})
    other = acme_config()
    other["site"] = {**other["site"], "key": "other", "name": "Other"}
    make_site(other)
    return {
        "admin": create_token("acme", "admin", "dpo", now=clock())[1],
        "analyst": create_token("acme", "analyst", "bi", now=clock())[1],
        "other": create_token("other", "admin", "other dpo", now=clock())[1],
    }


def call(client, method, token, contact_id, site="acme"):
    return client.open(
        URL.format(site, contact_id), method=method, headers={"Authorization": f"Bearer {token}"}
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def person(client, clock) -> tuple[Widget, int]:
    widget = Widget(client)
    widget.ask()
    widget.event("content_download", content="guide.pdf", id="dl-1")
    response = widget.submit({"email": "ada@acme-corp.example", "newsletter": True})
    assert response.status_code == 200
    return widget, db.session.scalar(select(Contact.id).where(Contact.email.is_not(None)))


def test_get_returns_everything_held_on_the_person(client, clock, tokens):
    _widget, contact_id = person(client, clock)
    at = clock().isoformat().replace("+00:00", "Z")
    public_id = db.session.scalar(select(Visitor.public_id))
    body = call(client, "GET", tokens["analyst"], contact_id).get_json()
    deliveries = body.pop("deliveries")
    recorded = body.pop("recorded_events")
    assert body == {
        "contact": {
            "id": contact_id,
            "site": "acme",
            "email": "ada@acme-corp.example",
            "stage": "lead",
            "account_domain": "acme-corp.example",
            "created_at": at,
            "updated_at": at,
        },
        "profile": {
            "email": {"value": "ada@acme-corp.example", "updated_at": at, "form": "blog", "visitor": public_id, "source": "browser", "verified": False},
            "newsletter": {"value": True, "updated_at": at, "form": "blog", "visitor": public_id, "source": "browser", "verified": False},
        },
        "account_values_given": {},
        "history": [
            {"field": "email", "value": "ada@acme-corp.example", "previous_value": None, "form": "blog", "visitor": public_id, "source": "browser", "verified": False, "applied": True, "at": at},
            {"field": "newsletter", "value": True, "previous_value": None, "form": "blog", "visitor": public_id, "source": "browser", "verified": False, "applied": True, "at": at},
        ],
        "events": [
            {"kind": "content_download", "stage": "early", "id": "dl-1", "url": None, "content": "guide.pdf", "visitor": public_id, "at": at},
            {"kind": "form_submit", "stage": "early", "id": body["events"][1]["id"], "url": None, "content": None, "visitor": public_id, "at": at},
        ],
        "engagement": {"score": 5.0, "events": 2, "reached_stage": "early"},
        "consents": [
            {"field": "newsletter", "granted": True, "text": TEXT, "version": VERSION, "form": "blog", "visitor": public_id, "source": "form", "by": None, "at": at},
        ],
        "stage_changes": [
            {"from": None, "to": "lead", "rule": {"stage": "lead", "when": {"fields_known": ["email"]}}, "at": at},
        ],
        "sales_outcomes": [],
        "handoffs": [],
        "skips": [],
        "visitors": [{"id": public_id, "first_seen": at, "last_seen": at, "trust": "claimed", "verified_by": None, "verified_at": None}],
        "merged_contacts": [],
        "generated_at": at,
    }  # fmt: skip
    assert [(e["type"], e["at"]) for e in recorded] == [
        ("contact.updated", at),
        ("contact.stage_changed", at),
    ]
    assert recorded[0]["data"]["profile"] == {"email": "ada@acme-corp.example", "newsletter": True}
    assert [(d["destination"], d["event"], d["status"], d["attempts"]) for d in deliveries] == [
        ("crm", "contact.updated", "pending", 0)
    ]
    assert deliveries[0]["body"]["data"]["profile"] == {
        "email": "ada@acme-corp.example",
        "newsletter": True,
    }


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_unknown_ids_and_other_sites_contacts_are_404(client, clock, tokens, method):
    _widget, contact_id = person(client, clock)
    for site, token, wanted in [
        ("acme", tokens["admin"], 999_999),
        ("acme", tokens["admin"], 2**40),
        ("other", tokens["other"], contact_id),
    ]:
        response = call(client, method, token, wanted, site=site)
        assert response.status_code == 404, (site, wanted)
        assert response.get_json()["error"]["code"] == "not_found"
    assert count(Contact) == 1


def test_delete_needs_an_admin_token_and_a_token_at_all(client, clock, tokens):
    _widget, contact_id = person(client, clock)
    assert call(client, "DELETE", tokens["analyst"], contact_id).status_code == 403
    assert call(client, "DELETE", tokens["other"], contact_id).status_code == 403
    assert client.delete(URL.format("acme", contact_id)).status_code == 401
    assert call(client, "GET", "trk_nope", contact_id).status_code == 401
    assert count(Contact) == 1


def test_delete_erases_and_the_email_then_starts_afresh(client, clock, tokens):
    widget, contact_id = person(client, clock)
    clock.advance(days=1)
    response = call(client, "DELETE", tokens["admin"], contact_id)
    assert response.status_code == 200
    assert response.get_json() == {
        "contact_id": contact_id,
        "erased_at": clock().isoformat().replace("+00:00", "Z"),
        "removed": {
            "deliveries": 1,
            "webhook_events": 2,
            "history": 2,
            "values": 2,
            "events": 2,
            "skips": 0,
            "stage_changes": 1,
            "sales_outcomes": 0,
            "handoffs": 0,
            "consents": 1,
            "merges": 0,
            "visitors": 1,
            "contacts": 1,
            "accounts": 1,  # nobody else from acme-corp.example
        },
        "notified": [],  # crm never received it (still pending)
    }
    for model in (Contact, Visitor, Submission, ProfileValue, EngagementEvent, StageChange):
        assert count(model) == 0, model
    assert count(ConsentRecord) == 0
    assert count(OutboxEvent) == 0
    erasure = db.session.scalar(select(ContactErasure))
    assert erasure.requested_by == f"token {tokens['admin'][:12]}… (dpo)"
    assert call(client, "GET", tokens["admin"], contact_id).status_code == 404
    assert call(client, "DELETE", tokens["admin"], contact_id).status_code == 404

    # The erased browser is a stranger now; the old ask token is refused, a new ask starts over.
    stale = widget.submit({"email": "ada@acme-corp.example"})
    assert stale.status_code == 409
    assert widget.ask() == ["email", "newsletter", "first_name"]
    assert widget.submit({"email": "ada@acme-corp.example"}).status_code == 200
    fresh = db.session.scalar(select(Contact))
    assert fresh.id != contact_id
    assert fresh.lifecycle_stage == "lead"
    again = call(client, "GET", tokens["analyst"], fresh.id).get_json()
    assert list(again["profile"]) == ["email"]
    assert again["consents"] == []
    assert [e["kind"] for e in again["events"]] == ["form_submit"]
    assert again["visitors"][0]["first_seen"] == clock().isoformat().replace("+00:00", "Z")


def test_get_lists_values_of_fields_that_left_the_config(client, clock, tokens):
    _widget, contact_id = person(client, clock)
    config = {**consent_config(), "stages": STAGES, "destinations": [DESTINATION]}
    config["fields"] = [f for f in config["fields"] if f["key"] != NEWSLETTER["key"]]
    make_site(config)
    body = call(client, "GET", tokens["analyst"], contact_id).get_json()
    assert list(body["profile"]) == ["email", "newsletter"]


def test_get_tells_the_trust_of_values_browsers_and_answers(client, clock, tokens):
    phone, contact_id = person(client, clock)
    secret = new_identity_secret("acme", "dpo@acme.example", clock())
    clock.advance(hours=2)
    proof = {
        "email": "ada@acme-corp.example",
        "hash": identity_hash(secret, "ada@acme-corp.example"),
    }
    assert phone.post("/identify", {"visitor": phone.visitor, **proof}).get_json()["verified"]
    assert phone.ask() == ["first_name", "company", "zip"]
    assert phone.submit({"first_name": "Ada"}).status_code == 200
    stranger = Widget(client)
    stranger.ask()
    claim = {"email": "ada@acme-corp.example", "first_name": "Mallory"}
    assert stranger.submit(claim, skipped=["newsletter"]).status_code == 200
    first, later = iso(clock() - timedelta(hours=2)), iso(clock())
    phone_id, stranger_id = db.session.scalars(select(Visitor.public_id).order_by(Visitor.id))

    body = call(client, "GET", tokens["analyst"], contact_id).get_json()

    assert body["visitors"] == [
        {"id": phone_id, "first_seen": first, "last_seen": later, "trust": "verified", "verified_by": "identity_hash", "verified_at": later},
        {"id": stranger_id, "first_seen": later, "last_seen": later, "trust": "claimed", "verified_by": None, "verified_at": None},
    ]  # fmt: skip
    assert {
        key: (v["source"], v["verified"], v["visitor"]) for key, v in body["profile"].items()
    } == {
        "email": ("browser", True, phone_id),
        "first_name": ("browser", True, phone_id),
        "newsletter": ("browser", True, phone_id),
    }
    assert [
        (h["field"], h["value"], h["visitor"], h["verified"], h["applied"]) for h in body["history"]
    ] == [
        ("email", "ada@acme-corp.example", phone_id, False, True),
        ("newsletter", True, phone_id, False, True),
        ("first_name", "Ada", phone_id, True, True),
        ("email", "ada@acme-corp.example", stranger_id, False, True),  # says what is held
        ("first_name", "Mallory", stranger_id, False, False),
    ]
