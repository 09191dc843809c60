"""POST /sites/<site>/inbound/outcomes: a CRM workflow's outcome, signed the Standard Webhooks
way (here by the reference ``standardwebhooks`` package) with the site's inbound secret, is
recorded once; anything that does not verify is 401 and records nothing."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from app.extensions import db
from app.models import SalesOutcome, SiteSecret
from app.services.errors import Invalid
from app.services.sales import new_inbound_secret
from tests.api.support import error_of
from tests.factories import make_site
from tests.sales.support import add_contact, sales_config, sales_site, stage_of

URL = "/api/v1/sites/acme/inbound/outcomes"


@pytest.fixture
def secret(app, clock):
    sales_site(clock())
    return new_inbound_secret("acme", "admin@acme.example", clock())


def outcome(clock, **extra):
    at = clock() - timedelta(minutes=10)
    return {"kind": "accepted", "occurred_at": at.isoformat(), "by": "rep@acme.example", **extra}


def signed(secret, body, clock, msg_id="msg_1", age=timedelta(0)):
    raw = json.dumps(body).encode()
    when = clock() - age
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, when, raw),
    }
    return raw, headers


def send(client, secret, body, clock, **kwargs):
    raw, headers = signed(secret, body, clock, **kwargs)
    return client.post(URL, data=raw, headers=headers)


def recorded() -> int:
    return db.session.scalar(select(func.count()).select_from(SalesOutcome))


def test_a_signed_outcome_is_recorded_with_the_webhook_id_as_key(client, secret, clock):
    contact = add_contact("acme", "ada@acme-corp.example")
    response = send(client, secret, outcome(clock, contact_id=contact, note="Keen"), clock)
    assert response.status_code == 201
    got = response.get_json()
    assert {key: got[key] for key in ("id", "contact_id", "kind", "note", "by", "stage")} == {
        "id": 1,
        "contact_id": contact,
        "kind": "accepted",
        "note": "Keen",
        "by": "rep@acme.example",
        "stage": {"from": "mql", "to": "sal"},
    }
    assert (got["occurred_at"], got["recorded_at"]) == (
        "2026-03-02T08:50:00Z",
        "2026-03-02T09:00:00Z",
    )
    assert stage_of(contact) == "sal"
    assert db.session.scalar(select(SalesOutcome.idempotency_key)) == "msg_1"
    assert "Access-Control-Allow-Origin" not in response.headers


def test_by_email_and_a_body_key_and_any_of_several_signatures(client, secret, clock):
    contact = add_contact("acme", "ada@acme-corp.example")
    body = outcome(clock, email="ADA@acme-corp.example", idempotency_key="crm-4711")
    raw, headers = signed(secret, body, clock)
    other = Webhook(new_secret_value()).sign("msg_1", clock(), raw)
    headers["webhook-signature"] = f"{other} {headers['webhook-signature']}"
    response = client.post(URL, data=raw, headers=headers)
    assert response.status_code == 201
    assert response.get_json()["contact_id"] == contact
    assert db.session.scalar(select(SalesOutcome.idempotency_key)) == "crm-4711"


def new_secret_value() -> str:
    return "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="


def test_the_same_webhook_id_again_gets_the_same_answer_and_records_once(client, secret, clock):
    contact = add_contact("acme", "ada@acme-corp.example")
    first = send(client, secret, outcome(clock, contact_id=contact), clock)
    clock.advance(minutes=1)
    again = send(client, secret, outcome(clock, contact_id=contact, kind="won"), clock)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert recorded() == 1


def _refusals(secret, clock, contact):
    body = outcome(clock, contact_id=contact)
    raw, good = signed(secret, body, clock)
    tampered = json.dumps({**body, "kind": "won"}).encode()
    _, wrong = signed(new_secret_value(), body, clock)
    _, stale = signed(secret, body, clock, age=timedelta(minutes=5, seconds=1))
    _, ahead = signed(secret, body, clock, age=-timedelta(minutes=5, seconds=1))
    yield "tampered body", tampered, good
    yield "wrong secret", raw, wrong
    yield "stale", raw, stale
    yield "ahead", raw, ahead
    yield "other id", raw, {**good, "webhook-id": "msg_2"}
    yield (
        "v2 scheme",
        raw,
        {**good, "webhook-signature": good["webhook-signature"].replace("v1,", "v2,")},
    )
    yield "not a number", raw, {**good, "webhook-timestamp": "soon"}
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        yield f"no {name}", raw, {k: v for k, v in good.items() if k != name}


def test_anything_that_does_not_verify_is_401_and_records_nothing(client, secret, clock):
    contact = add_contact("acme", "ada@acme-corp.example")
    for case, raw, headers in _refusals(secret, clock, contact):
        response = client.post(URL, data=raw, headers=headers)
        assert response.status_code == 401, case
        assert error_of(response)["code"] == "unauthenticated", case
    assert recorded() == 0


def test_a_site_without_an_inbound_secret_takes_nothing(client, app, clock):
    make_site(sales_config())
    contact = add_contact("acme", "ada@acme-corp.example")
    response = send(client, new_secret_value(), outcome(clock, contact_id=contact), clock)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"
    other_site = client.post(
        "/api/v1/sites/nope/inbound/outcomes",
        data=b"{}",
        headers={"content-type": "application/json"},
    )
    assert other_site.status_code == 401
    assert recorded() == 0


def test_a_rotated_secret_verifies_through_its_overlap_then_stops(client, secret, clock):
    contact = add_contact("acme", "ada@acme-corp.example")
    newer = new_inbound_secret("acme", "admin@acme.example", clock(), overlap_hours=2)
    first = outcome(clock, contact_id=contact, idempotency_key="old-1")
    assert send(client, secret, first, clock).status_code == 201
    assert send(client, newer, outcome(clock, contact_id=contact), clock).status_code == 201
    clock.advance(hours=2)
    late = outcome(clock, contact_id=contact, idempotency_key="old-2")
    assert send(client, secret, late, clock).status_code == 401
    assert recorded() == 2


def test_a_rotation_with_no_overlap_stops_the_old_secret_at_once(client, secret, clock):
    contact = add_contact("acme", "ada@acme-corp.example")
    new_inbound_secret("acme", None, clock(), overlap_hours=0)
    assert send(client, secret, outcome(clock, contact_id=contact), clock).status_code == 401
    assert recorded() == 0


@pytest.mark.parametrize("hours", [-1, 721])
def test_an_overlap_out_of_range_is_refused(app, clock, hours):
    sales_site(clock())
    with pytest.raises(Invalid) as refused:
        new_inbound_secret("acme", None, clock(), overlap_hours=hours)
    assert refused.value.fields == {"overlap_hours": ["Enter 0 to 720 hours."]}
    assert db.session.scalar(select(func.count()).select_from(SiteSecret)) == 0


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"kind": "sold"}, {"kind"}),
        ({"contact_id": None}, {"contact_id"}),  # neither contact_id nor email
        ({"email": "ada@acme-corp.example"}, {"contact_id"}),  # both
        ({"contact_id": "1"}, {"contact_id"}),
        ({"kind": "rejected"}, {"reason"}),
        ({"surprise": 1}, {"surprise"}),
    ],
)
def test_a_bad_payload_is_422_naming_the_field(client, secret, clock, change, fields):
    contact = add_contact("acme", "ada@acme-corp.example")
    body = {
        k: v for k, v in {**outcome(clock, contact_id=contact), **change}.items() if v is not None
    }
    response = send(client, secret, body, clock)
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == fields
    assert recorded() == 0


def test_a_long_webhook_id_without_a_body_key_is_422(client, secret, clock):
    contact = add_contact("acme", "ada@acme-corp.example")
    response = send(client, secret, outcome(clock, contact_id=contact), clock, msg_id="m" * 129)
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"webhook-id"}


def test_an_unknown_contact_is_404(client, secret, clock):
    add_contact("acme", "ada@acme-corp.example")
    for ref in ({"contact_id": 999}, {"email": "nobody@acme-corp.example"}):
        response = send(client, secret, outcome(clock, **ref), clock)
        assert response.status_code == 404
    assert recorded() == 0


def test_the_cli_prints_a_new_secret_once_and_stores_it(runner, app, clock):
    make_site(sales_config())
    result = runner.invoke(args=["sales", "inbound-secret", "acme"])
    assert result.exit_code == 0, result.output
    printed = re.search(r"whsec_[A-Za-z0-9+/=]{44}", result.output).group(0)
    stored = db.session.scalars(select(SiteSecret)).one()
    assert (stored.purpose, stored.secret, stored.created_by) == (
        "inbound",
        printed,
        "trickle sales",
    )
    again = runner.invoke(args=["sales", "inbound-secret", "acme", "--keep-hours", "3"])
    assert (
        again.output.splitlines()[-1] == "The previous secret, if any, keeps verifying for 3 hours."
    )
    db.session.expire_all()
    old, new = db.session.scalars(select(SiteSecret).order_by(SiteSecret.id)).all()
    assert (old.expires_at, new.expires_at) == (clock() + timedelta(hours=3), None)
    refused = runner.invoke(args=["sales", "inbound-secret", "acme", "--keep-hours", "800"])
    assert refused.exit_code == 2
    unknown = runner.invoke(args=["sales", "inbound-secret", "nope"])
    assert unknown.exit_code != 0


def test_a_body_over_the_size_limit_is_413_and_records_nothing(client, app, secret, clock):
    contact = add_contact("acme", "ada@acme-corp.example")
    note = "x" * app.config["MAX_CONTENT_LENGTH"]
    response = send(client, secret, outcome(clock, contact_id=contact, note=note), clock)
    assert response.status_code == 413
    assert recorded() == 0
