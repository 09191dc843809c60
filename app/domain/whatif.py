"""What-if: when would a contact have been handed to sales under a given definition, replaying
what it did (its counted events, its answers) in time order (issue 21, docs/sales.md).

Pure: one contact's history in, the first moment its furthest holding stage reached the
hand-off stage out. The service streams contacts through it in batches, so nothing here
holds more than one contact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.qualification import StageRule, rule_holds
from app.domain.specs import STAGES, ContactState, KnownValue, stage_rank

_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Step:
    """One change to a contact's state: a counted event (``kind``, ``stage``) or an answer
    (``field`` set to ``value``; None clears it)."""

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


def first_handoff(
    definition: Definition,
    steps: Iterable[Step],
    weights: Mapping[str, float],
    half_life_days: float | None,
    account_values: Mapping[str, KnownValue] | None = None,
) -> datetime | None:
    """The first moment, over ``steps`` (sorted by time), at which a stage at or past the
    hand-off stage holds; None if it never does. A score only rises at an event, and a value
    only changes at an answer, so checking after each step finds the first moment exactly.
    ``account_values``: the company's values, each known from its ``updated_at``."""
    if definition.handoff is None:
        return None
    from_handoff = definition.stages[definition.handoff :]
    decay = half_life_days if half_life_days and half_life_days > 0 else None
    total, last, reached = 0.0, None, None
    values: dict[str, KnownValue] = {}
    shared = {k: v for k, v in (account_values or {}).items()}
    for step in steps:
        if step.kind is not None:
            if decay is not None and last is not None:
                total *= 0.5 ** ((step.at - last).total_seconds() / _SECONDS_PER_DAY / decay)
            total += weights.get(step.kind, 0)
            last = step.at
            if step.stage in STAGES and (
                reached is None or stage_rank(step.stage) > stage_rank(reached)
            ):
                reached = step.stage
        elif step.field is not None:
            if step.value is None:
                values.pop(step.field, None)
            else:
                values[step.field] = KnownValue(step.value, step.at)
        known_shared = {k: v for k, v in shared.items() if v.updated_at <= step.at}
        state = ContactState(values, known_shared, round(total, 4), reached)
        if any(rule_holds(rule, state) for rule in from_handoff):
            return step.at
    return None
