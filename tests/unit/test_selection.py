"""select_questions: the five rules, their order, and the reason given for every field left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.domain.engagement import summarize_engagement
from app.domain.selection import Reason, is_unknown, select_questions
from app.domain.specs import (
    ContactState,
    Dependency,
    EventRecord,
    FieldRule,
    FormRules,
    KnownValue,
    TierRule,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TIERS = {
    "basics": TierRule("basics", rank=1),
    "firmo": TierRule("firmo", rank=2, min_score=5),
    "qual": TierRule("qual", rank=3, min_score=10, min_stage="late"),
}


def f(key: str, tier: str = "basics", **options: Any) -> FieldRule:
    return FieldRule(key=key, tier=tier, **options)


def form(*fields: FieldRule, pool: set[str] | None = None, **options: Any) -> FormRules:
    """A form over ``fields``; the pool is every field unless given."""
    keys = {field.key for field in fields} if pool is None else pool
    return FormRules("blog", fields, TIERS, frozenset(keys), **options)


def val(value: Any, age: timedelta = timedelta(days=1)) -> KnownValue:
    return KnownValue(value, NOW - age)


def contact(**state: Any) -> ContactState:
    """A contact; ``values``/``account_values`` may map keys to plain values (1 day old)."""
    for name in ("values", "account_values"):
        state[name] = {
            key: value if isinstance(value, KnownValue) else val(value)
            for key, value in state.get(name, {}).items()
        }
    return ContactState(**state)


SKIPPED_AT = NOW - timedelta(days=2)
DM_TRUE = Dependency("decision_maker", "equals", True)
QUALIFIED = {"score": 20, "reached_stage": "late"}
ABC = (f("a"), f("b"), f("c"))

CASES = [
    # Rule 1: the pool.
    pytest.param(
        form(*ABC),
        contact(),
        ("a", "b", "c"),
        {},
        id="a new contact is asked the pool in key order",
    ),
    pytest.param(
        form(*ABC, pool={"a", "c"}),
        contact(),
        ("a", "c"),
        {"b": Reason.NOT_IN_POOL},
        id="a field outside the pool is not asked",
    ),
    pytest.param(
        form(*ABC, pool={"a"}, always_ask=("c",)),
        contact(),
        ("c", "a"),
        {"b": Reason.NOT_IN_POOL},
        id="an always_ask field counts as in the pool",
    ),
    # Rule 2: unknown.
    pytest.param(
        form(*ABC),
        contact(values={"b": "Ada"}),
        ("a", "c"),
        {"b": Reason.KNOWN},
        id="a known field is not asked",
    ),
    pytest.param(
        form(*ABC),
        contact(values={"a": "", "b": "   ", "c": []}),
        ("a", "b", "c"),
        {},
        id="empty, whitespace and empty-list values are no answer",
    ),
    pytest.param(
        form(*ABC),
        contact(values={"a": None}),
        ("a", "b", "c"),
        {},
        id="a None value is no answer",
    ),
    pytest.param(
        form(*ABC),
        contact(values={"a": 0, "b": False, "c": "no"}),
        (),
        {"a": Reason.KNOWN, "b": Reason.KNOWN, "c": Reason.KNOWN},
        id="0, False and 'no' are answers",
    ),
    pytest.param(
        form(f("title", refresh_after_days=30)),
        contact(values={"title": val("CTO", timedelta(days=30))}),
        (),
        {"title": Reason.KNOWN},
        id="a value exactly refresh_after_days old is still known",
    ),
    pytest.param(
        form(f("title", refresh_after_days=30)),
        contact(values={"title": val("CTO", timedelta(days=30, seconds=1))}),
        ("title",),
        {},
        id="a value one second past refresh_after_days is asked again",
    ),
    pytest.param(
        form(f("title")),
        contact(values={"title": val("CTO", timedelta(days=3650))}),
        (),
        {"title": Reason.KNOWN},
        id="without refresh_after_days a value never expires",
    ),
    pytest.param(
        form(f("size", scope="account")),
        contact(account_values={"size": "11-50"}),
        (),
        {"size": Reason.KNOWN_FOR_ACCOUNT},
        id="an account field answered by a colleague is not asked",
    ),
    pytest.param(
        form(f("size", scope="account")),
        contact(values={"size": "11-50"}, account_values={"size": "51-200"}),
        (),
        {"size": Reason.KNOWN},
        id="an account field the contact answered is known by the contact",
    ),
    pytest.param(
        form(f("size", scope="account")),
        contact(),
        ("size",),
        {},
        id="a free-mail contact without account values is asked an account field",
    ),
    pytest.param(
        form(f("size", scope="account", refresh_after_days=10)),
        contact(account_values={"size": val("11-50", timedelta(days=11))}),
        ("size",),
        {},
        id="an expired account value is asked again",
    ),
    pytest.param(
        form(f("size", scope="account")),
        contact(account_values={"size": "  "}),
        ("size",),
        {},
        id="a blank account value is no answer",
    ),
    pytest.param(
        form(f("phone")),
        contact(account_values={"phone": "+49 30 123456"}),
        ("phone",),
        {},
        id="account values do not make a contact-scope field known",
    ),
    # Rule 3: tiers.
    pytest.param(
        form(f("a"), f("industry", "firmo")),
        contact(score=4.99),
        ("a",),
        {"industry": Reason.TIER_LOCKED},
        id="a score just below min_score keeps the tier locked",
    ),
    pytest.param(
        form(f("a"), f("industry", "firmo")),
        contact(score=5),
        ("a", "industry"),
        {},
        id="a score equal to min_score unlocks the tier",
    ),
    pytest.param(
        form(f("budget", "qual")),
        contact(score=50, reached_stage="early"),
        (),
        {"budget": Reason.STAGE_LOCKED},
        id="enough score but only early events keeps a late tier locked",
    ),
    pytest.param(
        form(f("budget", "qual")),
        contact(score=50, reached_stage="mid"),
        (),
        {"budget": Reason.STAGE_LOCKED},
        id="a mid-stage event does not unlock a late tier",
    ),
    pytest.param(
        form(f("budget", "qual")),
        contact(score=50),
        (),
        {"budget": Reason.STAGE_LOCKED},
        id="no event at all keeps a staged tier locked",
    ),
    pytest.param(
        form(f("budget", "qual")),
        contact(score=10, reached_stage="late"),
        ("budget",),
        {},
        id="a late event with enough score unlocks the late tier",
    ),
    pytest.param(
        form(f("budget", "qual")),
        contact(score=9, reached_stage="early"),
        (),
        {"budget": Reason.TIER_LOCKED},
        id="a score too low is reported before a missing stage",
    ),
    pytest.param(
        form(f("a", "nonexistent")),
        contact(score=100, reached_stage="late"),
        (),
        {"a": Reason.TIER_LOCKED},
        id="a field of an unconfigured tier is never asked",
    ),
    # Rule 4: dependencies.
    pytest.param(
        form(f("decision_maker", "qual"), f("budget", "qual", ask_if=DM_TRUE)),
        contact(**QUALIFIED),
        ("decision_maker", "budget"),
        {},
        id="budget comes conditioned with decision_maker, unanswered yet",
    ),
    pytest.param(
        form(f("decision_maker", "qual"), f("budget", "qual", ask_if=DM_TRUE)),
        contact(values={"decision_maker": True}, **QUALIFIED),
        ("budget",),
        {"decision_maker": Reason.KNOWN},
        id="budget is asked once decision_maker is true",
    ),
    pytest.param(
        form(f("budget", "qual", ask_if=DM_TRUE)),
        contact(values={"decision_maker": False}, **QUALIFIED),
        (),
        {"budget": Reason.DEPENDENCY},
        id="budget is not asked when decision_maker is false",
    ),
    pytest.param(
        form(f("budget", "qual", ask_if=DM_TRUE)),
        contact(values={"decision_maker": 1}, **QUALIFIED),
        (),
        {"budget": Reason.DEPENDENCY},
        id="equals true is not satisfied by the number 1",
    ),
    pytest.param(
        form(f("seats", ask_if=Dependency("plan_count", "equals", 1))),
        contact(values={"plan_count": True}),
        (),
        {"seats": Reason.DEPENDENCY},
        id="equals 1 is not satisfied by true",
    ),
    pytest.param(
        form(f("seats", ask_if=Dependency("plan_count", "equals", 1))),
        contact(values={"plan_count": 1}),
        ("seats",),
        {},
        id="equals 1 is satisfied by 1",
    ),
    pytest.param(
        form(f("budget", "qual", ask_if=DM_TRUE)),
        contact(
            values={"decision_maker": ""}, account_values={"decision_maker": True}, **QUALIFIED
        ),
        ("budget",),
        {},
        id="a blank own value falls back to the account's value for a dependency",
    ),
    pytest.param(
        form(f("tool", ask_if=Dependency("size", "in", ("11-50", "51-200")))),
        contact(values={"size": "51-200"}),
        ("tool",),
        {},
        id="in holds for a listed value",
    ),
    pytest.param(
        form(f("tool", ask_if=Dependency("size", "in", ("11-50", "51-200")))),
        contact(values={"size": "1-10"}),
        (),
        {"tool": Reason.DEPENDENCY},
        id="in fails for an unlisted value",
    ),
    pytest.param(
        form(f("tool", ask_if=Dependency("size", "in", ("11-50",)))),
        contact(),
        (),
        {"tool": Reason.DEPENDENCY},
        id="in fails while the other field is unknown",
    ),
    pytest.param(
        form(f("crm", ask_if=Dependency("tools", "in", ("crm", "erp")))),
        contact(values={"tools": ["email", "erp"]}),
        ("crm",),
        {},
        id="in holds when a multiselect answer overlaps",
    ),
    pytest.param(
        form(f("crm", ask_if=Dependency("tools", "in", ("crm", "erp")))),
        contact(values={"tools": ["email", "chat"]}),
        (),
        {"crm": Reason.DEPENDENCY},
        id="in fails when a multiselect answer does not overlap",
    ),
    pytest.param(
        form(f("why", ask_if=Dependency("email", "known", True))),
        contact(values={"email": "ada@example.com"}),
        ("why",),
        {},
        id="known true holds once the other field has a value",
    ),
    pytest.param(
        form(f("why", ask_if=Dependency("email", "known", True))),
        contact(values={"email": " "}),
        (),
        {"why": Reason.DEPENDENCY},
        id="known true fails for a blank value",
    ),
    pytest.param(
        form(f("why", ask_if=Dependency("email", "known", False))),
        contact(),
        ("why",),
        {},
        id="known false holds while the other field is unknown",
    ),
    pytest.param(
        form(f("why", ask_if=Dependency("email", "known", False))),
        contact(values={"email": "ada@example.com"}),
        (),
        {"why": Reason.DEPENDENCY},
        id="known false fails once the other field has a value",
    ),
    # Rule 5: skip cooldown.
    pytest.param(
        form(f("a"), f("b"), skip_cooldown=3),
        contact(skips={"a": SKIPPED_AT}, events_since={"a": 2}),
        ("b",),
        {"a": Reason.SKIPPED},
        id="a skipped field rests while fewer than skip_cooldown events follow",
    ),
    pytest.param(
        form(f("a"), f("b"), skip_cooldown=3),
        contact(skips={"a": SKIPPED_AT}, events_since={"a": 3}),
        ("a", "b"),
        {},
        id="a skipped field returns after skip_cooldown events",
    ),
    pytest.param(
        form(f("a"), f("b"), skip_cooldown=3),
        contact(skips={"a": SKIPPED_AT}, events_since={"b": 5}),
        ("b",),
        {"a": Reason.SKIPPED},
        id="only the events since this field's own skip count toward its cooldown",
    ),
    # Ordering.
    pytest.param(
        form(f("first_name", priority=10), f("email", identity=True, priority=999)),
        contact(),
        ("email", "first_name"),
        {},
        id="the identity field comes first even with a worse priority",
    ),
    pytest.param(
        form(f("first_name", priority=10), f("email", identity=True)),
        contact(values={"email": "ada@example.com"}),
        ("first_name",),
        {"email": Reason.KNOWN},
        id="a known identity field is not asked",
    ),
    pytest.param(
        form(f("a", priority=1), f("b"), f("c"), f("d"), always_ask=("d", "b"), max_questions=4),
        contact(),
        ("d", "b", "a", "c"),
        {},
        id="always_ask fields follow the identity field in always_ask order",
    ),
    pytest.param(
        form(f("a"), f("consent"), always_ask=("consent",)),
        contact(values={"a": "x", "consent": True}),
        ("consent",),
        {"a": Reason.KNOWN},
        id="an always_ask field is asked while known",
    ),
    pytest.param(
        form(f("a"), f("nda", "qual"), always_ask=("nda",)),
        contact(),
        ("a",),
        {"nda": Reason.TIER_LOCKED},
        id="an always_ask field still needs its tier unlocked",
    ),
    pytest.param(
        form(f("b", priority=5), f("a", priority=5), f("c", priority=1)),
        contact(),
        ("c", "a", "b"),
        {},
        id="priority first, then key",
    ),
    pytest.param(
        form(f("industry", "firmo", priority=1), f("nickname", priority=50)),
        contact(score=5),
        ("nickname", "industry"),
        {},
        id="tier rank orders before priority",
    ),
    # The limit.
    pytest.param(
        form(f("a"), f("b"), f("c"), f("d"), f("e")),
        contact(),
        ("a", "b", "c"),
        {"d": Reason.OVER_LIMIT, "e": Reason.OVER_LIMIT},
        id="at most max_questions are asked and the rest are over the limit",
    ),
    pytest.param(
        form(f("a"), f("b"), f("email", identity=True), max_questions=1),
        contact(),
        ("email",),
        {"a": Reason.OVER_LIMIT, "b": Reason.OVER_LIMIT},
        id="a limit of one asks only the identity field",
    ),
    # The form's consent line.
    pytest.param(
        form(f("a"), f("b"), f("ok", "qual", kind="consent"), max_questions=1, consent_line="ok"),
        contact(skips={"ok": SKIPPED_AT}),
        ("a", "ok"),
        {"b": Reason.OVER_LIMIT},
        id="the consent line comes last, beyond the limit, whatever its tier or a skip",
    ),
    pytest.param(
        form(f("a"), f("ok", kind="consent"), consent_line="ok"),
        contact(values={"ok": True}),
        ("a",),
        {"ok": Reason.CONSENT_GIVEN},
        id="a consent line given is not shown again",
    ),
    pytest.param(
        form(f("a"), f("ok", kind="consent"), consent_line="ok"),
        contact(values={"ok": False}),
        ("a", "ok"),
        {},
        id="a consent line refused or withdrawn is shown again",
    ),
    pytest.param(
        form(f("a"), f("ok", kind="consent"), consent_line="ok"),
        contact(values={"a": "x"}),
        (),
        {"a": Reason.KNOWN, "ok": Reason.CONSENT_ALONE},
        id="a consent line alone does not show the form",
    ),
    # The first failing rule is the one reported.
    pytest.param(
        form(f("a"), f("b"), pool={"b"}),
        contact(values={"a": "x", "b": "y"}),
        (),
        {"a": Reason.NOT_IN_POOL, "b": Reason.KNOWN},
        id="outside the pool is reported before known",
    ),
    pytest.param(
        form(f("industry", "firmo")),
        contact(values={"industry": "retail"}),
        (),
        {"industry": Reason.KNOWN},
        id="known is reported before a locked tier",
    ),
    pytest.param(
        form(f("budget", "qual", ask_if=DM_TRUE)),
        contact(),
        (),
        {"budget": Reason.TIER_LOCKED},
        id="a locked tier is reported before a dependency",
    ),
    pytest.param(
        form(f("budget", ask_if=DM_TRUE)),
        contact(skips={"budget": SKIPPED_AT}),
        (),
        {"budget": Reason.DEPENDENCY},
        id="a dependency is reported before a skip",
    ),
]


@pytest.mark.parametrize(("rules", "state", "asked", "left_out"), CASES)
def test_select_questions(
    rules: FormRules, state: ContactState, asked: tuple[str, ...], left_out: dict[str, Reason]
) -> None:
    selection = select_questions(rules, state, NOW)

    assert tuple(field.key for field in selection.questions) == asked
    assert {key: out.reason for key, out in selection.left_out.items()} == left_out
    assert selection.complete is (asked == ())


@pytest.mark.parametrize(("rules", "state", "asked", "left_out"), CASES)
def test_every_field_is_either_asked_or_explained(
    rules: FormRules, state: ContactState, asked: tuple[str, ...], left_out: dict[str, Reason]
) -> None:
    selection = select_questions(rules, state, NOW)

    assert list(selection.left_out) == [f.key for f in rules.fields if f.key not in asked]
    assert all(out.detail for out in selection.left_out.values())


def six_early_articles(weight: float) -> ContactState:
    events = [
        EventRecord("page_view", "early", NOW - timedelta(hours=i), f"article-{i}")
        for i in range(6)
    ]
    summary = summarize_engagement(events, {"page_view": weight}, NOW)
    return ContactState(score=summary.score, reached_stage=summary.reached_stage)


@pytest.mark.parametrize("weight", [pytest.param(2, id="score 12"), pytest.param(5, id="score 30")])
def test_six_early_articles_never_unlock_intrusive_questions(weight: float) -> None:
    intrusive = ("budget", "decision_maker", "timeline")
    rules = form(f("first_name"), *(f(key, "qual") for key in intrusive))

    selection = select_questions(rules, six_early_articles(weight), NOW)

    assert [field.key for field in selection.questions] == ["first_name"]
    assert {key: out.reason for key, out in selection.left_out.items()} == dict.fromkeys(
        intrusive, Reason.STAGE_LOCKED
    )


def test_a_late_event_unlocks_intrusive_questions() -> None:
    state = six_early_articles(2)
    late = ContactState(score=state.score, reached_stage="late")

    selection = select_questions(form(f("budget", "qual")), late, NOW)

    assert [field.key for field in selection.questions] == ["budget"]


@pytest.mark.parametrize(
    ("state", "detail"),
    [
        pytest.param(contact(score=4), "score 4 < 5 needed for tier firmo", id="whole score"),
        pytest.param(contact(score=4.5), "score 4.5 < 5 needed for tier firmo", id="fractional"),
    ],
)
def test_a_locked_tier_explains_the_missing_score(state: ContactState, detail: str) -> None:
    selection = select_questions(form(f("industry", "firmo")), state, NOW)

    assert selection.left_out["industry"].detail == detail


@pytest.mark.parametrize(
    ("field", "state", "unknown"),
    [
        pytest.param(f("a"), contact(), True, id="no value"),
        pytest.param(f("a"), contact(values={"a": "x"}), False, id="own value"),
        pytest.param(
            f("a", scope="account"), contact(account_values={"a": "x"}), False, id="account value"
        ),
        pytest.param(f("a"), contact(account_values={"a": "x"}), True, id="contact scope"),
    ],
)
def test_is_unknown(field: FieldRule, state: ContactState, unknown: bool) -> None:
    assert is_unknown(field, state, NOW) is unknown
