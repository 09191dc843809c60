"""A request costs the same whatever the contact's history (issue 19): the statements an ask,
an event and a submit run, and the rows those statements read, are the same for a contact with
one event and one with 5 000, for a verified browser (the whole contact) and a claimed one
(its own view).

Each statement is recorded (``before_cursor_execute``); each SELECT is run once more on a
second cursor of the same connection (same transaction, same locks) to count the rows it
reads. The long history is stored directly (the API would take minutes) and its tallies built
the way the worker rebuilds them after an upgrade.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, select, update

from app.extensions import db
from app.models import Contact, EngagementEvent, Site, Visitor
from app.services.people import rebuild_stale_tallies
from app.services.tokens import read_visitor_token
from tests.factories import Widget, acme_config, make_site, verified
from tests.tallies import tally_mismatches

STAGES = [
    {"key": "lead", "when": {"fields_known": ["email"]}},
    {"key": "mql", "when": {"min_score": 100000, "fields_known": ["company"]}},
]


@pytest.fixture
def site(app):
    return make_site(acme_config(stages=STAGES))


def cost(step: Callable[[], object]) -> tuple[Counter[str], int]:
    """The statements ``step`` ran, by verb and table, and the rows its SELECTs read."""
    names: list[str] = []
    rows = 0

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        nonlocal rows
        names.append(_name(statement))
        if statement.lstrip().upper().startswith("SELECT") and not executemany:
            again = conn.connection.driver_connection.cursor()
            again.execute(statement, parameters)
            rows += len(again.fetchall())
            again.close()

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        step()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return Counter(names), rows


def _name(statement: str) -> str:
    words = statement.split()
    if words[0] == "WITH":
        return " ".join(words[:2])
    if words[0] not in ("SELECT", "INSERT", "UPDATE", "DELETE"):
        return " ".join(words)
    target = re.search(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", statement)
    return f"{words[0]} {target.group(1)}"


def add_history(widget: Widget, count: int, clock) -> None:
    """``count`` events of ``widget`` stored at once (a day apart, ending an hour ago), its
    tallies rebuilt from them as after an upgrade."""
    public_id = read_visitor_token("acme", widget.visitor)
    visitor = db.session.scalars(select(Visitor).where(Visitor.public_id == public_id)).one()
    start = clock() - timedelta(hours=1) - timedelta(days=count)
    db.session.execute(
        insert(EngagementEvent),
        [
            {
                "site_id": visitor.site_id,
                "contact_id": visitor.contact_id,
                "visitor_id": visitor.id,
                "kind": "page_view",
                "stage": "mid" if n % 7 == 0 else "early",
                "external_id": f"history-{n}" if n % 2 else None,
                "occurred_at": start + timedelta(days=n),
                "counted": True,
            }
            for n in range(count)
        ],
    )
    for model, row_id in ((Contact, visitor.contact_id), (Visitor, visitor.id)):
        seq = model.tally_seq + count
        db.session.execute(
            update(model).where(model.id == row_id).values(tally_seq=seq, tally_basis=None)
        )
    db.session.execute(update(Site).values(tally_basis=None))
    db.session.commit()
    rebuild_stale_tallies()
    assert tally_mismatches("acme", clock()) == []


def one_round(widget: Widget, clock) -> dict[str, tuple[Counter[str], int]]:
    """What an ask, an event and a submit of ``widget`` cost."""
    costs = {}
    clock.advance(minutes=5)
    costs["ask"] = cost(lambda: widget.ask())
    costs["event"] = cost(lambda: widget.event("webinar", id=f"e-{clock().timestamp()}"))
    offered = widget.ask()
    responses = []
    costs["submit"] = cost(lambda: responses.append(widget.submit({}, skipped=offered[:1])))
    assert responses[0].status_code == 200, responses[0].get_json()
    return costs


@pytest.mark.parametrize("trust", ["verified", "claimed"])
def test_a_request_costs_the_same_for_1_and_5000_events(client, site, clock, trust) -> None:
    def browser(name: str) -> Widget:
        widget = Widget(client)
        widget.ask()
        widget.event()
        if trust == "verified":
            verified(widget, f"{name}@zorblax.example")
        else:
            widget.ask()
            assert widget.submit({"email": f"{name}@zorblax.example"}).status_code == 200
        return widget

    short, long = browser("short"), browser("long")
    add_history(long, 5000, clock)
    for widget in (short, long):  # warm: the site snapshot, the first-request work
        one_round(widget, clock)

    short_costs, long_costs = one_round(short, clock), one_round(long, clock)

    for request in ("ask", "event", "submit"):
        assert long_costs[request] == short_costs[request], request
        statements, _ = long_costs[request]
        # No request reads the events; an event inserts one.
        assert "SELECT engagement_events" not in statements
        assert statements["INSERT engagement_events"] == (0 if request == "ask" else 1)
    assert tally_mismatches("acme", clock()) == []


def test_an_event_is_one_insert_and_one_update(client, site, clock) -> None:
    """A returning browser's event: the site check, its two locks, one INSERT (a repeated id
    ignored by the database) and the tallies' UPDATE (one statement on PostgreSQL; SQLite runs
    the contact's and the browser's on their own, in process); no stage rule ran (the event
    cannot move the contact: mql needs a score of 100 000)."""
    widget = Widget(client)
    widget.ask()
    widget.event()
    sqlite = db.engine.dialect.name == "sqlite"

    statements, _ = cost(lambda: widget.event("webinar", id="w-1"))
    again, _ = cost(lambda: widget.event("webinar", id="w-1"))

    updates = {"UPDATE visitors": 1, "UPDATE contacts": 1} if sqlite else {"WITH contact": 1}
    locks = {"BEGIN IMMEDIATE": 1} if sqlite else {}
    reads = {"SELECT sites": 1, "SELECT visitors": 1, "SELECT contacts": 1}
    assert dict(statements) == {**locks, **reads, "INSERT engagement_events": 1, **updates}
    # The same id again from this browser: the insert does nothing, nothing is updated.
    assert dict(again) == {**locks, **reads, "INSERT engagement_events": 1}
