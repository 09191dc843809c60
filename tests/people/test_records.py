"""One reader of everything held on one person (``people.load_person_records``): the console's
contact page and the data-subject document both present it, so it must read every table that
holds something of a person."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select

from app.extensions import db
from app.models import Contact
from app.services.people import load_person_records
from app.services.siteconfig import site_snapshot
from tests.factories import Widget, make_site

# Tables that refer to a contact but hold nothing of a living person, and why.
NOT_HELD_ON_A_PERSON = {
    # Written when a person is erased; contact ids are never reused, so a living person has none.
    "contact_erasures": "the record of an erasure, kept without personal data",
}
_TABLE = re.compile(r'\b(?:FROM|JOIN)\s+"?(\w+)"?', re.IGNORECASE)


def tables_holding_a_person() -> set[str]:
    """Every table with a ``contact_id`` column or a foreign key to ``contacts``."""
    return {
        table.name
        for table in db.metadata.sorted_tables
        if "contact_id" in table.columns
        or any(fk.column.table.name == "contacts" for fk in table.foreign_keys)
    }


@pytest.fixture
def statements():
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def test_the_loader_reads_every_table_that_holds_a_person(client, statements):
    make_site()
    widget = Widget(client)
    widget.ask()
    assert widget.submit({"email": "ada@acme-corp.example"}).status_code == 200
    contact_id = db.session.scalar(select(Contact.id))
    site = site_snapshot("acme")
    statements.clear()

    held = load_person_records(site, contact_id)

    read = {name for sql in statements for name in _TABLE.findall(sql)}
    expected = tables_holding_a_person() - set(NOT_HELD_ON_A_PERSON)
    assert sorted(expected - read) == []
    assert "outbox_events" in expected and "visitors" in expected  # the metadata was read
    assert held.contact.email == "ada@acme-corp.example"
    assert [held.field_keys[row.field_id] for row in held.profile] == ["email"]
    assert [row.type for row in held.recorded_events] == ["contact.updated"]


def test_every_table_left_out_still_exists():
    assert set(NOT_HELD_ON_A_PERSON) <= tables_holding_a_person()
