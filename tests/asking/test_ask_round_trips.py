"""A returning browser's ask is two statements and writes nothing (issue 19 item 2): the site's
freshness check (once per request, shared by the origin check and the handler) and one
statement for everything the browser's questions depend on (``people.ask_view``), both outside
any transaction (no BEGIN or COMMIT round trip). And what it reads is what the rules would see:
the questions are those ``load_contact_state`` gives, for a claimed and a verified browser.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, select

from app.domain.selection import select_questions
from app.extensions import db
from app.models import Visitor
from app.services.people import load_contact_state
from app.services.siteconfig import site_snapshot
from app.services.tokens import read_visitor_token
from tests.factories import ORIGIN, Widget, verified


@pytest.fixture
def app_settings() -> dict[str, object]:
    # The counts of questions shown are flushed in batches, in a transaction of their own,
    # every so often (insights.question_stats): not in these asks.
    return {"QUESTION_STATS_FLUSH_SECONDS": 10**9}


def ask_statements(widget: Widget) -> list[tuple[str, str | None]]:
    """The statements one ask ran (verb and first table), each with its connection's
    isolation level."""
    seen: list[tuple[str, str | None]] = []

    def capture(conn, cursor, statement, *args) -> None:
        words = statement.split()
        level = conn.get_execution_options().get("isolation_level")
        seen.append((" ".join(words[:2]) if words[0] != "SELECT" else _first_table(words), level))

    db.session.remove()  # a request starts with no transaction, as each does in production
    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        widget.ask()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return seen


def _first_table(words: list[str]) -> str:
    return "SELECT " + (words[words.index("FROM") + 1] if "FROM" in words else "?")


def expected_questions(widget: Widget, now) -> list[str]:
    site = site_snapshot("acme")
    public_id = read_visitor_token("acme", widget.visitor)
    visitor = db.session.scalars(select(Visitor).where(Visitor.public_id == public_id)).one()
    state = load_contact_state(site, visitor.contact, now, visitor)
    selection = select_questions(site.form("blog").rules, state, now)
    db.session.commit()
    return [q.key for q in selection.questions]


@pytest.mark.parametrize("trust", ["claimed", "verified"])
def test_a_returning_browser_s_ask_is_two_statements_without_a_transaction(
    client, site, clock, trust
) -> None:
    widget = Widget(client)
    widget.client.environ_base["HTTP_ORIGIN"] = ORIGIN  # the origin check runs too
    widget.ask()
    widget.event("webinar", stage="late")
    if trust == "verified":
        verified(widget, "dana@zorblax.example")
    else:
        widget.ask()
        assert widget.submit({"email": "dana@zorblax.example"}).status_code == 200
    widget.ask()
    widget.submit({}, skipped=["first_name"])
    clock.advance(hours=2)

    statements = ask_statements(widget)

    assert [name for name, _ in statements] == ["SELECT sites", "WITH found"]
    assert {level for _, level in statements} == {"AUTOCOMMIT"}
    # The pooled connection goes back to transactions for the next request's writes.
    db.session.remove()
    assert db.session.connection().get_isolation_level() != "AUTOCOMMIT"
    db.session.rollback()
    offered = [q["key"] for q in json.loads(widget.bodies[-1])["questions"]]
    assert offered == expected_questions(widget, clock())
    assert "first_name" not in offered  # its own skip, read in the one statement


def test_a_new_browser_s_ask_is_one_statement(client, site) -> None:
    widget = Widget(client)
    site_snapshot("acme")  # built once per config version; not this ask's work

    statements = ask_statements(widget)

    assert [name for name, _ in statements] == ["SELECT sites"]
