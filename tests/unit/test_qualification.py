"""Lifecycle stage rules: each condition, the forward-only move, and what a move records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.domain.qualification import (
    StageMove,
    StageRule,
    engagement_holds,
    fields_hold,
    next_stage,
    rule_holds,
)
from app.domain.specs import ContactState, KnownValue

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def known(**values):
    return {key: KnownValue(value, AT) for key, value in values.items()}


def state(score=0.0, reached=None, account=None, **values):
    return ContactState(
        values=known(**values),
        account_values=known(**(account or {})),
        score=score,
        reached_stage=reached,
    )


STAGES = (
    StageRule.from_config("subscriber", {"fields_known": ["email"]}),
    StageRule.from_config("lead", {"fields_known": ["email", "first_name"]}),
    StageRule.from_config(
        "mql", {"min_score": 15, "fields_known": ["company", "job_title", "company_size"]}
    ),
    StageRule.from_config(
        "sql", {"field_equals": {"wants_call": True}, "min_stage": "late", "min_score": 15}
    ),
)


@pytest.mark.parametrize(
    ("rule", "contact", "holds"),
    [
        (StageRule("any"), state(), True),
        (StageRule("s", min_score=15), state(score=15), True),
        (StageRule("s", min_score=15), state(score=14.9999), False),
        (StageRule("s", fields_known=("email",)), state(email="a@b.example"), True),
        (StageRule("s", fields_known=("email",)), state(email="   "), False),
        (StageRule("s", fields_known=("size",)), state(account={"size": "11-50"}), True),
        (StageRule("s", field_equals={"wants_call": True}), state(wants_call=True), True),
        (StageRule("s", field_equals={"wants_call": True}), state(wants_call=False), False),
        (StageRule("s", field_equals={"wants_call": True}), state(wants_call=1), False),
        (StageRule("s", field_equals={"wants_call": True}), state(), False),
        (StageRule("s", field_equals={"size": "11-50"}), state(size="11-50"), True),
        (StageRule("s", field_equals={"team": 5}), state(team=5.0), True),
        (StageRule("s", field_equals={"tags": "crm"}), state(tags=["seo", "crm"]), True),
        (StageRule("s", field_equals={"tags": "ads"}), state(tags=["seo", "crm"]), False),
        (StageRule("s", min_stage="mid"), state(reached="late"), True),
        (StageRule("s", min_stage="mid"), state(reached="early"), False),
        (StageRule("s", min_stage="early"), state(), False),
    ],
)
def test_each_condition(rule, contact, holds):
    assert rule_holds(rule, contact) is holds


def test_a_rule_holds_when_both_its_halves_do():
    sql = STAGES[3]  # wants_call True, min_stage late, min_score 15
    assert engagement_holds(sql, 15, "late") is True
    assert engagement_holds(sql, 14.9999, "late") is False
    assert engagement_holds(sql, 15, "mid") is False
    assert engagement_holds(sql, 15, None) is False
    assert engagement_holds(STAGES[0], 0, None) is True  # no engagement condition
    assert fields_hold(sql, state(wants_call=True)) is True  # score and stage not asked here
    assert fields_hold(sql, state(score=20, reached="late", wants_call=False)) is False
    assert fields_hold(STAGES[2], state(company="Acme", job_title="CTO")) is False
    assert fields_hold(
        STAGES[2], state(company="Acme", job_title="CTO", account={"company_size": "1-10"})
    )


def test_a_contact_moves_to_the_last_stage_whose_rule_holds():
    contact = state(
        score=20,
        email="a@b.example",
        first_name="Ada",
        company="Acme",
        job_title="CTO",
        account={"company_size": "11-50"},
    )
    move = next_stage(STAGES, None, contact)
    assert move == StageMove(None, "mql", STAGES[2])
    assert move.rule.as_config() == {
        "stage": "mql",
        "when": {"min_score": 15, "fields_known": ["company", "job_title", "company_size"]},
    }
    assert next_stage(STAGES, "lead", contact) == StageMove("lead", "mql", STAGES[2])


def test_stages_never_move_back_or_stay_as_a_move():
    lead_only = state(email="a@b.example", first_name="Ada")
    assert next_stage(STAGES, "lead", lead_only) is None
    assert next_stage(STAGES, "mql", lead_only) is None  # mql's rule no longer holds: stays
    assert next_stage(STAGES, "sql", state()) is None


def test_a_stage_the_config_no_longer_lists_ranks_first():
    assert next_stage(STAGES, "retired", state(email="a@b.example")) == StageMove(
        "retired", "subscriber", STAGES[0]
    )


def test_no_stage_holds_no_move():
    assert next_stage(STAGES, None, state()) is None
    assert next_stage((), None, state(score=100)) is None
