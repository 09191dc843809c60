"""Question counters: shown / answered / skipped tallied in memory, flushed as upserts."""

from __future__ import annotations

import logging
import threading
import weakref
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models import Field, QuestionStat
from app.services.asking import PreviewVisitor, preview_token
from app.services.insights import count_answers, count_shown
from app.services.insights.question_stats import QUESTION_COUNTERS, flush, question_tally
from app.services.siteconfig import site_snapshot
from tests.factories import Widget

DAY = date(2026, 3, 2)  # the test clock's day


def stats() -> list[tuple[str, str, str, int, int, int]]:
    """Every counter row: (form, field key, day, shown, answered, skipped), sorted."""
    rows = db.session.execute(
        select(
            QuestionStat.form_key,
            Field.key,
            QuestionStat.day,
            QuestionStat.shown,
            QuestionStat.answered,
            QuestionStat.skipped,
        ).join(Field, Field.id == QuestionStat.field_id)
    )
    return sorted((r[0], r[1], r[2].isoformat(), r[3], r[4], r[5]) for r in rows)


def database_down(*args, **kwargs):
    raise OperationalError("BEGIN", {}, ConnectionRefusedError("connection refused"))


def field_id(key: str) -> int:
    return site_snapshot("acme").fields[key].id


def test_asks_submits_and_skips_are_counted_per_question_form_and_day(client, site, clock):
    ada = Widget(client)
    assert ada.ask() == ["email", "first_name", "company"]
    ada.submit({"email": "ada@acme.example", "first_name": "Ada"}, skipped=["company"])
    bob = Widget(client)
    bob.ask()
    # Blank answers are neither answered nor skipped.
    bob.submit({"email": "bob@acme.example", "first_name": "  ", "company": ""})
    clock.advance(days=1)
    assert ada.ask() == ["zip"]  # company waits for 3 more events after the skip
    assert stats() == [
        ("blog", "company", "2026-03-02", 2, 0, 1),
        ("blog", "email", "2026-03-02", 2, 2, 0),
        ("blog", "first_name", "2026-03-02", 2, 1, 0),
        ("blog", "zip", "2026-03-03", 1, 0, 0),
    ]


def test_the_live_preview_counts_nothing(client, site, clock):
    token = preview_token(PreviewVisitor("acme", "blog"), clock())
    api = f"/api/v1/preview/{token}/api/v1/sites/acme/forms/blog"
    ask = client.post(api + "/ask", json={"page": {"url": "https://www.acme.example/"}})
    assert [q["key"] for q in ask.get_json()["questions"]] == ["email", "first_name", "company"]
    submit = client.post(
        api + "/submit",
        json={"ask_token": ask.get_json()["ask_token"], "answers": {"email": "a@b.example"}},
    )
    assert submit.status_code == 200
    assert stats() == []
    assert question_tally().pending() == {}


def test_a_honeypot_submit_counts_no_answer(client, site):
    widget = Widget(client)
    widget.ask()
    response = widget.submit({"email": "bot@spam.example"}, skipped=["company"], hp="http://x")
    assert response.status_code == 200
    assert [row[3:] for row in stats()] == [(1, 0, 0), (1, 0, 0), (1, 0, 0)]


def test_an_idempotent_replay_counts_once(client, site):
    widget = Widget(client)
    widget.ask()
    for _ in range(2):
        response = widget.submit(
            {"email": "ada@acme.example"}, skipped=["company"], idempotency_key="k-1"
        )
        assert response.status_code == 200
    assert stats() == [
        ("blog", "company", "2026-03-02", 1, 0, 1),
        ("blog", "email", "2026-03-02", 1, 1, 0),
        ("blog", "first_name", "2026-03-02", 1, 0, 0),
    ]


def test_an_ask_answered_twice_counts_its_answers_once(client, site):
    """Without an idempotency key the second submit is stored too, but its questions were
    shown once: the answer rate never goes over 100 %."""
    widget = Widget(client)
    widget.ask()
    for email in ("ada@acme.example", "ada@acme.example", "bob@acme.example"):
        assert widget.submit({"email": email}, skipped=["company"]).status_code == 200
    widget.ask()
    assert widget.submit({"first_name": "Ada"}).status_code == 200
    assert stats() == [
        ("blog", "company", "2026-03-02", 1, 0, 1),
        ("blog", "email", "2026-03-02", 1, 1, 0),
        ("blog", "first_name", "2026-03-02", 2, 1, 0),
        ("blog", "zip", "2026-03-02", 1, 0, 0),
    ]


def test_a_rejected_submit_counts_nothing(client, site):
    widget = Widget(client)
    widget.ask()
    assert widget.submit({"email": "not an email"}).status_code == 422
    assert [row[3:] for row in stats()] == [(1, 0, 0), (1, 0, 0), (1, 0, 0)]


class TestFlushInterval:
    @pytest.fixture
    def app_settings(self):
        return {"QUESTION_STATS_FLUSH_SECONDS": 10.0}

    def test_nothing_is_written_until_the_interval_has_passed(self, client, site, clock):
        widget = Widget(client)
        widget.ask()  # the first count starts the interval
        clock.advance(seconds=9)
        widget.ask()
        assert stats() == []
        assert question_tally().pending() == {
            (site.id, field_id(key), "blog", DAY): (2, 0, 0)
            for key in ("email", "first_name", "company")
        }
        clock.advance(seconds=1)
        widget.ask()
        assert [row[1:4] for row in stats()] == [
            ("company", "2026-03-02", 3),
            ("email", "2026-03-02", 3),
            ("first_name", "2026-03-02", 3),
        ]
        assert question_tally().pending() == {}

    def test_a_flush_adds_to_what_earlier_flushes_wrote(self, client, site, clock):
        widget = Widget(client)
        widget.ask()
        assert flush() == 3
        widget.ask()
        widget.submit({"email": "ada@acme.example"}, skipped=["company"])
        assert flush() == 3
        assert flush() == 0  # nothing new
        assert stats() == [
            ("blog", "company", "2026-03-02", 2, 0, 1),
            ("blog", "email", "2026-03-02", 2, 1, 0),
            ("blog", "first_name", "2026-03-02", 2, 0, 0),
        ]

    def test_what_is_left_is_written_at_exit_and_exit_never_raises(
        self, app, client, site, monkeypatch
    ):
        Widget(client).ask()
        monkeypatch.setattr(db.engine, "begin", database_down)
        QUESTION_COUNTERS.flush_at_exit(weakref.ref(app))  # logs, keeps the counts, raises nothing
        assert len(question_tally().pending()) == 3
        monkeypatch.undo()
        QUESTION_COUNTERS.flush_at_exit(weakref.ref(app))
        assert [row[1:4] for row in stats()] == [
            ("company", "2026-03-02", 1),
            ("email", "2026-03-02", 1),
            ("first_name", "2026-03-02", 1),
        ]


def test_counts_from_two_threads_add_up_exactly(app, site, clock):
    snapshot = site_snapshot("acme")
    ids = [snapshot.fields["email"].id, snapshot.fields["zip"].id]
    per_thread = 150
    errors: list[BaseException] = []

    def count() -> None:
        try:
            with app.app_context():
                for n in range(per_thread):
                    count_shown(snapshot, "blog", ids, clock())
                    token = f"ask-{threading.get_ident()}-{n}"
                    count_answers(snapshot, "blog", ids[:1], ids[1:], clock(), token)
        except BaseException as error:  # surfaced below: a thread's failure must fail the test
            errors.append(error)

    threads = [threading.Thread(target=count) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    flush()
    assert stats() == [
        ("blog", "email", "2026-03-02", 300, 300, 0),
        ("blog", "zip", "2026-03-02", 300, 0, 300),
    ]


def test_a_failed_flush_keeps_the_counts_and_the_visitor_gets_an_answer(
    client, site, monkeypatch, caplog
):
    monkeypatch.setattr(db.engine, "begin", database_down)
    widget = Widget(client)
    with caplog.at_level(logging.WARNING, logger="trickle.question_stats"):
        assert widget.ask() == ["email", "first_name", "company"]
    assert "question counters not flushed" in caplog.text
    assert stats() == []
    assert set(question_tally().pending().values()) == {(1, 0, 0)}

    monkeypatch.undo()
    widget.ask()
    assert [row[1:4] for row in stats()] == [
        ("company", "2026-03-02", 2),
        ("email", "2026-03-02", 2),
        ("first_name", "2026-03-02", 2),
    ]
    assert question_tally().pending() == {}
