"""The ground the funnel report's tables share: its period and weeks, the per-contact first
times of each funnel step (a SQL subquery, never a list of contacts), the contact's source form,
and the medians and rates the tables show.

Weeks start on Monday (UTC) and are named by that Monday; the first week of a period may be
cut by the period's start. SQL groups by UTC day (portable: see ``period.utc_day``) and
Python adds the days up into weeks, so at most ``days`` rows come back per measure.
"""

from __future__ import annotations

import secrets
import statistics
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    Column,
    FromClause,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    func,
    select,
)

from app.extensions import db
from app.models import BROWSER, Contact, SalesOutcome, StageChange, Submission
from app.models.types import UTCDateTime
from app.services.insights.charts import FunnelTable
from app.services.insights.dashboard import _percent
from app.services.insights.period import Period, utc_day, week_of
from app.services.siteconfig import SiteSnapshot
from app.services.transactions import begin_on_sqlite

FUNNEL_WINDOW = 90  # days, when ``?days=`` names none of WINDOWS
NO_FORM = "(no form)"
_SHARED = "funnel_steps"  # db.session.info key: ((site id, period), table) inside shared_steps
# The steps after "contacts", each with the column of ``contact_steps`` holding its first time.
STEPS: tuple[tuple[str, str], ...] = (
    ("Leads", "lead_at"),
    ("MQLs", "mql_at"),
    ("Accepted", "accepted_at"),
    ("Opportunities", "opportunity_at"),
    ("Won", "won_at"),
)
STEP_NAMES = ("Contact", "Lead", "MQL", "Accepted", "Opportunity", "Won")
COUNT_COLUMNS = ("Contacts", *(name for name, _ in STEPS))
RATE_COLUMNS = tuple(f"{a}→{b} (%)" for a, b in pairwise(STEP_NAMES))


def first_form(contact_id: Any) -> Any:
    """SQL: the form of the contact's first answer given in a Trickle form (NULL: none)."""
    return (
        select(Submission.form_key)
        .where(Submission.contact_id == contact_id, Submission.source == BROWSER)
        .order_by(Submission.created_at, Submission.id)
        .limit(1)
        .scalar_subquery()
    )


def mql_stages(site: SiteSnapshot) -> list[str]:
    """The hand-off stage and every later one: reaching any of them is reaching MQL."""
    keys = [stage.key for stage in site.stages]
    return keys[keys.index(site.handoff_stage) :] if site.handoff_stage in keys else []


def contact_steps(site: SiteSnapshot, period: Period) -> FromClause:
    """One row per contact created in ``period``: ``id``, ``created_at``, ``form`` (its first
    form) and the first time of each step of STEPS (NULL: not reached). Lead is any configured
    stage (the first is lead, later ones are past it); MQL the hand-off stage or a later one;
    accepted, opportunity and won the first outcome of that kind.

    Inside ``shared_steps`` for the same site and period: the temporary table it filled once
    (the per-contact lookups are most of the report's time); otherwise a subquery."""
    shared = db.session.info.get(_SHARED)
    if shared is not None and shared[0] == (site.id, period):
        return shared[1]
    return _steps_query(site, period).subquery()


@contextmanager
def shared_steps(site: SiteSnapshot, period: Period) -> Iterator[None]:
    """Within: every table of ``site`` and ``period`` reads the contacts' steps from one
    temporary table, filled by one statement and dropped at the end (the report's request
    computes each contact's steps once, not once per table). Nothing is read into Python.

    The table is created inside the session's transaction, so that its rollback (after an
    error, or at the end of the request) also leaves none behind."""
    begin_on_sqlite()  # pysqlite would run the DDL outside of a transaction
    connection = db.session.connection()
    steps = Table(
        f"funnel_steps_{secrets.token_hex(6)}",
        MetaData(),
        Column("id", Integer),
        Column("created_at", UTCDateTime),
        Column("form", String(64)),
        *(Column(column, UTCDateTime) for _, column in STEPS),
        prefixes=["TEMPORARY"],
    )
    steps.create(connection)
    try:
        query = _steps_query(site, period)
        connection.execute(steps.insert().from_select([c.name for c in steps.c], query))
        db.session.info[_SHARED] = ((site.id, period), steps)
        yield
    finally:
        db.session.info.pop(_SHARED, None)
    steps.drop(connection)


def _steps_query(site: SiteSnapshot, period: Period) -> Select:
    stages = [stage.key for stage in site.stages]

    def first_move(keys: list[str]) -> Any:
        return (
            select(func.min(StageChange.changed_at))
            .where(StageChange.contact_id == Contact.id, StageChange.to_stage.in_(keys))
            .scalar_subquery()
        )

    def first_outcome(kind: str) -> Any:
        return (
            select(func.min(SalesOutcome.occurred_at))
            .where(SalesOutcome.contact_id == Contact.id, SalesOutcome.kind == kind)
            .scalar_subquery()
        )

    return select(
        Contact.id,
        Contact.created_at,
        first_form(Contact.id).label("form"),
        first_move(stages).label("lead_at"),
        first_move(mql_stages(site)).label("mql_at"),
        first_outcome("accepted").label("accepted_at"),
        first_outcome("opportunity").label("opportunity_at"),
        first_outcome("won").label("won_at"),
    ).where(Contact.site_id == site.id, period.holds(Contact.created_at))


def step_counts(steps: FromClause) -> Any:
    """SQL measures over ``contact_steps``: contacts, then how many reached each step."""
    return (func.count(), *(func.count(steps.c[column]) for _, column in STEPS))


def day_of(column: Any) -> Any:
    return utc_day(column).label("day")


def weekly_sums(statement: Select[Any], size: int) -> dict[Any, list[int]]:
    """``statement``'s rows (a UTC ``day_of``, then ``size`` counts) grouped by day and summed
    per week (``week_of``)."""
    rows = db.session.execute(statement.group_by("day"))
    return add_up(((week_of(row[0]), *row[1:]) for row in rows), size)


def add_up(rows: Iterable[tuple[Any, ...]], size: int) -> dict[Any, list[int]]:
    """Rows of (key, n1, n2, ...) summed per key into lists of ``size`` numbers."""
    totals: dict[Any, list[int]] = {}
    for key, *numbers in rows:
        sums = totals.setdefault(key, [0] * size)
        for i, n in enumerate(numbers):
            sums[i] += int(n or 0)
    return totals


def with_rates(label: Any, counts: list[int]) -> tuple[Any, ...]:
    """A funnel row: its label, the counts of COUNT_COLUMNS and each step's conversion rate."""
    rates = (_percent(b, a) for a, b in pairwise(counts))
    return (label, *counts, *rates)


def median_of(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def elapsed(start: datetime | None, end: datetime | None, unit: timedelta) -> float | None:
    """``end - start`` in ``unit``s, or None when either is missing; a step recorded before the
    one it follows counts as 0."""
    if start is None or end is None:
        return None
    return max((end - start) / unit, 0.0)


def form_order(site: SiteSnapshot, found: Iterable[str | None]) -> list[str]:
    """The site's forms in config order, then NO_FORM, then forms found but since removed."""
    listed = [*site.forms, NO_FORM]
    return listed + sorted({form or NO_FORM for form in found} - set(listed))


def table(
    title: str,
    columns: tuple[str, ...],
    rows: Iterable[tuple[Any, ...]],
    drawing: str,
    plot: tuple[int, ...],
    percent: bool = False,
    labels: int = 1,
) -> FunnelTable:
    return FunnelTable(title, columns, tuple(rows), drawing, plot, percent, labels)
