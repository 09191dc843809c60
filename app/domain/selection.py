"""Which questions a form asks a contact now, and why every other field is left out (DESIGN §3)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from app.domain.specs import (
    ContactState,
    Dependency,
    FieldRule,
    FormRules,
    KnownValue,
    is_blank,
    stage_rank,
)


class Reason(StrEnum):
    """Why a field is not asked; the first failing rule, in the order they are checked."""

    NOT_IN_POOL = "not_in_pool"
    KNOWN = "known"
    KNOWN_FOR_ACCOUNT = "known_for_account"
    TIER_LOCKED = "tier_locked"
    STAGE_LOCKED = "stage_locked"
    DEPENDENCY = "dependency"
    SKIPPED = "skipped"
    OVER_LIMIT = "over_limit"
    # The form's consent line (FormRules.consent_line): given, or nothing else to show it with.
    CONSENT_GIVEN = "consent_given"
    CONSENT_ALONE = "consent_alone"


@dataclass(frozen=True)
class LeftOut:
    reason: Reason
    detail: str  # one sentence for the admin "explain" view


@dataclass(frozen=True)
class Selection:
    """The questions to ask, in order; ``left_out`` names every other field of the form."""

    questions: tuple[FieldRule, ...]
    left_out: Mapping[str, LeftOut]
    complete: bool
    # Questions granted conditioned (key -> its ask_if): each follows its parent in
    # ``questions`` and is shown only while the answer given to the parent in the same form
    # meets the condition (see :func:`shown_keys`).
    conditions: Mapping[str, Dependency] = dataclass_field(default_factory=dict)


def select_questions(form: FormRules, contact: ContactState, now: datetime) -> Selection:
    """Apply the five rules of DESIGN §3 to every field of ``form``.

    A field is asked only if it is in the pool, unknown, its tier unlocked, its dependency
    holds and it is not resting after a skip. Asked fields are ordered identity first, then
    ``always_ask`` order, then (tier rank, priority, key); at most ``form.max_questions`` are
    returned and the rest get OVER_LIMIT. The form's consent line comes last, outside that
    count, until the contact gives it (see :func:`_consent_line`). ``left_out`` holds, in
    ``form.fields`` order, the first failing rule of every field not asked.
    """
    reasons: dict[str, LeftOut] = {}
    eligible: list[FieldRule] = []
    waiting: list[FieldRule] = []  # held back by their dependency alone
    line: FieldRule | None = None
    for rule in form.fields:
        if rule.key == form.consent_line:
            line = rule
            continue
        left_out = _first_failing_rule(form, rule, contact, now)
        if left_out is None:
            eligible.append(rule)
            continue
        reasons[rule.key] = left_out
        if left_out.reason is Reason.DEPENDENCY and _skip_rule(form, rule, contact, now) is None:
            waiting.append(rule)
    eligible.sort(key=_asking_order(form))
    asked = tuple(eligible[: max(form.max_questions, 0)])
    for rule in eligible[len(asked) :]:
        reasons[rule.key] = LeftOut(
            Reason.OVER_LIMIT, f"form {form.key} asks at most {form.max_questions} at a time"
        )
    asked, conditions = _conditioned(form, asked, sorted(waiting, key=_asking_order(form)))
    for key in conditions:
        del reasons[key]
    if line is not None:
        left_line = _consent_line(line, contact, asked)
        if left_line is None:
            asked = (*asked, line)
        else:
            reasons[line.key] = left_line
    left_out = {f.key: reasons[f.key] for f in form.fields if f.key in reasons}
    return Selection(questions=asked, left_out=left_out, complete=not asked, conditions=conditions)


def _conditioned(
    form: FormRules, asked: tuple[FieldRule, ...], waiting: list[FieldRule]
) -> tuple[tuple[FieldRule, ...], dict[str, Dependency]]:
    """``asked`` with the ``waiting`` questions whose parent it asks, each placed after its
    parent (and the parent's earlier dependents): the visitor's answer in this very form may
    meet the condition. The parent is asked, so it is unknown to this browser: which questions
    come conditioned reveals no stored value. One goes in only where it can be shown: fewer
    than ``max_questions`` unconditioned questions before it (once shown it takes a place,
    and the last question beyond the limit steps back, see :func:`shown_keys`)."""
    order, conditions = list(asked), {}
    placed = True
    while placed:
        placed = False
        for rule in waiting:
            assert rule.ask_if is not None
            keys = [q.key for q in order]
            if rule.key in conditions or rule.ask_if.field not in keys:
                continue
            at = keys.index(rule.ask_if.field) + 1
            while at < len(order) and order[at].key in conditions:
                at += 1
            if sum(q.key not in conditions for q in order[:at]) >= form.max_questions:
                continue
            order.insert(at, rule)
            conditions[rule.key] = rule.ask_if
            placed = True
    return tuple(order), conditions


def shown_keys(
    offered: Sequence[str],
    conditions: Mapping[str, Dependency],
    limit: int | None,
    uncounted: Collection[str],
    answers: Mapping[str, Any],
) -> tuple[str, ...]:
    """Which of the ``offered`` questions (in order) a form shows, given its ``answers`` (the
    cleaned non-blank values, by key): a conditioned question while its parent is shown and
    the parent's answer meets the condition; then the first ``limit`` of them (the
    ``uncounted`` consent line besides). The widget applies the same rule as the visitor
    types; a submit is reviewed against it."""
    shown: list[str] = []
    room = limit if limit is not None else len(offered)
    for key in offered:
        condition = conditions.get(key)
        if condition is not None and (
            condition.field not in shown or not condition.holds_for(answers.get(condition.field))
        ):
            continue
        if key in uncounted:
            shown.append(key)
        elif room > 0:
            room -= 1
            shown.append(key)
    return tuple(shown)


def _consent_line(
    line: FieldRule, contact: ContactState, asked: tuple[FieldRule, ...]
) -> LeftOut | None:
    """The form's consent line rides with its questions until the contact gives it: a refused,
    withdrawn or never given consent is shown again (unlike a consent asked as a question,
    which an answer of false settles). Pool, tier, dependency and skips do not apply to it, and
    it never makes a form show on its own."""
    given = contact.values.get(line.key)
    if given is not None and given.value is True:
        return LeftOut(Reason.CONSENT_GIVEN, f"the contact gave it on {given.updated_at:%Y-%m-%d}")
    if not asked:
        return LeftOut(Reason.CONSENT_ALONE, "the form's consent line, shown only with questions")
    return None


def is_unknown(field: FieldRule, contact: ContactState, now: datetime) -> bool:
    """Rule 2 alone: neither the contact nor (for scope "account") its account holds a
    current non-blank value for ``field``."""
    return _known_reason(field, contact, now) is None


_Rule = Callable[[FormRules, FieldRule, ContactState, datetime], "LeftOut | None"]


def _first_failing_rule(
    form: FormRules, field: FieldRule, contact: ContactState, now: datetime
) -> LeftOut | None:
    rules: tuple[_Rule, ...] = (
        _pool_rule,
        _unknown_rule,
        _tier_rule,
        _dependency_rule,
        _skip_rule,
    )
    for rule in rules:
        left_out = rule(form, field, contact, now)
        if left_out is not None:
            return left_out
    return None


def _pool_rule(
    form: FormRules, field: FieldRule, contact: ContactState, now: datetime
) -> LeftOut | None:
    if _in_pool(form, field):
        return None
    return LeftOut(Reason.NOT_IN_POOL, f"not in the pool of form {form.key}")


def _in_pool(form: FormRules, field: FieldRule) -> bool:
    return field.key in form.pool or field.key in form.always_ask


def _unknown_rule(
    form: FormRules, field: FieldRule, contact: ContactState, now: datetime
) -> LeftOut | None:
    if field.key in form.always_ask:
        return None
    reason = _known_reason(field, contact, now)
    if reason is Reason.KNOWN:
        answered = contact.values[field.key].updated_at
        return LeftOut(reason, f"the contact answered it on {answered:%Y-%m-%d}")
    if reason is Reason.KNOWN_FOR_ACCOUNT:
        answered = contact.account_values[field.key].updated_at
        return LeftOut(reason, f"someone of the same account answered it on {answered:%Y-%m-%d}")
    return None


def _known_reason(field: FieldRule, contact: ContactState, now: datetime) -> Reason | None:
    if _is_current(field, contact.values.get(field.key), now):
        return Reason.KNOWN
    if field.scope == "account" and _is_current(field, contact.account_values.get(field.key), now):
        return Reason.KNOWN_FOR_ACCOUNT
    return None


def _is_current(field: FieldRule, known: KnownValue | None, now: datetime) -> bool:
    if known is None or is_blank(known.value):
        return False
    if field.refresh_after_days is None:
        return True
    return now - known.updated_at <= timedelta(days=field.refresh_after_days)


def _tier_rule(
    form: FormRules, field: FieldRule, contact: ContactState, now: datetime
) -> LeftOut | None:
    tier = form.tiers.get(field.tier)
    # A field whose tier is not configured has no unlock rule to satisfy: never ask it.
    if tier is None:
        return LeftOut(Reason.TIER_LOCKED, f"tier {field.tier} is not configured")
    if contact.score < tier.min_score:
        return LeftOut(
            Reason.TIER_LOCKED,
            f"score {_number(contact.score)} < {_number(tier.min_score)} needed for tier {tier.key}",
        )
    if tier.min_stage is not None and stage_rank(contact.reached_stage) < stage_rank(
        tier.min_stage
    ):
        return LeftOut(
            Reason.STAGE_LOCKED,
            f"tier {tier.key} needs a {tier.min_stage}-stage event;"
            f" latest stage reached: {contact.reached_stage or 'none'}",
        )
    return None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _dependency_rule(
    form: FormRules, field: FieldRule, contact: ContactState, now: datetime
) -> LeftOut | None:
    dependency = field.ask_if
    if dependency is None or dependency_holds(dependency, contact):
        return None
    return LeftOut(
        Reason.DEPENDENCY,
        f"asked only when {dependency.field} {dependency.op} {dependency.value!r}",
    )


def dependency_holds(dependency: Dependency, contact: ContactState) -> bool:
    """Whether the contact's current value (its own, else its account's) meets ``dependency``:
    ``known`` (true or false), ``equals``, or ``in`` (a list value meets it when an item does)."""
    return dependency.holds_for(current_value(dependency.field, contact))


def current_value(key: str, contact: ContactState) -> Any:
    """The contact's non-blank value for ``key``, else the account's, else None."""
    for values in (contact.values, contact.account_values):
        known = values.get(key)
        if known is not None and not is_blank(known.value):
            return known.value
    return None


def _skip_rule(
    form: FormRules, field: FieldRule, contact: ContactState, now: datetime
) -> LeftOut | None:
    skipped_at = contact.skips.get(field.key)
    if skipped_at is None:
        return None
    since = contact.events_since.get(field.key, 0)
    if since >= form.skip_cooldown:
        return None
    return LeftOut(
        Reason.SKIPPED,
        f"skipped on {skipped_at:%Y-%m-%d}; {since} of {form.skip_cooldown} events since",
    )


def asking_order(form: FormRules) -> tuple[FieldRule, ...]:
    """Every field ``form`` may ask, in the order :func:`select_questions` puts the ones it
    asks (the identity field first, then ``always_ask``, then tier rank, priority, key), and
    its consent line last: what the console lists as the form's asking order."""
    line = tuple(f for f in form.fields if f.key == form.consent_line)
    pooled = [f for f in form.fields if f.key != form.consent_line and _in_pool(form, f)]
    return (*sorted(pooled, key=_asking_order(form)), *line)


def _asking_order(form: FormRules) -> Callable[[FieldRule], tuple[Any, ...]]:
    always = {key: index for index, key in enumerate(form.always_ask)}

    def order(field: FieldRule) -> tuple[Any, ...]:
        return (
            not field.identity,
            always.get(field.key, len(always)),
            form.tiers[field.tier].rank,
            field.priority,
            field.key,
        )

    return order
