"""One reader of everything held on one person (``people.load_person_records``): the console's
contact page and the data-subject document both present it, so it must read every table that
holds something of a person."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from app.extensions import db
from app.models import (
    AccountValue,
    Contact,
    ContactMerge,
    Field,
    Handoff,
    OutboxEvent,
    SalesOutcome,
)
from app.services.people import PersonRecords, load_person_records
from app.services.siteconfig import site_snapshot
from tests.factories import Widget, consent_config, make_site

# Tables that refer to a contact but hold nothing of a living person, and why.
NOT_HELD_ON_A_PERSON = {
    # Written when a person is erased; contact ids are never reused, so a living person has none.
    "contact_erasures": "the record of an erasure, kept without personal data",
}
STAGES = [{"key": "lead", "when": {"fields_known": ["email"]}}]
CRM = {"key": "crm", "url": "https://crm.example/hooks", "events": ["contact.updated"]}
EMAIL = "ada@acme-corp.example"


def tables_holding_a_person() -> set[str]:
    """Every table with a ``contact_id`` column or a foreign key to ``contacts``."""
    return {
        table.name
        for table in db.metadata.sorted_tables
        if "contact_id" in table.columns
        or any(fk.column.table.name == "contacts" for fk in table.foreign_keys)
    }


def rows_of(held: PersonRecords) -> dict[str, list[object]]:
    """Each collection of ``held`` by name, as its rows (a delivery without its destination)."""
    return {
        field.name: [row[1] if isinstance(row, tuple) else row for row in getattr(held, field.name)]
        for field in dataclasses.fields(held)
        if isinstance(getattr(held, field.name), tuple)
    }


def a_person_in_every_table(client) -> int:
    """Ada: answers and a consent, a stage, a skip, a company value, deliveries, a sales
    outcome and a hand-off, and a second
    browser whose anonymous contact merges into hers. Returns her contact id."""
    make_site({**consent_config(), "stages": STAGES, "destinations": [CRM]})
    ada = Widget(client)
    ada.ask()
    assert ada.submit({"email": EMAIL, "newsletter": True}).status_code == 200
    assert "first_name" in ada.ask()
    assert ada.submit({}, skipped=["first_name"]).status_code == 200
    laptop = Widget(client)
    laptop.event("page_view")  # an anonymous contact of its own, until it names Ada
    laptop.ask()
    assert laptop.submit({"email": EMAIL}).status_code == 200
    contact = db.session.scalar(select(Contact).where(Contact.email == EMAIL))
    size = db.session.scalar(select(Field.id).where(Field.key == "company_size"))
    merged = db.session.scalar(select(ContactMerge.merged_contact_id))
    db.session.add(  # what a destination was told of the laptop's contact before the merge
        OutboxEvent(site_id=contact.site_id, type="contact.updated", contact_id=merged, payload={})
    )
    db.session.add(
        SalesOutcome(
            site_id=contact.site_id,
            contact_id=contact.id,
            kind="accepted",
            by="rep@acme.example",
            idempotency_key="k1",
            occurred_at=contact.created_at,
            recorded_at=contact.created_at,
        )
    )
    db.session.add(
        AccountValue(
            account_id=contact.account_id, field_id=size, value="11-50", contact_id=contact.id
        )
    )
    db.session.add(
        Handoff(
            site_id=contact.site_id,
            contact_id=contact.id,
            team="sales",
            started_at=contact.created_at,
        )
    )
    db.session.commit()
    return contact.id


def test_the_loader_reads_every_table_that_holds_a_person(client):
    contact_id = a_person_in_every_table(client)

    held = load_person_records(site_snapshot("acme"), contact_id)

    collections = rows_of(held)
    assert sorted(name for name, rows in collections.items() if not rows) == []
    read = {row.__table__.name for rows in collections.values() for row in rows}
    assert sorted(tables_holding_a_person() - set(NOT_HELD_ON_A_PERSON) - read) == []
    assert [held.field_keys[row.field_id] for row in held.profile] == ["email", "newsletter"]
    assert len(held.visitors) == 2 and len(held.merges) == 1
    merged = held.merges[0].merged_contact_id
    assert {row.contact_id for row in held.recorded_events} == {contact_id, merged}


def test_the_console_leaves_out_what_was_sent_downstream(client):
    contact_id = a_person_in_every_table(client)

    held = load_person_records(site_snapshot("acme"), contact_id, sent=False)

    assert (held.recorded_events, held.deliveries) == ((), ())
    assert len(held.submissions) == 3  # her email and consent, and the laptop's email


def test_every_table_left_out_still_exists():
    assert set(NOT_HELD_ON_A_PERSON) <= tables_holding_a_person()
