"""Engagement: a contact's score and funnel stage from its events (DESIGN §3)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from app.domain.specs import STAGES, EventRecord, stage_rank

_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class EngagementSummary:
    score: float
    reached_stage: str | None
    event_times: tuple[datetime, ...]  # occurred_at of each counted event, sorted


def distinct_events(events: Iterable[EventRecord]) -> tuple[EventRecord, ...]:
    """The events that count, sorted by ``occurred_at``.

    An ``external_id`` seen more than once counts once, as its earliest occurrence (the first
    given on a tie); events without an id are all distinct.
    """
    earliest: dict[str, EventRecord] = {}
    anonymous: list[EventRecord] = []
    for event in events:
        if event.external_id is None:
            anonymous.append(event)
            continue
        kept = earliest.get(event.external_id)
        if kept is None or event.occurred_at < kept.occurred_at:
            earliest[event.external_id] = event
    return tuple(sorted([*anonymous, *earliest.values()], key=lambda e: e.occurred_at))


def engagement_score(
    events: Iterable[EventRecord],
    weights: Mapping[str, float],
    now: datetime,
    half_life_days: float | None = None,
) -> float:
    """Sum of the weights of the distinct events, rounded to 4 decimals.

    A kind missing from ``weights`` weighs 0. With a positive ``half_life_days`` each weight
    is multiplied by 0.5 ** (age in days / half_life_days); events dated after ``now`` have
    age 0. None or a non-positive half-life means no decay.
    """
    return _score(distinct_events(events), weights, now, half_life_days)


def reached_stage(events: Iterable[EventRecord]) -> str | None:
    """The latest funnel stage (by ``stage_rank``) among ``events``; None if there is none.

    Stages outside ``STAGES`` are ignored.
    """
    ranked = [event.stage for event in events if event.stage in STAGES]
    return max(ranked, key=stage_rank, default=None)


def summarize_engagement(
    events: Iterable[EventRecord],
    weights: Mapping[str, float],
    now: datetime,
    half_life_days: float | None = None,
) -> EngagementSummary:
    """Score, reached stage and sorted event times of the distinct ``events``, in one pass."""
    counted = distinct_events(events)
    return EngagementSummary(
        score=_score(counted, weights, now, half_life_days),
        reached_stage=reached_stage(counted),
        event_times=tuple(event.occurred_at for event in counted),
    )


def _score(
    counted: tuple[EventRecord, ...],
    weights: Mapping[str, float],
    now: datetime,
    half_life_days: float | None,
) -> float:
    return score_of(((e.kind, e.occurred_at) for e in counted), weights, now, half_life_days)


def score_of(
    kinds_and_times: Iterable[tuple[str, datetime]],
    weights: Mapping[str, float],
    now: datetime,
    half_life_days: float | None,
) -> float:
    """The score of events already known to be distinct, given as (kind, occurred_at)."""
    total = 0.0
    decays = half_life_days is not None and half_life_days > 0
    for kind, occurred_at in kinds_and_times:
        weight = weights.get(kind, 0)
        if decays:
            age_days = max((now - occurred_at).total_seconds(), 0) / _SECONDS_PER_DAY
            weight *= 0.5 ** (age_days / half_life_days)  # type: ignore[operator]
        total += weight
    return round(total, 4)
