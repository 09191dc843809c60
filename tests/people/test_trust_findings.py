"""Second-reading findings on issue 17, each reproduced first: a claimed browser must not learn
from event ids, consent records or withdrawals what another browser did, and a malformed hash
is absent, not an error."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.domain.identity import identity_hash
from app.extensions import db
from app.models import Contact, ProfileValue
from app.services.people import latest_consents, new_identity_secret
from app.services.siteconfig import site_snapshot
from app.services.tokens import read_visitor_token, visitor_token
from tests.factories import Widget, acme_config, consent_config, make_site

ADA = "ada@acme-corp.example"
AFTER_WITHDRAWING = ["email", "first_name", "company"]  # whatever Ada said


def consents_of(email):
    cid = db.session.scalar(select(Contact.id).where(Contact.email == email))
    site = site_snapshot("acme")
    return {k: (r.granted, r.applied) for k, r in latest_consents(site, cid).items()}


def value_of(email, key):
    cid = db.session.scalar(select(Contact.id).where(Contact.email == email))
    field_id = site_snapshot("acme").fields[key].id
    return db.session.scalar(
        select(ProfileValue.value).where(
            ProfileValue.contact_id == cid, ProfileValue.field_id == field_id
        )
    )


@pytest.mark.parametrize("victim_downloaded", [True, False])
def test_event_id_oracle(client, app, clock, victim_downloaded):
    make_site(
        acme_config(
            forms=[{"key": "blog", "title": "Hi", "always_ask": ["email"], "max_questions": 3}]
        )
    )
    ada = Widget(client)
    ada.ask()
    ada.submit({"email": ADA})
    if victim_downloaded:
        ada.event("content_download", content="Pricing guide", id="dl-42")
    clock.advance(minutes=1)
    mallory = Widget(client)
    mallory.ask()
    mallory.submit({"email": ADA, "first_name": "M", "company": "C"})  # claimed, +2
    mallory.ask()
    mallory.submit({"zip": "1"})  # +2 -> 4
    mallory.event("content_download", id="dl-42")  # +3 if counted -> 5: firmographics unlocks
    asked = mallory.ask()
    # Same answer whether or not Ada downloaded dl-42 is required by rule 2:
    assert asked == ["email", "zip", "company_size"]  # dl-42 counts for it either way


def test_non_ascii_hash(client, app, clock):
    make_site()
    new_identity_secret("acme", None, clock())
    w = Widget(client)
    w.ask()
    response = client.post(
        "/api/v1/sites/acme/identify", json={"visitor": w.visitor, "email": ADA, "hash": "é" * 64}
    )
    # The identify stored the browser under the id its ask gave it; the answer is its token.
    stored = visitor_token("acme", read_visitor_token("acme", w.visitor))
    assert response.get_json() == {"visitor": stored, "verified": False}


def _two_forms():
    cfg = consent_config()
    cfg["fields"][0] = {**cfg["fields"][0], "required": False}
    cfg["forms"] = [
        {"key": "blog", "title": "Hi", "always_ask": ["email"], "max_questions": 1},
        {"key": "news", "title": "News", "always_ask": ["newsletter"], "max_questions": 3},
    ]
    make_site(cfg)


@pytest.mark.parametrize("victim,attacker", [(True, False), (False, True)])
def test_claimed_merge_moves_consent_record_in_force(client, app, clock, victim, attacker):
    _two_forms()
    ada = Widget(client, form="news")
    ada.ask()
    assert ada.submit({"newsletter": victim}).status_code == 200
    ada.form = "blog"
    ada.ask()
    assert ada.submit({"email": ADA}).status_code == 200
    clock.advance(minutes=1)
    mal = Widget(client, form="news")
    mal.ask()
    assert mal.submit({"newsletter": attacker}).status_code == 200  # anonymous
    clock.advance(minutes=1)
    mal.form = "blog"
    mal.ask()
    assert mal.submit({"email": ADA}).status_code == 200  # claimed merge
    assert value_of(ADA, "newsletter") is victim
    assert consents_of(ADA)["newsletter"] == (victim, True)


def test_reapply_consent_record(client, app, clock):
    _two_forms()
    ada = Widget(client, form="blog")
    ada.ask()
    ada.submit({"email": ADA})
    ada.form = "news"
    ada.ask()
    ada.submit({"newsletter": True})
    clock.advance(minutes=1)
    lap = Widget(client, form="blog")
    lap.ask()
    lap.submit({"email": ADA})
    lap.form = "news"
    assert "newsletter" in lap.ask()
    lap.submit({"newsletter": False})
    assert value_of(ADA, "newsletter") is True
    clock.advance(minutes=1)
    secret = new_identity_secret("acme", None, clock())
    assert lap.identify(email=ADA, hash=identity_hash(secret, ADA))
    assert value_of(ADA, "newsletter") is False
    assert consents_of(ADA)["newsletter"] == (False, True)


@pytest.mark.parametrize("victim_answer", [None, True, False])
def test_withdraw_oracle(client, app, clock, victim_answer):
    cfg = consent_config()
    cfg["fields"].append(
        {
            "key": "topics",
            "label": "Topics",
            "kind": "text",
            "tier": "basics",
            "priority": 1,
            "ask_if": {"field": "newsletter", "equals": True},
        }
    )
    cfg["forms"] = [{"key": "blog", "title": "Hi", "always_ask": ["email"], "max_questions": 3}]
    make_site(cfg)
    ada = Widget(client)
    ada.ask()
    answers = {"email": ADA}
    if victim_answer is not None:
        answers["newsletter"] = victim_answer
    assert ada.submit(answers).status_code == 200
    clock.advance(minutes=1)
    mal = Widget(client)
    mal.ask()
    r = mal.submit({"email": ADA, "newsletter": True})
    assert r.status_code == 200, r.get_json()
    w = mal.post("/consents/withdraw", {"visitor": mal.visitor, "fields": ["newsletter"]})
    assert w.status_code == 200
    asked = mal.ask()
    assert asked == AFTER_WITHDRAWING
