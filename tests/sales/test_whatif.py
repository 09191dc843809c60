"""What-if: a proposed definition replayed over the recorded history next to the current one,
by week, with what became of each group and who would enter or leave the queue."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

from app.domain.qualification import StageRule
from app.domain.specs import KnownValue
from app.domain.whatif import Definition, Replay, Step
from app.services.sales import simulate_definition
from tests.sales.support import engage, sales_site, stricter

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def report(client, token, clock, email, kind, key, **extra):
    body = {
        "kind": kind,
        "occurred_at": clock().isoformat(),
        "by": "rep@acme.example",
        "idempotency_key": key,
        **extra,
    }
    url = f"/api/v1/sites/acme/contacts/by-email/{email}/outcomes"
    response = client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()


def test_a_stricter_rule_replayed_by_week_with_fates_and_who_leaves(app, clock):
    token = sales_site(clock())  # mql at 10
    client = app.test_client()
    engage(client, "bo@b.example", 2)  # 12 on 2 March (week of 2 March): mql now, not at 15
    clock.advance(days=7)
    cy = engage(client, "cy@c.example", 2)  # 12 on 9 March: mql now
    clock.advance(hours=1)
    cy.event("webinar")  # 17: would reach mql at 15 here
    engage(client, "di@d.example", 1)  # 7: never mql
    clock.advance(hours=1)
    report(client, token, clock, "bo@b.example", "rejected", "r1", reason="no_budget")
    report(client, token, clock, "cy@c.example", "accepted", "a1")
    report(client, token, clock, "cy@c.example", "won", "w1")
    clock.advance(days=1)

    result = simulate_definition("acme", stricter(15), 30, clock())

    assert (result.start, result.end) == (clock() - timedelta(days=30), clock())
    assert result.replayed == 3
    assert {week: counts for week, counts in result.weeks.items() if counts != (0, 0)} == {
        date(2026, 3, 2): (1, 0),
        date(2026, 3, 9): (1, 1),
    }
    assert next(iter(result.weeks)) == date(2026, 2, 2)  # every week labelled, empty ones too
    old, new = result.old, result.new
    assert (old.handed_off, old.accepted, old.won, dict(old.rejected)) == (
        2,
        1,
        1,
        {"no_budget": 1},
    )
    assert (new.handed_off, new.accepted, new.won, dict(new.rejected)) == (1, 1, 1, {})
    assert (result.entering, result.leaving) == (0, 1)
    assert result.leaving_sample == [(1, "bo@b.example")]
    assert result.entering_sample == []


def test_a_looser_rule_brings_contacts_in(app, clock):
    sales_site(clock())
    client = app.test_client()
    engage(client, "di@d.example", 1)  # 7
    clock.advance(hours=1)
    result = simulate_definition("acme", stricter(5), 7, clock())
    assert (result.old.handed_off, result.new.handed_off) == (0, 1)
    assert (result.entering, result.entering_sample) == (1, [(1, "di@d.example")])


def test_a_window_without_activity_is_empty_not_an_error(app, clock):
    sales_site(clock())
    client = app.test_client()
    engage(client, "bo@b.example", 2)
    clock.advance(days=40)  # the activity is before the window
    result = simulate_definition("acme", stricter(15), 14, clock())
    assert result.replayed == 0
    assert (result.old.handed_off, result.new.handed_off, result.entering, result.leaving) == (
        0,
        0,
        0,
        0,
    )
    assert set(result.weeks.values()) == {(0, 0)}
    assert len(result.weeks) == 3  # 14 days touch three Monday-weeks here


def test_the_command_prints_the_report(app, clock, runner, tmp_path):
    from app.services.siteconfig import dump_config

    sales_site(clock())
    engage(app.test_client(), "bo@b.example", 2)
    clock.advance(hours=1)
    proposal = tmp_path / "proposal.yaml"
    proposal.write_text(dump_config(stricter(15), "yaml"), encoding="utf-8")
    result = runner.invoke(
        args=["config", "simulate", "acme", "--file", str(proposal), "--days", "3"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "What-if for site 'acme', 2026-02-27 to 2026-03-02 (1 contacts active in the window)",
        "",
        "week of                  now  proposed",
        "2026-02-23                 0         0",
        "2026-03-02                 1         0",
        "",
        "                         now  proposed",
        "handed off                 1         0",
        "accepted                   0         0",
        "won                        0         0",
        "",
        "Would enter the queue: 0; would leave it: 1",
        "  leaving: #1 bo@b.example",
    ]
    unknown = runner.invoke(args=["config", "simulate", "nope", "--file", str(proposal)])
    assert unknown.exit_code == 1


# --- the replay itself -------------------------------------------------------------------------

MQL = Definition((StageRule("lead"), StageRule("mql", min_score=10, fields_known=("company",))), 1)
WEIGHTS = {"webinar": 5.0}


def first_handoff(
    definition: Definition,
    steps: list[Step],
    weights: dict[str, float],
    half_life_days: float | None,
    account_values: dict[str, KnownValue] | None = None,
):
    """One definition's first hand-off over ``steps``: a replay of that definition alone."""
    replay = Replay.of((definition,), weights, half_life_days)
    return replay.first_handoffs(steps, account_values)[0]


def test_the_first_moment_every_condition_holds():
    steps = [
        Step(T, kind="webinar", stage="late"),
        Step(T + timedelta(hours=1), kind="webinar", stage="late"),  # 10, no company yet
        Step(T + timedelta(hours=2), field="company", value="Acme"),
    ]
    assert first_handoff(MQL, steps, WEIGHTS, None) == T + timedelta(hours=2)
    assert first_handoff(MQL, steps[:2], WEIGHTS, None) is None


def test_decay_between_events_counts():
    steps = [
        Step(T, field="company", value="Acme"),
        Step(T, kind="webinar", stage="late"),
        Step(T + timedelta(days=10), kind="webinar", stage="late"),  # 5 * 0.5 + 5 = 7.5
        Step(T + timedelta(days=10, hours=1), kind="webinar", stage="late"),
    ]
    assert first_handoff(MQL, steps, WEIGHTS, 10) == T + timedelta(days=10, hours=1)
    assert first_handoff(MQL, steps, WEIGHTS, None) == T + timedelta(days=10)


def test_company_values_count_from_when_they_were_given():
    steps = [
        Step(T, kind="webinar", stage="late"),
        Step(T + timedelta(hours=1), kind="webinar", stage="late"),
        Step(T + timedelta(hours=3), kind="page_view", stage="early"),
    ]
    later = {"company": KnownValue("Acme", T + timedelta(hours=2))}
    assert first_handoff(MQL, steps, WEIGHTS, None, later) == T + timedelta(hours=3)


def test_no_hand_off_stage_means_never():
    assert (
        first_handoff(
            Definition((StageRule("lead"),), None), [Step(T, kind="webinar")], WEIGHTS, None
        )
        is None
    )
    assert Definition.from_config([{"key": "lead"}, {"key": "mql"}]).handoff == 1
    assert Definition.from_config([{"key": "a"}, {"key": "b", "handoff": True}]).handoff == 1


STRICT = Definition(
    (StageRule("lead"), StageRule("mql", min_score=15, fields_known=("company",))), 1
)
NEVER = Definition((StageRule("lead"),), None)


def test_definitions_replayed_together_in_one_pass():
    steps = [
        Step(T, field="company", value="Acme"),
        Step(T, kind="webinar", stage="late"),
        Step(T + timedelta(hours=1), kind="webinar", stage="late"),  # 10
        Step(T + timedelta(hours=2), kind="webinar", stage="late"),  # 15
    ]
    replay = Replay.of((MQL, NEVER, STRICT), WEIGHTS, None)
    assert replay.least_score == 10  # below it, no rule is checked
    assert replay.first_handoffs(steps) == (T + timedelta(hours=1), None, T + timedelta(hours=2))
    assert replay.first_handoffs(steps[:3]) == (T + timedelta(hours=1), None, None)
    assert replay.first_handoffs([]) == (None, None, None)
    assert Replay.of((NEVER,), WEIGHTS, None).first_handoffs(steps) == (None,)


def test_a_rule_two_definitions_share_is_kept_once():
    sql = StageRule("sql", min_stage="late", field_equals={"industry": "Software"})
    replay = Replay.of((MQL, Definition((*MQL.stages, sql), 1)), WEIGHTS, 30)
    assert (replay.rules, replay.handing_off, replay.decay, replay.least_score) == (
        (MQL.stages[1], sql),
        ((0,), (0, 1)),
        30,
        -math.inf,  # sql asks no score
    )
    assert Replay.of((MQL,), WEIGHTS, 0).decay is None  # no half-life: no decay
    steps = [
        Step(T, kind="webinar", stage="mid"),  # 5: never mql
        Step(T + timedelta(hours=1), kind="page_view", stage="late"),  # late, no industry yet
        Step(T + timedelta(hours=3), kind="page_view", stage="early"),
    ]
    company = {  # given in another order than their times
        "company": KnownValue("Acme", T + timedelta(hours=5)),
        "industry": KnownValue("Software", T + timedelta(hours=2)),
    }
    assert replay.first_handoffs(steps, company) == (None, T + timedelta(hours=3))
    assert replay.first_handoffs(steps[:2], company) == (None, None)
