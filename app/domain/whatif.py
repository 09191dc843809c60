"""What-if: when would a contact have been handed to sales under a given definition, replaying
what it did (its counted events, its answers) in time order (issue 21, docs/sales.md).

Pure: one contact's history in, the first moment its furthest holding stage reached the
hand-off stage out, for each of several definitions in one pass over the history (a what-if
replays two: the current and the proposed). The service streams contacts through it in
batches, so nothing here holds more than one contact.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from app.domain.qualification import StageRule, engagement_holds, fields_hold
from app.domain.specs import STAGES, ContactState, KnownValue, stage_rank

_SECONDS_PER_DAY = 86_400


class Step(NamedTuple):
    """One change to a contact's state: a counted event (``kind``, ``stage``) or an answer
    (``field`` set to ``value``; None clears it). A named tuple: a replay makes one for each
    row of a history, and a tuple is made several times faster than a frozen dataclass."""

    at: datetime
    kind: str | None = None
    stage: str | None = None
    field: str | None = None
    value: Any = None


@dataclass(frozen=True)
class Definition:
    """The stages as rules, in order, and which of them is the hand-off."""

    stages: tuple[StageRule, ...]
    handoff: int | None  # index of the hand-off stage in ``stages``; None: no hand-off

    @classmethod
    def from_config(cls, stages: Sequence[Mapping[str, Any]]) -> Definition:
        rules = tuple(StageRule.from_config(s["key"], s.get("when") or {}) for s in stages)
        marked = [i for i, s in enumerate(stages) if s.get("handoff")]
        keys = [s["key"] for s in stages]
        handoff = marked[0] if marked else (keys.index("mql") if "mql" in keys else None)
        return cls(rules, handoff)


@dataclass(frozen=True)
class Replay:
    """Definitions replayed together over one contact's history at a time, with what can be
    worked out once for all contacts: each distinct rule at or past a hand-off stage, once
    (two definitions usually share most of their stages), the lowest score any of them asks
    (below it no rule needs checking), and the decay."""

    rules: tuple[StageRule, ...]
    handing_off: tuple[tuple[int, ...], ...]  # per definition: its rules' indexes; () none
    weights: Mapping[str, float]
    decay: float | None  # the half-life in days, None without decay
    least_score: float  # -inf when a rule asks no score

    @classmethod
    def of(
        cls,
        definitions: Sequence[Definition],
        weights: Mapping[str, float],
        half_life_days: float | None,
    ) -> Replay:
        rules: list[StageRule] = []
        handing_off = []
        for definition in definitions:
            tail = () if definition.handoff is None else definition.stages[definition.handoff :]
            for rule in tail:
                if rule not in rules:
                    rules.append(rule)
            handing_off.append(tuple(rules.index(rule) for rule in tail))
        decay = half_life_days if half_life_days and half_life_days > 0 else None
        scores = [-math.inf if r.min_score is None else r.min_score for r in rules]
        return cls(tuple(rules), tuple(handing_off), dict(weights), decay, min(scores, default=0))

    def first_handoffs(
        self, steps: Iterable[Step], account_values: Mapping[str, KnownValue] | None = None
    ) -> tuple[datetime | None, ...]:
        """Per definition, the first moment over ``steps`` (sorted by time) at which a stage
        at or past its hand-off stage holds; None if it never does. A score only rises at an
        event, and a value only changes at an answer, so checking after each step finds the
        first moment exactly. ``account_values``: the company's values, each known from its
        ``updated_at``."""
        found: list[datetime | None] = [None] * len(self.handing_off)
        waiting = [i for i, indexes in enumerate(self.handing_off) if indexes]
        contact = _Replayed(self.weights, self.decay, account_values or {})
        for step in steps if waiting else ():
            contact.advance(step)
            if contact.score < self.least_score:
                continue
            for i in self._holding(waiting, contact):
                found[i] = step.at
                waiting.remove(i)
            if not waiting:
                break
        return tuple(found)

    def _holding(self, waiting: Sequence[int], contact: _Replayed) -> list[int]:
        """The ``waiting`` definitions with a rule at or past their hand-off holding for
        ``contact`` now. Each rule is checked at most once, its engagement half first: most
        steps fail on the score, before the contact's state is built."""
        checked: dict[int, bool] = {}
        holding = []
        for i in waiting:
            for r in self.handing_off[i]:
                if r not in checked:
                    rule = self.rules[r]
                    checked[r] = engagement_holds(rule, contact.score, contact.reached) and (
                        fields_hold(rule, contact.state())
                    )
                if checked[r]:
                    holding.append(i)
                    break
        return holding


class _Replayed:
    """One contact as its history is replayed, step by step: its score, the furthest funnel
    stage its events reached, its own values and its company's values known so far. The
    contact state the value rules read is built only when one asks for it."""

    __slots__ = (
        "_shared",
        "_shared_times",
        "_state",
        "decay",
        "known_shared",
        "last",
        "reached",
        "score",
        "total",
        "values",
        "weights",
    )

    def __init__(
        self,
        weights: Mapping[str, float],
        decay: float | None,
        account_values: Mapping[str, KnownValue],
    ) -> None:
        self.weights, self.decay = weights, decay
        self.total, self.score = 0.0, 0.0
        self.last: datetime | None = None
        self.reached: str | None = None
        self.values: dict[str, KnownValue] = {}
        self._shared = sorted(account_values.items(), key=lambda item: item[1].updated_at)
        self._shared_times = [known.updated_at for _, known in self._shared]
        self.known_shared: dict[str, KnownValue] = {}
        self._state: ContactState | None = None

    def advance(self, step: Step) -> None:
        """Apply one step: an event adds its (decayed) weight, an answer sets a value, and
        the company's values given by then become known."""
        if step.kind is not None:
            if self.decay is not None and self.last is not None:
                days = (step.at - self.last).total_seconds() / _SECONDS_PER_DAY
                self.total *= 0.5 ** (days / self.decay)
            self.total += self.weights.get(step.kind, 0)
            self.last = step.at
            if step.stage in STAGES and stage_rank(step.stage) > stage_rank(self.reached):
                self.reached = step.stage
        elif step.field is not None:
            if step.value is None:
                self.values.pop(step.field, None)
            else:
                self.values[step.field] = KnownValue(step.value, step.at)
        known = bisect_right(self._shared_times, step.at)
        if known != len(self.known_shared):
            self.known_shared = dict(self._shared[:known])
        self.score = round(self.total, 4)
        self._state = None

    def state(self) -> ContactState:
        if self._state is None:
            self._state = ContactState(self.values, self.known_shared, self.score, self.reached)
        return self._state
