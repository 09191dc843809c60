"""Contacts upserted by email from what the CRM knows (people.imports), and its row checks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.domain.imports import CONSENT_NOT_IMPORTED, EMAIL_REQUIRED, NO_SUCH_FIELD
from app.extensions import db
from app.models import (
    AccountValue,
    Contact,
    Delivery,
    Destination,
    OutboxEvent,
    ProfileValue,
    Submission,
)
from app.services.errors import Invalid
from app.services.people import (
    CRM,
    IMPORT,
    check_contacts,
    import_contacts,
    upsert_contact,
    write_contacts,
)
from tests.factories import Widget, acme_config, consent_config, make_site

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def values_of(email: str) -> dict:
    contact = db.session.scalars(select(Contact).where(Contact.email == email)).one()
    rows = db.session.scalars(select(ProfileValue).where(ProfileValue.contact_id == contact.id))
    keys = {view_id: key for key, view_id in field_ids().items()}
    return {keys[r.field_id]: (r.value, r.source, r.verified) for r in rows}


def field_ids() -> dict[str, int]:
    from app.services.siteconfig import site_snapshot

    return {key: view.id for key, view in site_snapshot("acme").fields.items()}


def updates() -> list[dict]:
    events = db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.type == "contact.updated").order_by(OutboxEvent.id)
    )
    return [event.payload for event in events]


def test_a_new_contact_is_created_with_verified_import_values_and_their_history(site):
    rows = [{"email": " Ada@Acme-Corp.example ", "first_name": "Ada", "employees": "250"}]
    checked, problems = check_contacts("acme", rows, text=True)
    assert problems == {}
    [done] = write_contacts("acme", checked, source=IMPORT, now=NOW)
    assert (done.email, done.created, done.changed) == (
        "ada@acme-corp.example",
        True,
        ["email", "first_name", "employees"],
    )
    assert values_of("ada@acme-corp.example") == {
        "email": ("ada@acme-corp.example", IMPORT, True),
        "first_name": ("Ada", IMPORT, True),
        "employees": (250, IMPORT, True),
    }
    contact = db.session.get(Contact, done.contact_id)
    assert contact.email_digest is not None
    assert contact.account.domain == "acme-corp.example"
    history = db.session.scalars(select(Submission).order_by(Submission.id)).all()
    assert [(h.source, h.form_key, h.verified, h.applied, h.previous_value) for h in history] == [
        (IMPORT, IMPORT, True, True, None)
    ] * 3
    [payload] = updates()
    assert payload["changed"] == ["email", "first_name", "employees"]
    assert payload["values"]["first_name"]["source"] == IMPORT


def test_the_same_rows_again_change_nothing_and_send_nothing(site):
    rows = [("ada@acme-corp.example", {"first_name": "Ada", "company_size": "11-50"})]
    import_contacts("acme", rows, source=CRM, now=NOW)
    before = (count(Submission), count(OutboxEvent), count(Contact))
    [again] = import_contacts("acme", rows, source=CRM, now=LATER)
    assert (again.created, again.changed) == (False, [])
    assert (count(Submission), count(OutboxEvent), count(Contact)) == before
    assert db.session.scalars(select(AccountValue.value)).all() == ["11-50"]


def test_a_changed_value_replaces_a_browsers_and_keeps_the_previous_in_history(app, client, site):
    widget = Widget(client)
    widget.ask()
    widget.submit({"email": "ada@acme-corp.example", "first_name": "Ada"})
    [done] = import_contacts(
        "acme", [("ada@acme-corp.example", {"first_name": "Adeline"})], source=CRM, now=NOW
    )
    assert (done.created, done.changed) == (False, ["first_name"])
    assert values_of("ada@acme-corp.example")["first_name"] == ("Adeline", CRM, True)
    newest = db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    assert (newest.value, newest.previous_value, newest.source) == ("Adeline", "Ada", CRM)
    assert updates()[-1]["changed"] == ["first_name"]


def test_bad_rows_are_named_by_index_and_key_and_nothing_of_the_batch_is_written(site):
    rows = [
        ("ada@acme-corp.example", {"first_name": "Ada"}),
        ("not an email", {"industry": "Mining"}),
        (None, {"first_name": "Nobody"}),
        ("bo@acme-corp.example", {"shoe_size": 44}),
    ]
    with pytest.raises(Invalid) as refused:
        import_contacts("acme", rows, source=CRM, now=NOW)
    assert refused.value.fields == {
        "contacts.1.email": ["Enter a valid email address."],
        "contacts.1.fields.industry": ["Choose one of the offered options."],
        "contacts.2.email": [EMAIL_REQUIRED],
        "contacts.3.fields.shoe_size": [NO_SUCH_FIELD],
    }
    assert count(Contact) == 0


def test_text_values_take_their_fields_types(site):
    rows = [{"email": "ada@acme-corp.example", "decision_maker": "yes", "employees": "12.5"}]
    [row], problems = check_contacts("acme", rows, text=True)
    assert problems == {}
    assert row.values == {"email": rows[0]["email"], "employees": 12.5, "decision_maker": True}
    _, problems = check_contacts("acme", [{**rows[0], "decision_maker": "maybe"}], text=True)
    assert problems == {0: {"decision_maker": "Answer yes or no."}}


def test_blank_values_are_left_out_and_never_overwrite(site):
    import_contacts("acme", [("ada@acme-corp.example", {"first_name": "Ada"})], source=CRM, now=NOW)
    [done] = import_contacts(
        "acme", [("ada@acme-corp.example", {"first_name": " "})], source=CRM, now=LATER
    )
    assert done.changed == []
    assert values_of("ada@acme-corp.example")["first_name"] == ("Ada", CRM, True)


def test_a_consent_cannot_be_imported(app):
    make_site(consent_config())
    _, problems = check_contacts("acme", [{"email": "ada@acme-corp.example", "newsletter": True}])
    assert problems == {0: {"newsletter": CONSENT_NOT_IMPORTED}}


def test_one_contact_by_email_names_its_fields(site):
    with pytest.raises(Invalid) as refused:
        upsert_contact("acme", "ada@", {"employees": "many"}, source=CRM, now=NOW)
    assert refused.value.fields == {
        "email": ["Enter a valid email address."],
        "fields.employees": ["Enter a number."],
    }
    done = upsert_contact(
        "acme", "Ada@acme-corp.example", {"job_title": "CTO"}, source=CRM, now=NOW
    )
    assert (done.email, done.created, done.changed) == (
        "ada@acme-corp.example",
        True,
        ["email", "job_title"],
    )


def test_two_rows_of_one_email_in_a_batch_make_one_contact_the_later_winning(site):
    rows = [
        ("ada@acme-corp.example", {"first_name": "Ada"}),
        ("ADA@acme-corp.example", {"first_name": "Adeline"}),
    ]
    first, second = import_contacts("acme", rows, source=IMPORT, now=NOW)
    assert (first.created, second.created, first.contact_id) == (True, False, second.contact_id)
    assert values_of("ada@acme-corp.example")["first_name"] == ("Adeline", IMPORT, True)


def test_what_a_destination_sent_is_not_sent_back_to_it(app):
    hooks = [
        {"key": "crm", "url": "https://crm.example/hooks", "events": ["contact.updated"]},
        {"key": "bi", "url": "https://bi.example/hooks", "events": ["contact.updated"]},
    ]
    make_site({**acme_config(), "destinations": hooks})
    people = [("ada@acme-corp.example", {"first_name": "Ada"})]
    import_contacts("acme", people, source=CRM, now=NOW, origin="crm")
    assert deliveries() == ["bi"]
    import_contacts("acme", [("bo@beta.example", {"first_name": "Bo"})], source=CRM, now=NOW)
    assert deliveries() == ["bi", "bi", "crm"]
    with pytest.raises(Invalid) as refused:
        import_contacts("acme", people, source=CRM, now=LATER, origin="nope")
    assert refused.value.fields == {"from": ['No destination "nope" on site "acme".']}


def deliveries() -> list[str]:
    return db.session.scalars(
        select(Destination.key)
        .join(Delivery, Delivery.destination_id == Destination.id)
        .order_by(Destination.key)
    ).all()
