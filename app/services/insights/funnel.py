"""The joint funnel report (docs/console.md, "Funnel"): the numbers marketing and sales read
together, one FunnelTable each, shown with a drawing and downloadable as CSV.

This module holds the funnel of steps (contacts → lead → MQL → accepted → opportunity → won) by
week, by form and by the rule that qualified them, and the table registry; funnel_tables.py
holds the rest. A contact counts in the week it was created (a cohort): "of the contacts who
came in that week, how many have reached each step by now". Counts are SQL aggregates; medians
read the first times of the contacts who reached a step, and the by-rule table the MQLs' moves.

Read only. A period without data gives every labelled row with zeros.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import aliased

from app.domain.wording import rule_words
from app.extensions import db
from app.models import StageChange
from app.services.errors import NotFound
from app.services.insights.charts import FunnelTable
from app.services.insights.funnel_period import (
    COUNT_COLUMNS,
    NO_FORM,
    RATE_COLUMNS,
    STEP_NAMES,
    STEPS,
    Period,
    add_up,
    contact_steps,
    day_of,
    elapsed,
    form_order,
    median_of,
    mql_stages,
    shared_steps,
    step_counts,
    table,
    week_of,
    weekly_sums,
    with_rates,
)
from app.services.insights.funnel_tables import (
    deals_influenced,
    predictive_answers,
    reasons_by_form,
    reasons_by_week,
    recycled_sla,
    sales_sla,
)
from app.services.siteconfig import SiteSnapshot, site_snapshot

_BATCH = 1000
_DAY = timedelta(days=1)
ALL_WEEKS = "All weeks"


def funnel_by_week(site: SiteSnapshot, period: Period) -> FunnelTable:
    """Per week of creation: contacts, how many reached each step, and each step's rate."""
    steps = contact_steps(site, period)
    counted = weekly_sums(
        select(day_of(steps.c.created_at), *step_counts(steps)), len(COUNT_COLUMNS)
    )
    empty = [0] * len(COUNT_COLUMNS)
    return table(
        f"Funnel by week of first contact, last {period.days} days",
        ("Week", *COUNT_COLUMNS, *RATE_COLUMNS),
        (with_rates(week, counted.get(week, empty)) for week in period.weeks),
        "weeks",
        tuple(range(1, len(COUNT_COLUMNS) + 1)),
    )


def step_medians(site: SiteSnapshot, period: Period) -> FunnelTable:
    """Per week of creation, and over the whole period (the last row, the one drawn), the
    median days between each step and the one before it, over the contacts who reached both
    (with how many that is)."""
    steps = contact_steps(site, period)
    times = [steps.c.created_at, *(steps.c[column] for _, column in STEPS)]
    spans: dict[Any, list[list[float]]] = {w: [[] for _ in STEPS] for w in period.weeks}
    rows = db.session.execute(
        select(*times)
        .where(or_(*(t.is_not(None) for t in times[1:])))
        .execution_options(yield_per=_BATCH)
    )
    for row in rows:
        week = spans.setdefault(week_of(row[0]), [[] for _ in STEPS])
        for i in range(len(STEPS)):
            days = elapsed(row[i], row[i + 1], _DAY)
            if days is not None:
                week[i].append(days)
    spans[ALL_WEEKS] = [[d for w in period.weeks for d in spans[w][i]] for i in range(len(STEPS))]
    names = [f"{a}→{b}" for a, b in pairwise(STEP_NAMES)]
    return table(
        f"Median days between steps, by week of first contact, last {period.days} days",
        ("Week", *(f"{n} (median days)" for n in names), *(f"{n} (contacts)" for n in names)),
        (
            (week, *(median_of(s) for s in spans[week]), *(len(s) for s in spans[week]))
            for week in (*period.weeks, ALL_WEEKS)
        ),
        "total",
        tuple(range(1, len(STEPS) + 1)),
    )


def funnel_by_form(site: SiteSnapshot, period: Period) -> FunnelTable:
    """Per source form (the form of a contact's first answer), the funnel of the contacts
    created in the period."""
    steps = contact_steps(site, period)
    counted = add_up(
        db.session.execute(select(steps.c.form, *step_counts(steps)).group_by(steps.c.form)),
        len(COUNT_COLUMNS),
    )
    counted = {form or NO_FORM: counts for form, counts in counted.items()}
    empty = [0] * len(COUNT_COLUMNS)
    return table(
        f"Funnel by source form, last {period.days} days",
        ("Form", *COUNT_COLUMNS, *RATE_COLUMNS),
        (with_rates(form, counted.get(form, empty)) for form in form_order(site, counted)),
        "bars",
        (1, 3, 4, 6),
    )


def funnel_by_rule(site: SiteSnapshot, period: Period) -> FunnelTable:
    """Per rule that moved them to MQL (its stage and conditions in words; the current
    config's MQL rules listed even when none fired), the MQLs among the period's contacts and
    what sales made of them."""
    steps = contact_steps(site, period)
    stages = mql_stages(site)
    move = aliased(StageChange)
    first = (  # each MQL's move to MQL; of two at the same instant, the first one recorded
        select(func.min(move.id))
        .where(
            move.contact_id == steps.c.id,
            move.changed_at == steps.c.mql_at,
            move.to_stage.in_(stages),
        )
        .scalar_subquery()
    )
    # Counted per stage and rule as stored (JSON text, comparable on every engine), in the
    # order each was first recorded; rules worded alike share their row.
    stored = cast(StageChange.rule, Text)
    found = db.session.execute(
        select(StageChange.to_stage, stored, func.count())
        .add_columns(*(func.count(steps.c[column]) for _, column in STEPS[2:]))
        .join(steps, StageChange.id == first)
        .where(steps.c.mql_at.is_not(None))
        .group_by(StageChange.to_stage, stored)
        .order_by(func.min(StageChange.id))
    )
    counted = {
        _rule_label(site, rule.key, rule.as_config()): [0] * 4
        for rule in site.stages
        if rule.key in stages
    }
    for stage, text, *numbers in found:
        label = _rule_label(site, stage, None if text is None else json.loads(text))
        counts = counted.setdefault(label, [0] * 4)
        for i, n in enumerate(numbers):
            counts[i] += int(n)
    return table(
        f"MQLs by the rule that qualified them, last {period.days} days",
        ("Rule", *COUNT_COLUMNS[2:], *RATE_COLUMNS[2:]),
        (with_rates(rule, counts) for rule, counts in counted.items()),
        "bars",
        (1, 2, 4),
    )


def _rule_label(site: SiteSnapshot, stage: str, rule: dict[str, Any] | None) -> str:
    """ "mql: Engagement score ≥ 10; Known: Company": the stage, then the rule's conditions in
    words, without the score the contact had (so that one rule is one row)."""
    general = {key: value for key, value in (rule or {}).items() if key != "score"} or None
    return f"{stage}: " + "; ".join(rule_words(general, site.field_labels, site.field_options))


TABLES: dict[str, Callable[[SiteSnapshot, Period], FunnelTable]] = {
    "weeks": funnel_by_week,
    "medians": step_medians,
    "forms": funnel_by_form,
    "rules": funnel_by_rule,
    "sla": sales_sla,
    "recycled": recycled_sla,
    "reasons": reasons_by_week,
    "reason-forms": reasons_by_form,
    "influenced": deals_influenced,
    "answers": predictive_answers,
}


def funnel_table(site_key: str, name: str, days: int, now: datetime) -> FunnelTable:
    """One table of the report by name; NotFound for an unknown site or table."""
    site = site_snapshot(site_key)
    if name not in TABLES:
        raise NotFound(f'No funnel table "{name}".')
    return TABLES[name](site, Period.ending(days, now))


def funnel_report(site_key: str, days: int, now: datetime) -> tuple[tuple[str, FunnelTable], ...]:
    """Every table of the report, by name, in page order; NotFound for an unknown site."""
    site = site_snapshot(site_key)
    period = Period.ending(days, now)
    with shared_steps(site, period):
        return tuple((name, build(site, period)) for name, build in TABLES.items())
