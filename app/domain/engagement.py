"""Engagement: a contact's score and funnel stage from its events (DESIGN §3)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from app.domain.specs import STAGES, EventRecord, stage_rank

_SECONDS_PER_DAY = 86_400
PAGE_VIEW = "page_view"  # the widget sends one per page; it names the page's forms

# Event weights every site starts from; a config's ``engagement`` adds kinds or changes weights.
DEFAULT_ENGAGEMENT: dict[str, float] = {
    PAGE_VIEW: 1,
    "content_download": 3,
    "video_play": 2,
    "webinar": 5,
    "email_click": 1,
    "form_submit": 2,
}


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
    is multiplied by 0.5 ** (age in days / half_life_days), the age taken at ``now`` or, when
    an event is dated after ``now`` (stamped by a concurrent request), at the latest event.
    None or a non-positive half-life means no decay.
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
    # Scored at ``now``, or at the latest event when one is dated after it (a concurrent
    # request stamped it later): as a running tally scores it (``tally_score``).
    if counted and counted[-1].occurred_at > now:
        now = counted[-1].occurred_at
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


# A running total is rebased to a newer reference time once an event would scale its weight
# by more than 2**_REBASE (far from overflow, and well inside a float's exponent range).
_REBASE = 64.0


@dataclass(frozen=True)
class Tally:
    """Engagement kept up to date on write: what the rules need, without the event list.

    ``total`` is the sum of the counted events' weights, each scaled to the reference time
    ``at`` (weight * 2 ** (days from ``at`` to the event / half-life)), so the score at any
    later moment is one multiplication (``tally_score``); without decay it is the plain sum and
    ``at`` stays None. ``stages`` counts the counted events per funnel stage (early, mid,
    late), ``last`` is the latest event's time, and ``seq`` counts every event ever added: "N
    events since a skip" is ``seq`` now minus ``seq`` at the skip, whatever was merged or
    erased meanwhile.
    """

    total: float = 0.0
    at: datetime | None = None
    last: datetime | None = None
    stages: tuple[int, int, int] = (0, 0, 0)
    seq: int = 0

    @property
    def events(self) -> int:
        return sum(self.stages)

    @property
    def reached_stage(self) -> str | None:
        reached = [stage for stage, count in zip(STAGES, self.stages, strict=True) if count]
        return reached[-1] if reached else None


def _decays(half_life_days: float | None) -> bool:
    return half_life_days is not None and half_life_days > 0


def _doublings(moment: datetime, at: datetime, half_life_days: float) -> float:
    return (moment - at).total_seconds() / _SECONDS_PER_DAY / half_life_days


def tally_add(
    tally: Tally,
    weight: float,
    stage: str,
    occurred_at: datetime,
    half_life_days: float | None,
    *,
    sign: int = 1,
) -> Tally:
    """``tally`` with one counted event added (``sign`` -1: taken away; its ``seq`` stays)."""
    total, at = tally.total, tally.at
    if _decays(half_life_days):
        assert half_life_days is not None
        at = at or occurred_at
        exponent = _doublings(occurred_at, at, half_life_days)
        if exponent > _REBASE:
            total, at, exponent = total * 2.0**-exponent, occurred_at, 0.0
        total += sign * weight * 2.0**exponent
    else:
        total += sign * weight
    stages = list(tally.stages)
    if stage in STAGES:
        stages[STAGES.index(stage)] += sign
    if sign < 0:
        return Tally(
            max(total, 0.0) if any(stages) else 0.0, at, tally.last, tuple(stages), tally.seq
        )  # type: ignore[arg-type]
    last = occurred_at if tally.last is None else max(tally.last, occurred_at)
    return Tally(total, at, last, tuple(stages), tally.seq + 1)  # type: ignore[arg-type]


def tally_score(tally: Tally, now: datetime, half_life_days: float | None) -> float:
    """The score at ``now`` (or at the latest event, when that is later: as
    ``engagement_score`` takes it), rounded as ``engagement_score`` rounds it."""
    if tally.last is not None and now < tally.last:
        now = tally.last
    if not _decays(half_life_days) or tally.at is None:
        return round(tally.total, 4) + 0.0
    assert half_life_days is not None
    return round(tally.total * 2.0 ** -_doublings(now, tally.at, half_life_days), 4) + 0.0


def tally_join(first: Tally, second: Tally, half_life_days: float | None) -> Tally:
    """Two contacts' tallies as one (a merge): totals at a common reference time, counts added."""
    total, at = first.total, first.at
    if _decays(half_life_days) and first.at is not None and second.at is not None:
        assert half_life_days is not None
        at = max(first.at, second.at)
        total = first.total * 2.0 ** -_doublings(at, first.at, half_life_days)
        total += second.total * 2.0 ** -_doublings(at, second.at, half_life_days)
    else:
        total, at = first.total + second.total, first.at or second.at
    lasts = [moment for moment in (first.last, second.last) if moment is not None]
    return Tally(
        total,
        at,
        max(lasts, default=None),
        tuple(a + b for a, b in zip(first.stages, second.stages, strict=True)),  # type: ignore[arg-type]
        first.seq + second.seq,
    )


def tally_of(
    events: Iterable[EventRecord],
    weights: Mapping[str, float],
    half_life_days: float | None,
    *,
    seq: int | None = None,
) -> Tally:
    """The tally of ``events`` from scratch (their distinct ones, as ``engagement_score`` counts
    them); ``seq``: the counter to keep (default: one per distinct event)."""
    tally = Tally()
    for event in distinct_events(events):
        weight = weights.get(event.kind, 0)
        tally = tally_add(tally, weight, event.stage, event.occurred_at, half_life_days)
    return tally if seq is None else Tally(tally.total, tally.at, tally.last, tally.stages, seq)


def tally_basis(weights: Mapping[str, float], half_life_days: float | None) -> str:
    """Names what a tally's ``total`` was summed with: the weights and the half-life."""
    basis = json.dumps([sorted((kind, float(w)) for kind, w in weights.items()), half_life_days])
    return hashlib.sha256(basis.encode()).hexdigest()[:16]
