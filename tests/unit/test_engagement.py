"""Engagement: score from distinct weighted events, optional decay, and the stage reached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.engagement import (
    EngagementSummary,
    distinct_events,
    engagement_score,
    reached_stage,
    summarize_engagement,
)
from app.domain.specs import EventRecord

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
WEIGHTS = {"page_view": 1, "content_download": 3, "webinar": 5, "form_submit": 2}


def ev(
    kind: str = "page_view",
    days_ago: float = 0,
    event_id: str | None = None,
    stage: str = "early",
) -> EventRecord:
    return EventRecord(kind, stage, NOW - timedelta(days=days_ago), event_id)


@pytest.mark.parametrize(
    ("events", "score"),
    [
        pytest.param([], 0, id="no events score 0"),
        pytest.param([ev()], 1, id="one page view"),
        pytest.param([ev(), ev(), ev("webinar")], 7, id="weights add up"),
        pytest.param([ev("content_download"), ev("chat_opened")], 3, id="an unknown kind weighs 0"),
        pytest.param([ev(event_id="x"), ev(event_id="x")], 1, id="an id sent twice counts once"),
        pytest.param([ev(event_id="x"), ev(event_id="y")], 2, id="different ids count separately"),
        pytest.param([ev(), ev()], 2, id="events without id are all distinct"),
        pytest.param(
            [ev("webinar", days_ago=400)], 5, id="without a half-life old events keep their weight"
        ),
    ],
)
def test_engagement_score(events: list[EventRecord], score: float) -> None:
    assert engagement_score(events, WEIGHTS, NOW) == score


@pytest.mark.parametrize(
    ("events", "half_life", "score"),
    [
        pytest.param([ev("webinar", days_ago=0)], 7, 5, id="a fresh event has full weight"),
        pytest.param([ev("webinar", days_ago=7)], 7, 2.5, id="one half-life halves the weight"),
        pytest.param([ev("webinar", days_ago=14)], 7, 1.25, id="two half-lives quarter it"),
        pytest.param([ev("page_view", days_ago=3.5)], 7, 0.7071, id="rounded to 4 decimals"),
        pytest.param([ev("webinar", days_ago=-3)], 7, 5, id="a future event counts as age 0"),
        pytest.param(
            [ev("webinar", days_ago=7), ev("content_download")], 7, 5.5, id="each decays alone"
        ),
        pytest.param([ev("webinar", days_ago=7)], None, 5, id="no half-life no decay"),
    ],
)
def test_half_life_decays_old_events(
    events: list[EventRecord], half_life: float | None, score: float
) -> None:
    assert engagement_score(events, WEIGHTS, NOW, half_life_days=half_life) == score


def test_a_duplicate_id_keeps_the_earliest_event() -> None:
    later, earlier = ev("webinar", days_ago=1, event_id="x"), ev("page_view", 5, event_id="x")

    assert distinct_events([later, earlier]) == (earlier,)
    assert engagement_score([later, earlier], WEIGHTS, NOW) == 1


def test_distinct_events_are_sorted_by_time() -> None:
    a, b, c = ev(days_ago=1), ev(days_ago=3, event_id="b"), ev(days_ago=2)

    assert distinct_events([a, b, c]) == (b, c, a)


@pytest.mark.parametrize(
    ("stages", "reached"),
    [
        pytest.param([], None, id="no events no stage"),
        pytest.param(["early", "early"], "early", id="early only"),
        pytest.param(["early", "late", "mid"], "late", id="latest stage wins whatever the order"),
        pytest.param(["mid", "early"], "mid", id="mid beats early"),
        pytest.param(["bogus", "mid"], "mid", id="an unknown stage is ignored"),
    ],
)
def test_reached_stage(stages: list[str], reached: str | None) -> None:
    assert reached_stage([ev(stage=stage) for stage in stages]) == reached


def test_summarize_engagement_counts_each_event_once() -> None:
    first = ev("webinar", days_ago=2, event_id="w1", stage="late")
    events = [ev(days_ago=1), first, ev("webinar", days_ago=1, event_id="w1", stage="late")]

    assert summarize_engagement(events, WEIGHTS, NOW) == EngagementSummary(
        score=6,
        reached_stage="late",
        event_times=(NOW - timedelta(days=2), NOW - timedelta(days=1)),
    )
