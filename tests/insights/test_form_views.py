"""Views and asks per form: a page view names the forms on its page and each of the site's
counts one view; an ask that returns questions counts one ask. Counted in memory, flushed into
``form_stats`` per site, form and UTC day; read by the dashboard's headlines. Both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import FormStat
from app.services.asking import PreviewVisitor, preview_token
from app.services.insights import site_headlines
from app.services.people import FORM_COUNTERS, flush_form_counts
from tests.factories import Widget, acme_config, make_site


def stats() -> list[tuple[str, str, int, int]]:
    """Every counter row: (form, day, views, asks), sorted."""
    rows = db.session.execute(
        select(FormStat.form_key, FormStat.day, FormStat.views, FormStat.asks)
    )
    return sorted((r[0], r[1].isoformat(), r[2], r[3]) for r in rows)


def views_and_asks(days: int, now: datetime) -> dict[str, tuple[int, int]]:
    return {f.key: (f.views, f.asks) for f in site_headlines("acme", days, now).forms}


def test_two_forms_on_one_page_get_one_view_each(client, two_forms, clock):
    Widget(client).event(id="p1", forms=["blog", "short"])
    assert stats() == [("blog", "2026-03-02", 1, 0), ("short", "2026-03-02", 1, 0)]
    headlines = site_headlines("acme", 30, clock())
    assert headlines.page_views == 1
    assert views_and_asks(30, clock()) == {"blog": (1, 0), "short": (1, 0)}


def test_a_form_named_twice_on_a_page_counts_one_view(client, two_forms, clock):
    Widget(client).event(forms=["blog", "blog"])
    assert stats() == [("blog", "2026-03-02", 1, 0)]


def test_keys_the_site_has_no_form_for_are_ignored_and_the_page_view_kept(client, two_forms, clock):
    Widget(client).event(id="p1", forms=["blog", "nope", "Not-A-Key"])
    assert stats() == [("blog", "2026-03-02", 1, 0)]
    assert site_headlines("acme", 30, clock()).page_views == 1


def test_a_page_view_sent_again_counts_one_view(client, two_forms, clock):
    ada = Widget(client)
    for _ in range(3):
        ada.event(id="p1", forms=["blog"])
    ada.event(id="p2", forms=["blog"])
    ada.event(forms=["short"])  # no id: every one counts
    ada.event(forms=["short"])
    assert stats() == [("blog", "2026-03-02", 2, 0), ("short", "2026-03-02", 2, 0)]
    assert site_headlines("acme", 30, clock()).page_views == 4


def test_a_page_view_without_forms_counts_no_form_view(client, two_forms, clock):
    Widget(client).event(id="p1")
    Widget(client).event(id="p2", forms=[])
    Widget(client).event(id="p3", forms=None)
    assert stats() == []
    assert site_headlines("acme", 30, clock()).page_views == 3


def test_an_ask_counts_for_its_form_only_when_it_returns_questions(client, two_forms, clock):
    bob = Widget(client, form="short")
    assert bob.ask() == ["first_name", "company"]
    assert bob.submit({"first_name": "Bob", "company": "Acme"}).status_code == 200
    assert bob.ask() == []  # nothing left to ask: the form is not shown
    assert bob.ask() == []
    ada = Widget(client)
    assert ada.ask() == ["email", "first_name", "company"]
    assert stats() == [("blog", "2026-03-02", 0, 1), ("short", "2026-03-02", 0, 1)]


def test_the_live_preview_counts_no_view_and_no_ask(client, two_forms, clock):
    token = preview_token(PreviewVisitor("acme", "blog"), clock())
    api = f"/api/v1/preview/{token}/api/v1/sites/acme"
    ask = client.post(api + "/forms/blog/ask", json={"page": {"url": "https://x.example/"}})
    assert [q["key"] for q in ask.get_json()["questions"]] == ["email", "first_name", "company"]
    view = client.post(api + "/events", json={"kind": "page_view", "forms": ["blog"]})
    assert view.status_code == 202
    assert stats() == []
    assert FORM_COUNTERS.tally().pending() == {}


def test_the_public_answers_are_unchanged(client, two_forms):
    """Counting adds nothing to what a page reads: the event's answer is its visitor token."""
    response = Widget(client).event(forms=["blog", "short"])
    assert list(response.get_json()) == ["visitor"]


def test_the_period_holds_whole_utc_days(client, two_forms, clock):
    """The last 7 days are today and the 6 days before it, from midnight UTC: a view at
    23:59:59 on the 7th day back is outside, one at midnight of the 6th is inside."""
    assert clock.advance(hours=14, minutes=59, seconds=59) == datetime(
        2026, 3, 2, 23, 59, 59, tzinfo=UTC
    )
    Widget(client).event(forms=["blog"])  # 2026-03-02, the day before the first of the period
    clock.advance(seconds=1)
    Widget(client).event(forms=["blog", "short"])  # 2026-03-03 00:00:00, its first day
    ada = Widget(client)
    last = clock.advance(days=6, hours=23, minutes=59, seconds=59)  # the period's last instant
    assert last == datetime(2026, 3, 9, 23, 59, 59, tzinfo=UTC)
    assert ada.ask() == ["email", "first_name", "company"]
    assert stats() == [
        ("blog", "2026-03-02", 1, 0),
        ("blog", "2026-03-03", 1, 0),
        ("blog", "2026-03-09", 0, 1),
        ("short", "2026-03-03", 1, 0),
    ]
    now = clock()
    assert views_and_asks(7, now) == {"blog": (1, 1), "short": (1, 0)}
    assert views_and_asks(30, now) == {"blog": (2, 1), "short": (1, 0)}
    clock.advance(seconds=1)  # 2026-03-10: the 3rd falls out of the last 7 days
    assert views_and_asks(7, clock()) == {"blog": (0, 1), "short": (0, 0)}


def test_a_removed_form_keeps_its_counts_after_the_sites_forms(client, two_forms, clock):
    Widget(client, form="short").ask()
    Widget(client).event(forms=["short"])
    make_site(acme_config())  # the short form is removed
    forms = site_headlines("acme", 30, clock()).forms
    assert [(f.key, f.title, f.views, f.asks) for f in forms] == [
        ("blog", "Stay in the loop", 0, 0),
        ("short", "short (removed)", 1, 1),
    ]


class TestFlushInterval:
    @pytest.fixture
    def app_settings(self):
        return {"QUESTION_STATS_FLUSH_SECONDS": 10.0}

    def test_counts_wait_in_memory_until_the_interval_or_the_dashboard(
        self, client, two_forms, clock
    ):
        widget = Widget(client)
        widget.event(forms=["blog"])  # the first count starts the interval
        clock.advance(seconds=9)
        widget.event(forms=["blog", "short"])
        widget.ask()
        assert stats() == []
        day = date(2026, 3, 2)
        assert FORM_COUNTERS.tally().pending() == {
            (two_forms.id, "blog", day): (2, 1),
            (two_forms.id, "short", day): (1, 0),
        }
        clock.advance(seconds=1)
        widget.event(forms=["short"])
        assert stats() == [("blog", "2026-03-02", 2, 1), ("short", "2026-03-02", 2, 0)]
        widget.event(forms=["short"])
        assert views_and_asks(30, clock()) == {"blog": (2, 1), "short": (3, 0)}  # flushed first
        assert flush_form_counts() == 0

    def test_counts_of_a_site_gone_before_the_flush_are_dropped(self, client, two_forms, clock):
        """A site deleted between the count and the flush has no row to count against: its
        counts go, the others' are written, and nothing is kept to fail the next flush."""
        Widget(client).event(forms=["blog"])
        FORM_COUNTERS.tally().add([(two_forms.id + 1, "blog", date(2026, 3, 2))], 0)
        assert flush_form_counts() == 1
        assert stats() == [("blog", "2026-03-02", 1, 0)]
        assert FORM_COUNTERS.tally().pending() == {}
