"""The funnel report as one request builds it: each contact's steps computed once into a
temporary table the tables share, the same numbers as each table alone, and the table gone
afterwards, also when a table fails (data: tests/insights/funnel_data.py)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, select, text

from app.extensions import db
from app.models import Site
from app.services.insights import funnel, funnel_report, funnel_table
from tests.insights.funnel_data import MQL_RULE, History, at, funnel_config, known_history

STEP_LOOKUP = "min(stage_changes.changed_at)"  # the per-contact lookup of a stage's first move


def _temporary_tables() -> list[str]:
    if db.engine.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_temp_master WHERE type = 'table'"
    else:
        query = "SELECT tablename FROM pg_tables WHERE schemaname LIKE 'pg_temp%'"
    return list(db.session.execute(text(query)).scalars())


def _statements(run) -> tuple[object, list[str]]:
    seen: list[str] = []

    def note(_conn, _cursor, statement, _params, _context, _many) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        return run(), seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def test_the_report_looks_each_contacts_steps_up_once_with_the_numbers_of_each_table(app, clock):
    known_history()
    report, statements = _statements(lambda: funnel_report("acme", 7, clock()))
    assert [name for name, _ in report] == list(funnel.TABLES)
    assert sum(STEP_LOOKUP in s for s in statements) == 1
    alone = tuple((name, funnel_table("acme", name, 7, clock())) for name in funnel.TABLES)
    assert report == alone
    assert [row[:7] for row in dict(report)["weeks"].rows] == [
        (date(2026, 2, 23), 3, 3, 3, 1, 1, 1),
        (date(2026, 3, 2), 1, 1, 0, 0, 0, 1),
    ]
    assert _temporary_tables() == []
    assert "funnel_steps" not in db.session.info
    db.session.rollback()  # as at the end of the request: nothing comes back
    assert _temporary_tables() == []


def test_one_table_alone_looks_the_steps_up_in_its_own_query(app, clock):
    known_history()
    _, statements = _statements(lambda: funnel_table("acme", "weeks", 7, clock()))
    assert sum(STEP_LOOKUP in s for s in statements) == 1
    assert not any("TEMPORARY" in s for s in statements)


def test_a_failing_table_leaves_no_temporary_table_and_a_usable_session(app, clock, monkeypatch):
    known_history()

    def broken(site, period):
        raise RuntimeError("a table failed")

    monkeypatch.setitem(funnel.TABLES, "sla", broken)
    with pytest.raises(RuntimeError, match="a table failed"):
        funnel_report("acme", 7, clock())
    db.session.rollback()
    assert _temporary_tables() == []
    assert "funnel_steps" not in db.session.info
    assert db.session.scalars(select(Site.key)).all() == ["acme"]


def test_mqls_count_once_under_their_first_move_and_rules_not_configured_follow(app, clock):
    h = History(funnel_config())
    higher = {"stage": "mql", "when": {"min_score": 20}}
    ada = h.contact("ada@corp.example", at(24, 6))
    h.move(ada, "mql", at(25, 10), higher)
    h.move(ada, "sal", at(25, 10), {"outcome": "accepted"})  # the same instant, recorded after
    h.outcome(ada, "accepted", at(26, 10))
    bob = h.contact("bob@corp.example", at(24, 7))
    h.move(bob, "mql", at(25, 11))  # no rule recorded
    cy = h.contact("cy@corp.example", at(24, 8))
    h.move(cy, "mql", at(25, 12), {**higher, "score": 25})
    dee = h.contact("dee@corp.example", at(24, 9))
    h.move(dee, "mql", at(25, 13), {**MQL_RULE, "score": 12})
    rules = funnel_table("acme", "rules", 7, clock())
    assert rules.rows == (
        ("mql: Engagement score ≥ 10", 1, 0, 0, 0, 0.0, None, None),
        ("sal: Engagement score ≥ 1000000", 0, 0, 0, 0, None, None, None),
        ("opportunity: Engagement score ≥ 1000000", 0, 0, 0, 0, None, None, None),
        ("customer: Engagement score ≥ 1000000", 0, 0, 0, 0, None, None, None),
        ("mql: Engagement score ≥ 20", 2, 1, 0, 0, 50.0, 0.0, None),
        ("mql: Not recorded", 1, 0, 0, 0, 0.0, None, None),
    )
    assert dict(funnel_report("acme", 7, clock()))["rules"] == rules
