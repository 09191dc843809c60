"""The CRM's upserts on the token API: one contact by email (PUT) and many at once (bulk)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Contact, Delivery, OutboxEvent, ProfileValue, Submission
from app.services.accounts import create_token
from tests.factories import acme_config, make_site

ONE = "/api/v1/sites/{}/contacts/by-email/{}"
BULK = "/api/v1/sites/{}/contacts/bulk"


@pytest.fixture
def tokens(app, clock):
    hook = {"key": "crm", "url": "https://crm.example/hooks", "events": ["contact.updated"]}
    make_site(acme_config(destinations=[hook]))
    other = acme_config()
    other["site"] = {**other["site"], "key": "other", "name": "Other"}
    make_site(other)
    return {
        "admin": create_token("acme", "admin", "crm", now=clock())[1],
        "analyst": create_token("acme", "analyst", "bi", now=clock())[1],
        "other": create_token("other", "admin", "other crm", now=clock())[1],
    }


def put(client, token, email, body, site="acme"):
    return client.put(
        ONE.format(site, email), json=body, headers={"Authorization": f"Bearer {token}"}
    )


def bulk(client, token, body, site="acme"):
    return client.post(BULK.format(site), json=body, headers={"Authorization": f"Bearer {token}"})


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_put_creates_then_updates_then_changes_nothing(client, tokens):
    body = {"fields": {"first_name": "Ada", "employees": 250}, "from": "crm"}
    created = put(client, tokens["admin"], "Ada@Acme-Corp.example", body)
    assert created.status_code == 201
    assert created.get_json() == {
        "contact_id": 1,
        "email": "ada@acme-corp.example",
        "created": True,
        "changed": ["email", "first_name", "employees"],
    }
    updated = put(client, tokens["admin"], "ada@acme-corp.example", {"fields": {"employees": 300}})
    assert (updated.status_code, updated.get_json()["changed"]) == (200, ["employees"])
    # Only the change the CRM did not send itself goes to it.
    assert count(Delivery) == 1
    history, events = count(Submission), count(OutboxEvent)
    again = put(client, tokens["admin"], "ada@acme-corp.example", {"fields": {"employees": 300}})
    assert (again.status_code, again.get_json()["changed"]) == (200, [])
    assert (count(Submission), count(OutboxEvent)) == (history, events)
    sources = db.session.scalars(select(ProfileValue.source).distinct()).all()
    assert sources == ["crm"]


@pytest.mark.parametrize(
    ("email", "fields", "named"),
    [
        ("not-an-email", {"first_name": "Ada"}, {"email": ["Enter a valid email address."]}),
        ("ada@acme-corp.example", {"shoe_size": 44}, {"fields.shoe_size": ["No such field on this site."]}),
        ("ada@acme-corp.example", {"industry": "Mining"}, {"fields.industry": ["Choose one of the offered options."]}),
        ("ada@acme-corp.example", {"employees": "many"}, {"fields.employees": ["Enter a number."]}),
    ],
)  # fmt: skip
def test_put_refuses_bad_input_with_the_field(client, tokens, email, fields, named):
    response = put(client, tokens["admin"], email, {"fields": fields})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == named
    assert count(Contact) == 0


def test_put_needs_an_admin_token_of_the_site(client, tokens):
    body = {"fields": {"first_name": "Ada"}}
    assert put(client, tokens["analyst"], "ada@acme-corp.example", body).status_code == 403
    assert put(client, tokens["other"], "ada@acme-corp.example", body).status_code == 403
    assert client.put(ONE.format("acme", "ada@acme-corp.example"), json=body).status_code == 401
    assert put(client, tokens["admin"], "ada@acme-corp.example", {"x": 1}).status_code == 422
    unknown = put(client, tokens["admin"], "ada@", {**body, "from": "nope"})
    assert unknown.status_code == 422
    assert unknown.get_json()["error"]["fields"] == {
        "from": ['No destination "nope" on site "acme".']
    }
    assert count(Contact) == 0


def test_bulk_writes_all_and_counts(client, tokens):
    body = {
        "contacts": [
            {"email": "ada@acme-corp.example", "fields": {"first_name": "Ada"}},
            {"email": "bo@beta.example", "fields": {"decision_maker": True}},
        ],
        "from": "crm",
    }
    response = bulk(client, tokens["admin"], body)
    assert response.status_code == 200
    data = response.get_json()
    assert (data["created"], data["updated"], data["unchanged"]) == (2, 0, 0)
    assert [c["email"] for c in data["contacts"]] == ["ada@acme-corp.example", "bo@beta.example"]
    again = bulk(client, tokens["admin"], body).get_json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert (count(OutboxEvent), count(Delivery)) == (2, 0)


def test_bulk_is_all_or_nothing_with_errors_by_index_and_field(client, tokens):
    body = {
        "contacts": [
            {"email": "ada@acme-corp.example", "fields": {"first_name": "Ada"}},
            {"email": "bo@", "fields": {"company_size": "huge"}},
        ]
    }
    response = bulk(client, tokens["admin"], body)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {
        "contacts.1.email": ["Enter a valid email address."],
        "contacts.1.fields.company_size": ["Choose one of the offered options."],
    }
    assert count(Contact) == 0


def test_bulk_bounds_its_size(client, tokens):
    many = [{"email": f"p{i}@beta.example", "fields": {}} for i in range(1001)]
    response = bulk(client, tokens["admin"], {"contacts": many})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["contacts"]
    huge = [{"email": "ada@acme-corp.example", "fields": {"first_name": "x" * 2000}}] * 600
    too_big = bulk(client, tokens["admin"], {"contacts": huge})
    assert too_big.status_code == 413
    assert too_big.get_json()["error"]["message"] == (
        "The request body is larger than the limit of 1024 KB."
    )
    assert bulk(client, tokens["other"], {"contacts": many[:1]}).status_code == 403
    assert count(Contact) == 0
