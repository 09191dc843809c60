"""A submit reads the contact's rows once (issue 19): its value rows, its account's and its
skips, each in one statement (and no event: the engagement is kept on write), whatever it then derives from them (the writes, the
``contact.updated`` payload, the stage rules, the browser's next questions).

Every statement a submit runs is recorded (``before_cursor_execute``) and tallied by verb and
table; the tallies are exact, per engine (SQLite writes each inserted row on its own and opens
the unit with BEGIN IMMEDIATE; PostgreSQL inserts a batch in one statement).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import event, select

from app.extensions import db
from app.models import Contact, OutboxEvent, Skip, StageChange
from app.services.people import contact_payload
from app.services.siteconfig import site_snapshot
from tests.factories import Widget, acme_config, make_site, verified

EMAIL = "dana@zorblax.example"
STAGES = [
    {"key": "lead", "when": {"fields_known": ["email"]}},
    {"key": "mql", "when": {"min_score": 3, "fields_known": ["company"]}},
]


def tally(step: Callable[[], object]) -> tuple[object, Counter[str]]:
    """``step``'s result, and its statements counted as "VERB table" (BEGIN etc. as they are)."""
    statements: list[str] = []

    def capture(conn, cursor, statement, *args) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        result = step()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return result, Counter(_name(statement) for statement in statements)


def _name(statement: str) -> str:
    if statement.startswith("WITH contact AS (UPDATE contacts"):
        return "UPDATE contacts, visitors"  # PostgreSQL: an event's two tallies at once
    verb = statement.split()[0]
    if verb not in ("SELECT", "INSERT", "UPDATE", "DELETE"):
        return statement
    target = re.search(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", statement)
    return f"{verb} {target.group(1)}"


@pytest.fixture
def site(app):
    return make_site(acme_config(stages=STAGES))


@pytest.fixture
def owner(client, site) -> Widget:
    """Dana's own browser: verified, it gave its first name on an earlier submit."""
    widget = Widget(client)
    widget.ask()
    widget.event()
    verified(widget, EMAIL)
    widget.ask()
    assert widget.submit({"first_name": "Dana"}).status_code == 200
    return widget


def test_a_returning_verified_visitor_s_submit_reads_each_row_set_once(client, owner, clock):
    assert owner.ask() == ["company", "zip"]

    response, statements = tally(lambda: owner.submit({"company": "Zorblax"}, skipped=["zip"]))

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["complete"] is False
    # What the submit did: the value changed (one contact.updated), the stage moved to mql,
    # the skip was kept.
    assert changes() == [["email"], ["first_name"], ["company"]]
    assert moves() == ["lead", "mql"]
    assert db.session.scalars(select(Skip.field_id)).all() == [site_field("zip")]
    assert_payload_as_read_afresh(clock())
    assert dict(statements) == submit_statements()
    assert sum(statements.values()) == (24 if db.engine.dialect.name == "sqlite" else 22)


def test_a_claimed_visitor_s_submit_reads_each_row_set_once(client, owner, clock):
    claimant = Widget(client)
    claimant.ask()
    assert claimant.submit({"email": EMAIL}).status_code == 200
    # Its own view: only the email it gave (the owner's answers are not its to see).
    assert claimant.ask() == ["first_name", "company", "zip"]

    response, statements = tally(
        lambda: claimant.submit({"first_name": "Dee", "company": "Zorblax"}, skipped=["zip"])
    )

    assert response.status_code == 200, response.get_json()
    # Nothing left it may be asked: it gave or skipped every question its own answers leave.
    assert response.get_json()["complete"] is True
    # What the submit did: its company filled a blank (one contact.updated; its first name is
    # kept as a claim), and the whole contact moved to mql.
    assert changes() == [["email"], ["first_name"], ["company"]]
    assert moves() == ["lead", "mql"]
    assert_payload_as_read_afresh(clock())
    sqlite = db.engine.dialect.name == "sqlite"
    # Two answers (SQLite inserts each row on its own); the payload's consents, then the
    # claimant's own view: its answers and its consents.
    more = {"INSERT submissions": 2 if sqlite else 1, "SELECT consent_records": 2}
    assert dict(statements) == submit_statements(**more, **{"SELECT submissions": 1})


def submit_statements(**more: int) -> dict[str, int]:
    """What a returning browser's submit runs when it writes one value and one skip, forwards
    contact.updated and moves the contact's stage: the contact's rows read once each (values,
    account values, skips), whatever is derived from them; no event is read (the engagement is
    the contact's and the browser's tally, one UPDATE each; one statement for both on PostgreSQL). ``more``: other counts."""
    return {
        **({"BEGIN IMMEDIATE": 1} if db.engine.dialect.name == "sqlite" else {}),
        "SELECT sites": 1,
        "SELECT visitors": 1,
        "SELECT contacts": 1,
        "SELECT profile_values": 1,
        "SELECT account_values": 1,
        "SELECT skips": 1,
        "INSERT submissions": 1,
        "INSERT profile_values": 1,
        "INSERT skips": 1,
        "INSERT engagement_events": 1,
        "SELECT accounts": 1,
        "SELECT consent_records": 1,
        "INSERT outbox_events": 2,
        "SELECT destinations": 2,
        "INSERT stage_changes": 1,
        "INSERT handoffs": 1,  # the move to mql hands the contact to sales
        **(
            {"UPDATE contacts": 2, "UPDATE visitors": 1}
            if db.engine.dialect.name == "sqlite"
            else {"UPDATE contacts": 1, "UPDATE contacts, visitors": 1}
        ),
        "SELECT fields": 1,
        "INSERT question_stats": 1,
        **more,
    }


def assert_payload_as_read_afresh(now: datetime) -> None:
    """The submit's contact.updated, made from the rows it held, is what reading the contact
    afresh makes (but the stage: the payload was made before the move to mql)."""
    query = select(OutboxEvent.payload).where(OutboxEvent.type == "contact.updated")
    sent = db.session.scalars(query.order_by(OutboxEvent.id.desc())).first()
    contact = db.session.scalars(select(Contact).where(Contact.email == EMAIL)).one()
    fresh = contact_payload(site_snapshot("acme"), contact, sent["changed"], now)
    assert (sent["stage"], fresh["stage"]) == ("lead", "mql")
    assert sent == {**fresh, "stage": "lead"}


def site_field(key: str) -> int:
    return site_snapshot("acme").fields[key].id


def changes() -> list[list[str]]:
    """The ``changed`` keys of every contact.updated, oldest first."""
    query = select(OutboxEvent.payload).where(OutboxEvent.type == "contact.updated")
    return [payload["changed"] for payload in db.session.scalars(query.order_by(OutboxEvent.id))]


def moves() -> list[str]:
    return list(db.session.scalars(select(StageChange.to_stage).order_by(StageChange.id)))
