"""The hand-off service level and the brief's words, without an app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.sla import duration_words, sla_status, time_left_words
from app.domain.wording import answer_text, rule_words

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("due", "touched", "status", "left"),
    [
        (None, None, "no window", "—"),
        (None, NOW - H, "no window", "—"),
        (NOW + H, None, "due", "1 h left"),
        (NOW, None, "due", "under 1 min left"),
        (NOW - timedelta(seconds=1), None, "breached", "overdue by under 1 min"),
        (NOW - 2 * H, None, "breached", "overdue by 2 h"),
        (NOW - H, NOW - H, "met", "—"),
        (NOW + H, NOW - H, "met", "—"),
        (NOW - H, NOW - H + timedelta(seconds=1), "breached", "—"),
    ],
)
def test_status_and_time_left(due, touched, status, left):
    assert sla_status(due, touched, NOW) == status
    assert time_left_words(due, touched, NOW) == left


@pytest.mark.parametrize(
    ("span", "words"),
    [
        (timedelta(seconds=59), "under 1 min"),
        (timedelta(minutes=1, seconds=59), "1 min"),
        (timedelta(hours=3, minutes=20, seconds=59), "3 h 20 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=23, minutes=59), "23 h 59 min"),
        (timedelta(days=1), "1 d"),
        (timedelta(days=2, hours=4, minutes=30), "2 d 4 h"),
        (-timedelta(hours=2), "2 h"),
    ],
)
def test_duration_words(span, words):
    assert duration_words(span) == words


OPTIONS = (("200+", "More than 200"), ("1-10", "1-10"))


@pytest.mark.parametrize(
    ("value", "options", "text"),
    [
        (None, (), "—"),
        (True, (), "Yes"),
        (False, (), "No"),
        ("200+", OPTIONS, "More than 200"),
        ("gone", OPTIONS, "gone"),
        (["200+", "1-10"], OPTIONS, "More than 200, 1-10"),
        (42, OPTIONS, "42"),
        (2.5, (), "2.5"),
    ],
)
def test_answer_text(value, options, text):
    assert answer_text(value, options) == text


LABELS = {"email": "Work email", "company_size": "Company size"}


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (None, ("Not recorded",)),
        ({"stage": "mql", "when": {"min_score": 15}}, ("Engagement score ≥ 15",)),
        (
            {"stage": "mql", "when": {"min_score": 15.0}, "score": 22.5},
            ("Engagement score ≥ 15 (was 22.5)",),
        ),
        (
            {"stage": "lead", "when": {"fields_known": ["email", "company"]}},
            ("Known: Work email, company",),
        ),
        (
            {
                "stage": "sql",
                "when": {"field_equals": {"company_size": "200+"}, "min_stage": "late"},
            },
            ("Company size is More than 200", "Reached the late funnel stage or later"),
        ),
        ({"stage": "lead", "when": {}}, ("No condition: every contact qualifies",)),
        ({"outcome": "accepted", "outcome_id": 12}, ("Sales outcome: accepted",)),
        (
            {"outcome": "recycled", "outcome_id": 3, "reason": "not_ready"},
            ("Sales outcome: recycled (not_ready)",),
        ),
    ],
)
def test_rule_words(rule, words):
    assert rule_words(rule, LABELS, {"company_size": OPTIONS}) == words
