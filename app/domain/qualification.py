"""Lifecycle stages: which stage a contact has reached, by the site's ordered rules (DESIGN §3).

A stage's rule holds when every condition it sets holds (an empty rule always holds):

- ``min_score``: the engagement score is at least this;
- ``fields_known``: each field is known (the contact's own value, or its company's);
- ``field_equals``: each field is known and equals the given value (a list value matches when
  it holds the given value);
- ``min_stage``: some counted event reached this funnel stage (early, mid, late) or a later one.

A contact moves forward to the last stage whose rule holds, and never back: a rule that would
put it on an earlier stage (or the one it is on) does nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.domain.selection import dependency_holds
from app.domain.specs import ContactState, Dependency, stage_rank


@dataclass(frozen=True)
class StageRule:
    key: str
    min_score: float | None = None
    fields_known: tuple[str, ...] = ()
    field_equals: Mapping[str, Any] = field(default_factory=dict)
    min_stage: str | None = None

    @classmethod
    def from_config(cls, key: str, when: Mapping[str, Any]) -> StageRule:
        """A stage of a site config: ``{key, when: {min_score, fields_known, ...}}``."""
        return cls(
            key=key,
            min_score=when.get("min_score"),
            fields_known=tuple(when.get("fields_known") or ()),
            field_equals=dict(when.get("field_equals") or {}),
            min_stage=when.get("min_stage"),
        )

    def as_config(self) -> dict[str, Any]:
        """The rule as the config states it (what a stage move records as the rule that fired)."""
        when: dict[str, Any] = {}
        if self.min_score is not None:
            when["min_score"] = self.min_score
        if self.fields_known:
            when["fields_known"] = list(self.fields_known)
        if self.field_equals:
            when["field_equals"] = dict(self.field_equals)
        if self.min_stage is not None:
            when["min_stage"] = self.min_stage
        return {"stage": self.key, "when": when}


@dataclass(frozen=True)
class StageMove:
    from_stage: str | None
    to_stage: str
    rule: StageRule


def rule_holds(rule: StageRule, state: ContactState) -> bool:
    """Whether every condition of ``rule`` holds for ``state``."""
    return engagement_holds(rule, state.score, state.reached_stage) and fields_hold(rule, state)


def engagement_holds(rule: StageRule, score: float, reached: str | None) -> bool:
    """Whether the engagement conditions of ``rule`` (``min_score``, ``min_stage``) hold: the
    cheap half of ``rule_holds``, which needs no contact state (a replay checks it first)."""
    if rule.min_score is not None and score < rule.min_score:
        return False
    return rule.min_stage is None or (
        reached is not None and stage_rank(reached) >= stage_rank(rule.min_stage)
    )


def fields_hold(rule: StageRule, state: ContactState) -> bool:
    """Whether the value conditions of ``rule`` (``fields_known``, ``field_equals``) hold."""
    conditions = [Dependency(key, "known", True) for key in rule.fields_known]
    conditions += [Dependency(key, "in", wanted) for key, wanted in rule.field_equals.items()]
    return all(dependency_holds(condition, state) for condition in conditions)


def next_stage(
    stages: Sequence[StageRule], current: str | None, state: ContactState
) -> StageMove | None:
    """The move ``state`` earns from ``current``: to the last of ``stages`` whose rule holds,
    when that stage comes after ``current``; None when it earns no move. A current stage the
    config no longer lists ranks before every stage."""
    order = {rule.key: position for position, rule in enumerate(stages)}
    reached = next((rule for rule in reversed(stages) if rule_holds(rule, state)), None)
    if reached is None or order[reached.key] <= order.get(current or "", -1):
        return None
    return StageMove(current, reached.key, reached)


def engagement_may_move(
    stages: Sequence[StageRule], current: str | None, score: float, reached: str | None
) -> bool:
    """Whether a contact with this engagement may earn a move by it: some stage after
    ``current`` asks for a score or a funnel stage, and this engagement meets what it asks.
    False spares an event the stage rules (an event changes nothing else they judge)."""
    order = {rule.key: position for position, rule in enumerate(stages)}
    after = order.get(current or "", -1)
    return any(
        order[rule.key] > after
        and (rule.min_score is not None or rule.min_stage is not None)
        and (rule.min_score is None or score >= rule.min_score)
        and (rule.min_stage is None or stage_rank(reached) >= stage_rank(rule.min_stage))
        for rule in stages
    )
