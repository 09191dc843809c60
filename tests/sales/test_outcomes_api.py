"""POST .../contacts/<id or by-email/email>/outcomes: recorded once, stages moved by the config
(forward; recycled back to nurture), forwarded, and every bad input refused by field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import SalesOutcome
from app.services.accounts import create_token
from tests.api.support import error_of
from tests.factories import acme_config, make_site
from tests.sales.support import add_contact, moves, outbox, sales_config, sales_site, stage_of

URL = "/api/v1/sites/{site}/contacts/{ref}/outcomes"


@pytest.fixture
def token(app, clock):
    return sales_site(clock())


def post(client, token, ref, body, site="acme"):
    headers = {"Authorization": f"Bearer {token}"}
    return client.post(URL.format(site=site, ref=ref), json=body, headers=headers)


def outcome(clock, kind="accepted", key="k1", minutes_ago=10, **extra):
    at = clock() - timedelta(minutes=minutes_ago)
    return {
        "kind": kind,
        "occurred_at": at.isoformat(),
        "by": "rep@acme.example",
        "idempotency_key": key,
        **extra,
    }


def recorded() -> int:
    return db.session.scalar(select(func.count()).select_from(SalesOutcome))


def test_accepted_is_recorded_moves_to_sal_and_is_forwarded(client, token, clock):
    contact = add_contact("acme", "ada@acme-corp.example")
    response = post(client, token, contact, outcome(clock, note="Called, keen"))
    assert response.status_code == 201
    assert response.get_json() == {
        "id": 1,
        "contact_id": contact,
        "kind": "accepted",
        "reason": None,
        "note": "Called, keen",
        "external_id": None,
        "amount": None,
        "currency": None,
        "by": "rep@acme.example",
        "occurred_at": "2026-03-02T08:50:00Z",
        "recorded_at": "2026-03-02T09:00:00Z",
        "stage": {"from": "mql", "to": "sal"},
    }
    assert stage_of(contact) == "sal"
    assert moves() == [("mql", "sal", {"outcome": "accepted", "outcome_id": 1})]
    events = outbox()
    assert [kind for kind, _ in events] == ["contact.outcome_recorded", "contact.stage_changed"]
    assert events[0][1] == {"email": "ada@acme-corp.example", **response.get_json()}
    moved = events[1][1]
    assert moved["rule"] == {"outcome": "accepted", "outcome_id": 1}
    assert (moved["rule_words"], moved["answers"]) == (["Sales outcome: accepted"], {})


def test_by_email_finds_the_contact_whatever_the_case(client, token, clock):
    contact = add_contact("acme", "ada@acme-corp.example")
    response = post(client, token, "by-email/ADA@Acme-Corp.example", outcome(clock))
    assert response.status_code == 201
    assert response.get_json()["contact_id"] == contact


def test_a_replayed_key_gets_the_same_answer_and_records_nothing_twice(client, token, clock):
    contact = add_contact("acme", "ada@acme-corp.example")
    first = post(client, token, contact, outcome(clock))
    clock.advance(minutes=3)
    again = post(client, token, contact, outcome(clock))
    assert (again.status_code, again.get_json()) == (201, first.get_json())
    assert recorded() == 1
    assert len(moves()) == 1
    assert len(outbox()) == 2


def test_an_opportunity_keeps_its_money_exact(client, token, clock):
    contact = add_contact("acme", "ada@acme-corp.example", stage="sal")
    body = outcome(clock, "opportunity", external_id="006XYZ", amount=1200.5, currency="EUR")
    response = post(client, token, contact, body)
    assert response.status_code == 201
    got = response.get_json()
    assert (got["external_id"], got["amount"], got["currency"]) == ("006XYZ", "1200.50", "EUR")
    assert got["stage"] == {"from": "sal", "to": "opportunity"}


def test_recycled_goes_back_to_nurture_with_its_reason(client, token, clock):
    contact = add_contact("acme", "ada@acme-corp.example", stage="sal")
    body = outcome(clock, "recycled", reason="not_ready", note="Next year")
    assert post(client, token, contact, body).status_code == 201
    assert stage_of(contact) == "nurture"
    assert moves() == [
        ("sal", "nurture", {"outcome": "recycled", "outcome_id": 1, "reason": "not_ready"})
    ]


def test_stages_only_move_forward(client, token, clock):
    contact = add_contact("acme", "ada@acme-corp.example", stage="customer")
    response = post(client, token, contact, outcome(clock, "accepted"))
    assert response.status_code == 201
    assert response.get_json()["stage"] is None
    assert stage_of(contact) == "customer"
    assert moves() == []


def test_an_older_outcome_is_recorded_in_time_order_and_moves_nothing(client, token, clock):
    contact = add_contact("acme", "ada@acme-corp.example", stage="sal")
    body = outcome(clock, "opportunity", key="late", minutes_ago=5)
    assert post(client, token, contact, body).status_code == 201
    older = outcome(clock, "recycled", key="early", minutes_ago=60, reason="not_ready")
    response = post(client, token, contact, older)
    assert (response.status_code, response.get_json()["stage"]) == (201, None)
    assert stage_of(contact) == "opportunity"
    timeline = db.session.scalars(select(SalesOutcome.kind).order_by(SalesOutcome.occurred_at))
    assert list(timeline) == ["recycled", "opportunity"]


def test_a_site_without_the_section_records_outcomes_without_moving_stages(app, client, clock):
    make_site(acme_config())
    token = create_token("acme", "admin", "CRM", now=clock())[1]
    contact = add_contact("acme", "ada@acme-corp.example")
    response = post(client, token, contact, outcome(clock, "rejected", reason="anything"))
    assert (response.status_code, response.get_json()["stage"]) == (201, None)
    assert response.get_json()["reason"] == "anything"
    assert stage_of(contact) == "mql"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"kind": "closed"},
            "kind",
            "must be one of: accepted, contacted, rejected, recycled, opportunity, won, lost, nurtured",
        ),
        ({"kind": "rejected"}, "reason", "required for rejected"),
        ({"kind": "recycled"}, "reason", "required for recycled"),
        (
            {"kind": "lost", "reason": "bad_fit"},
            "reason",
            "must be one of the agreed loss_reasons: price, competitor",
        ),
        (
            {"kind": "opportunity", "amount": -1, "currency": "EUR"},
            "amount",
            "must be a number, 0 or more",
        ),
        (
            {"kind": "opportunity", "amount": "12", "currency": "EUR"},
            "amount",
            "Not a valid number.",
        ),
        (
            {"kind": "opportunity", "amount": 1.005, "currency": "EUR"},
            "amount",
            "must have at most 2 decimal places",
        ),
        ({"kind": "opportunity", "amount": 5}, "currency", "required with amount"),
        ({"kind": "won", "amount": 5, "currency": "EUR"}, "amount", "only for opportunity"),
        ({"occurred_at": "2026-03-02T09:05:01Z"}, "occurred_at", "must not be in the future"),
        ({"occurred_at": "yesterday"}, "occurred_at", "Not a valid datetime."),
        ({"by": ""}, "by", "Length must be between 1 and 320."),
        ({"note": "x" * 2001}, "note", "Longer than maximum length 2000."),
        ({"idempotency_key": None}, "idempotency_key", "Field may not be null."),
        ({"stage": "sal"}, "stage", "Unknown field."),
    ],
)
def test_bad_input_is_422_with_the_field_and_nothing_recorded(
    client, token, clock, change, field, message
):
    contact = add_contact("acme", "ada@acme-corp.example")
    response = post(client, token, contact, {**outcome(clock), **change})
    assert response.status_code == 422
    assert error_of(response)["fields"][field] == [message]
    assert (recorded(), moves(), outbox()) == (0, [], [])


def test_an_unknown_currency_is_refused(client, token, clock):
    contact = add_contact("acme", "ada@acme-corp.example")
    body = outcome(clock, "opportunity", amount=10, currency="XXX")
    response = post(client, token, contact, body)
    assert response.status_code == 422
    assert error_of(response)["fields"]["currency"][0].startswith(
        "must be an ISO 4217 code, one of: AED, AUD,"
    )


def test_an_occurred_at_within_the_skew_is_fine(client, token, clock):
    contact = add_contact("acme", "ada@acme-corp.example")
    body = {**outcome(clock), "occurred_at": "2026-03-02T09:05:00Z"}
    assert post(client, token, contact, body).status_code == 201


def test_unknown_and_foreign_contacts_are_404(client, token, clock):
    other = acme_config()
    other["site"] = {**other["site"], "key": "other", "name": "Other"}
    make_site(other)
    foreign = add_contact("other", "ada@acme-corp.example")
    anonymous = add_contact("acme", None)
    for ref in (foreign, 9999, "by-email/ada@acme-corp.example", "by-email/nobody@x.example"):
        response = post(client, token, ref, outcome(clock))
        assert response.status_code == 404, ref
        assert error_of(response)["code"] == "not_found"
    assert post(client, token, anonymous, outcome(clock)).status_code == 201


def test_only_an_admin_token_of_the_site_may_record(client, token, clock):
    contact = add_contact("acme", "ada@acme-corp.example")
    marketer = create_token("acme", "marketer", "BI", now=clock())[1]
    assert post(client, marketer, contact, outcome(clock)).status_code == 403
    assert client.post(URL.format(site="acme", ref=contact), json=outcome(clock)).status_code == 401
    assert recorded() == 0


def test_a_sales_token_records_outcomes_and_nothing_else(client, token, clock):
    contact = add_contact("acme", "ada@acme-corp.example")
    sales = create_token("acme", "sales", "CRM workflow", now=clock())[1]
    assert post(client, sales, contact, outcome(clock)).status_code == 201
    headers = {"Authorization": f"Bearer {sales}"}
    refused = [
        client.get("/api/v1/sites/acme/contacts/export?format=csv", headers=headers),
        client.get(f"/api/v1/sites/acme/contacts/{contact}", headers=headers),
        client.delete(f"/api/v1/sites/acme/contacts/{contact}", headers=headers),
        client.post("/api/v1/sites/acme/links", json={"emails": []}, headers=headers),
    ]
    for response in refused:
        assert response.status_code == 403
        assert error_of(response)["message"] == (
            "This API token's role (sales) may not do this: it needs "
            + ("analyst." if response.request.method == "GET" else "admin.")
        )


def test_the_data_subject_document_lists_the_outcomes_and_erasure_removes_them(
    client, token, clock
):
    contact = add_contact("acme", "ada@acme-corp.example")
    later = post(client, token, contact, outcome(clock, "contacted", key="b", minutes_ago=5))
    earlier = post(client, token, contact, outcome(clock, "contacted", key="a", minutes_ago=9))
    headers = {"Authorization": f"Bearer {token}"}
    document = client.get(f"/api/v1/sites/acme/contacts/{contact}", headers=headers).get_json()
    assert document["sales_outcomes"] == [earlier.get_json(), later.get_json()]
    erased = client.delete(f"/api/v1/sites/acme/contacts/{contact}", headers=headers)
    assert erased.get_json()["removed"]["sales_outcomes"] == 2
    assert recorded() == 0


def test_a_replay_is_answered_as_first_judged_even_when_the_rules_changed(client, token, clock):
    contact = add_contact("acme", "ada@acme-corp.example")
    first = post(client, token, contact, outcome(clock, "rejected", reason="not_ready"))
    config = sales_config()
    config["sales_outcomes"] = {**config["sales_outcomes"], "rejection_reasons": ["bad_fit"]}
    make_site(config)
    again = post(client, token, contact, outcome(clock, "rejected", reason="not_ready"))
    assert (again.status_code, again.get_json()) == (201, first.get_json())
    fresh = post(client, token, contact, outcome(clock, "rejected", key="k2", reason="not_ready"))
    assert error_of(fresh)["fields"] == {
        "reason": ["must be one of the agreed rejection_reasons: bad_fit"]
    }
    assert recorded() == 1
