"""Consent fields: given only where shown, kept with the words shown, withdrawn as easily (by the
visitor, a token, the console), forwarded and carried across a merge."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ConsentRecord, Contact, OutboxEvent, ProfileValue, Visitor
from app.services.accounts import create_token
from app.services.privacy.consent import NOT_A_CONSENT, NOT_SHOWN, TEXT_CHANGED
from app.services.siteconfig import import_site_config
from tests.factories import CONSENT_HELP as HELP
from tests.factories import CONSENT_TEXT as TEXT
from tests.factories import CONSENT_VERSION as VERSION
from tests.factories import NEWSLETTER, Widget, consent_config, make_site


@pytest.fixture
def client(app):
    make_site(consent_config())
    return app.test_client()


def records():
    return [
        (r.granted, r.text, r.version, r.form_key, r.source, r.actor, r.recorded_at.isoformat())
        for r in db.session.scalars(select(ConsentRecord).order_by(ConsentRecord.id))
    ]


def stored_value(contact_id: int, key: str = "newsletter"):
    from app.models import Field

    db.session.expire_all()
    return db.session.scalar(
        select(ProfileValue.value)
        .join(Field, Field.id == ProfileValue.field_id)
        .where(ProfileValue.contact_id == contact_id, Field.key == key)
    )


def updates():
    return [
        (e.payload["changed"], e.payload["profile"].get("newsletter"), e.payload["consents"])
        for e in db.session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.type == "contact.updated")
            .order_by(OutboxEvent.id)
        )
    ]


def give(client, clock, email="ada@acme-corp.example") -> Widget:
    widget = Widget(client)
    assert widget.ask() == ["email", "newsletter", "first_name"]
    response = widget.submit({"email": email, "newsletter": True})
    assert response.status_code == 200, response.get_json()
    return widget


def test_a_consent_given_is_kept_with_the_words_shown_and_forwarded(client, clock):
    widget = give(client, clock)
    contact = db.session.scalar(select(Contact))
    visitor = db.session.scalar(select(Visitor))
    at = clock().isoformat()
    assert records() == [(True, TEXT, VERSION, "blog", "form", None, at)]
    record = db.session.scalar(select(ConsentRecord))
    assert (record.contact_id, record.visitor_id) == (contact.id, visitor.id)
    assert stored_value(contact.id) is True
    consents = {
        "newsletter": {
            "granted": True,
            "version": VERSION,
            "form": "blog",
            "source": "form",
            "at": at.replace("+00:00", "Z"),
        }
    }
    assert updates() == [(["email", "newsletter"], True, consents)]
    assert "newsletter" not in widget.ask()  # known: never asked (or shown ticked) again


def test_a_refused_consent_is_kept_as_refused(client, clock):
    widget = Widget(client)
    widget.ask()
    assert widget.submit({"email": "ada@acme-corp.example", "newsletter": False}).status_code == 200
    assert records() == [(False, TEXT, VERSION, "blog", "form", None, clock().isoformat())]


def test_a_consent_not_shown_is_422_and_nothing_is_stored(client, app):
    config = consent_config()
    config["forms"] = [
        *config["forms"],
        {"key": "short", "title": "Short", "fields": ["email"], "max_questions": 1},
    ]
    import_site_config(config)
    widget = Widget(client, form="short")
    assert widget.ask() == ["email"]
    response = widget.submit({"email": "ada@acme-corp.example", "newsletter": True})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"newsletter": [NOT_SHOWN]}
    assert db.session.scalar(select(Contact.email)) is None
    assert records() == []
    assert db.session.scalars(select(ProfileValue)).all() == []


def test_reworded_consent_after_the_ask_is_409_and_the_new_words_are_asked(client, clock):
    widget = Widget(client)
    widget.ask()
    import_site_config(consent_config({**NEWSLETTER, "label": "Email me news and offers"}))
    response = widget.submit({"email": "ada@acme-corp.example", "newsletter": True})
    assert response.status_code == 409
    assert response.get_json()["error"] == {"code": "ask_expired", "message": TEXT_CHANGED}
    assert records() == []
    widget.ask()
    assert widget.submit({"email": "ada@acme-corp.example", "newsletter": True}).status_code == 200
    new_text = f"Email me news and offers\n\n{HELP}"
    assert [(r[1], r[2]) for r in records()] == [
        (new_text, hashlib.sha256(new_text.encode()).hexdigest()[:12])
    ]


def test_the_visitor_withdraws_as_easily_as_they_gave(client, clock):
    widget = give(client, clock)
    contact_id = db.session.scalar(select(Contact.id))
    given_at = clock().isoformat()
    clock.advance(days=3)
    response = widget.post(
        "/consents/withdraw", {"visitor": widget.visitor, "fields": ["newsletter"]}
    )
    assert response.status_code == 200
    assert response.get_json() == {"visitor": widget.visitor}  # nothing about what was held
    withdrawn_at = clock().isoformat()
    assert records() == [
        (True, TEXT, VERSION, "blog", "form", None, given_at),
        (False, TEXT, VERSION, None, "visitor", None, withdrawn_at),
    ]
    assert stored_value(contact_id) is False
    assert updates()[-1] == (
        ["newsletter"],
        False,
        {
            "newsletter": {
                "granted": False,
                "version": VERSION,
                "form": None,
                "source": "visitor",
                "at": withdrawn_at.replace("+00:00", "Z"),
            }
        },
    )
    # Withdrawing again changes nothing and forwards nothing.
    again = widget.post("/consents/withdraw", {"visitor": widget.visitor, "fields": ["newsletter"]})
    assert again.status_code == 200
    assert len(records()) == 2
    assert len(updates()) == 2


def test_a_forged_visitor_withdraws_nothing_and_learns_nothing(client, clock):
    give(client, clock)
    stranger = Widget(client)
    stranger.ask()
    response = stranger.post(
        "/consents/withdraw", {"visitor": stranger.visitor, "fields": ["newsletter"]}
    )
    assert response.status_code == 200
    forged = stranger.post("/consents/withdraw", {"visitor": "forged", "fields": ["newsletter"]})
    assert forged.status_code == 200
    assert forged.get_json() == {"visitor": "forged"}
    assert [r[0] for r in records()] == [True]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"fields": ["email"]}, {"fields.email": [NOT_A_CONSENT]}),
        ({"fields": ["nope", "newsletter"]}, {"fields.nope": [NOT_A_CONSENT]}),
        ({"fields": []}, {"fields": ["Length must be between 1 and 50."]}),
        ({"fields": "newsletter"}, {"fields": ["Not a valid list."]}),
        ({"fields": ["newsletter"], "extra": 1}, {"extra": ["Unknown field."]}),
        ({}, {"fields": ["Missing data for required field."]}),
    ],
)
def test_bad_withdrawals_are_422_and_change_nothing(client, clock, body, fields):
    widget = give(client, clock)
    response = widget.post("/consents/withdraw", {"visitor": widget.visitor, **body})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == fields
    assert [r[0] for r in records()] == [True]


def test_a_token_withdraws_for_the_person(client, clock):
    give(client, clock)
    contact_id = db.session.scalar(select(Contact.id))
    _row, admin = create_token("acme", "admin", "crm sync", now=clock())
    _row, analyst = create_token("acme", "analyst", "bi", now=clock())
    url = f"/api/v1/sites/acme/contacts/{contact_id}/consents/withdraw"
    refused = client.post(
        url, json={"fields": ["newsletter"]}, headers={"Authorization": f"Bearer {analyst}"}
    )
    assert refused.status_code == 403
    response = client.post(
        url, json={"fields": ["newsletter"]}, headers={"Authorization": f"Bearer {admin}"}
    )
    assert response.status_code == 200
    assert response.get_json() == {"contact_id": contact_id, "withdrawn": ["newsletter"]}
    assert records()[-1][3:6] == (None, "api", f"token {admin[:12]}… (crm sync)")
    assert stored_value(contact_id) is False
    unknown = client.post(
        "/api/v1/sites/acme/contacts/999/consents/withdraw",
        json={"fields": ["newsletter"]},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert unknown.status_code == 404


def test_consent_records_follow_a_merge(client, clock):
    give(client, clock)
    owner = db.session.scalar(select(Contact.id))
    other_browser = Widget(client)
    other_browser.ask()
    clock.advance(days=1)
    assert other_browser.submit({"email": "ADA@acme-corp.example"}).status_code == 200
    assert db.session.scalars(select(Contact.id)).all() == [owner]
    assert [r.contact_id for r in db.session.scalars(select(ConsentRecord))] == [owner]


def test_a_consent_field_of_account_scope_is_refused(app):
    from app.services.errors import Invalid

    with pytest.raises(Invalid) as refused:
        make_site(consent_config({**NEWSLETTER, "scope": "account"}))
    assert refused.value.fields == {
        "fields[2].scope": ["a consent belongs to one person: its scope must be contact"]
    }


def test_the_export_carries_the_consent_state_given_then_withdrawn(client, clock):
    from app.services.exports import start_export

    def exported() -> list[list[str]]:
        export = start_export("acme", "contacts", {"format": "csv", "provenance": "true"}, clock())
        lines = b"".join(export.chunks).decode().splitlines()
        header = lines[0].split(",")
        wanted = ["newsletter", "newsletter__at", "newsletter__source"]
        return [[row.split(",")[header.index(name)] for name in wanted] for row in lines[1:]]

    widget = give(client, clock)
    assert exported() == [["true", "2026-03-02T09:00:00Z", "blog"]]
    clock.advance(days=1)
    widget.post("/consents/withdraw", {"visitor": widget.visitor, "fields": ["newsletter"]})
    assert exported() == [["false", "2026-03-03T09:00:00Z", ""]]
