"""What a site's dashboard shows: one function per chart, each returning a frozen dataclass with
the ``title``, ``columns`` and ``rows`` its table view and CSV show, and the series its SVG draws.

Read only: nothing here commits but the question-counter flush that runs before the counters
are read. Days are UTC days; a window is the last ``days`` days up to and including today.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from itertools import accumulate, groupby
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal_column, select, union

from app.domain.engagement import summarize_engagement
from app.domain.specs import EventRecord
from app.extensions import db
from app.models import (
    AccountValue,
    Contact,
    EngagementEvent,
    Field,
    LifecycleStage,
    ProfileValue,
    QuestionStat,
    StageChange,
    Submission,
    Tier,
)
from app.services.errors import NotFound
from app.services.insights.charts import (
    SCORE_BUCKETS,
    Chart,
    CompletenessChart,
    DailySeries,
    QuestionChart,
    QuestionRow,
    ScoreChart,
    ScoreRow,
    TierRow,
)
from app.services.insights.contact_list import EVENT_RECORD_COLUMNS
from app.services.insights.period import Period, day_start, utc_day
from app.services.insights.question_stats import flush
from app.services.siteconfig import SiteSnapshot, site_snapshot

WINDOWS = (7, 30, 90, 365)
DEFAULT_WINDOW = 30
# What str.strip() strips, every character whose isspace() is true (a test keeps this list
# equal to Python's): SQL's trim, told these, decides blankness as specs.is_blank does.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_STREAM_BATCH = 1000


def window_days(raw: str | None, default: int = DEFAULT_WINDOW) -> int:
    """The window a ``?days=`` value names: one of WINDOWS, anything else ``default``."""
    return int(raw) if raw in {str(days) for days in WINDOWS} else default


def tier_completeness(site: SiteSnapshot) -> CompletenessChart:
    """Per active tier, in rank order: how much of it contacts have filled, and who has all of it.

    A field is known for a contact when it has a non-blank own value, or, for an account-scope
    field, its account has one (the rule of the contacts pages).
    """
    contacts = _count_contacts(site)
    histogram = _known_per_tier(site)  # {tier_id: {fields known: contacts}}
    sizes = Counter(view.rule.tier for view in site.fields.values())  # active fields per tier
    rows = []
    for tier in db.session.execute(
        select(Tier.id, Tier.key, Tier.label)
        .where(Tier.site_id == site.id, Tier.archived_at.is_(None))
        .order_by(Tier.rank, Tier.key)
    ):
        size, known = sizes.get(tier.key, 0), histogram.get(tier.id, {})
        filled = sum(n * count for n, count in known.items())
        complete = known.get(size, 0) if size else 0
        rows.append(
            TierRow(
                label=tier.label or tier.key,
                fields=size,
                filled_percent=_percent(filled, contacts * size),
                complete=complete,
                complete_percent=_percent(complete, contacts) if size else None,
            )
        )
    return CompletenessChart(
        title="Profile completeness by tier",
        columns=("Tier", "Fields", "Answers known (%)", "Complete contacts", "Complete (%)"),
        rows=tuple(rows),
        contacts=contacts,
    )


def _known_per_tier(site: SiteSnapshot) -> dict[int, dict[int, int]]:
    """Per tier id, how many contacts know how many of its active fields (0 not listed)."""
    field_ids = [view.id for view in site.fields.values()]
    account_ids = [view.id for view in site.fields.values() if view.rule.scope == "account"]
    own = (
        select(ProfileValue.contact_id, ProfileValue.field_id)
        .join(Contact, Contact.id == ProfileValue.contact_id)
        .where(
            Contact.site_id == site.id,
            ProfileValue.field_id.in_(field_ids),
            _is_answer(ProfileValue.value),
        )
    )
    shared = (
        select(Contact.id.label("contact_id"), AccountValue.field_id)
        .join(AccountValue, AccountValue.account_id == Contact.account_id)
        .where(
            Contact.site_id == site.id,
            AccountValue.field_id.in_(account_ids),
            AccountValue.trusted.is_(True),
            _is_answer(AccountValue.value),
        )
    )
    known = union(own, shared).subquery()  # UNION: a field known both ways counts once
    per_contact = (
        select(known.c.contact_id, Field.tier_id, func.count().label("n"))
        .join(Field, Field.id == known.c.field_id)
        .group_by(known.c.contact_id, Field.tier_id)
        .subquery()
    )
    histogram: dict[int, dict[int, int]] = {}
    for row in db.session.execute(
        select(per_contact.c.tier_id, per_contact.c.n, func.count().label("contacts")).group_by(
            per_contact.c.tier_id, per_contact.c.n
        )
    ):
        histogram.setdefault(row.tier_id, {})[row.n] = row.contacts
    return histogram


def _is_answer(value: Any) -> ColumnElement[bool]:
    """SQL for ``not is_blank(value)`` on a JSON column, on SQLite and PostgreSQL alike."""
    if _dialect() == "postgresql":
        kind, text = func.json_typeof(value), value.op("#>>")(literal_column("'{}'::text[]"))
        string, trim = "string", func.btrim(text, WHITESPACE)
    else:
        kind, text = func.json_type(value), func.json_extract(value, "$")
        string, trim = "text", func.trim(text, WHITESPACE)
    return and_(
        value.is_not(None),
        case(
            (kind == "null", False),
            (kind == string, trim != ""),
            (kind == "array", func.json_array_length(value) > 0),
            else_=True,
        ),
    )


def question_rates(site: SiteSnapshot, days: int, now: datetime) -> QuestionChart:
    """Per form and question: shown, answered, skipped and the answer rate over the window.

    Every question in an active form's pool has a row (zeros when never shown), in form and
    field order; counts for forms or fields since removed follow.
    """
    flush()
    period = Period.ending(days, now)
    start, end = period.first, period.last
    totals = {
        (row.form_key, row.field_id): (row.shown, row.answered, row.skipped)
        for row in db.session.execute(
            select(
                QuestionStat.form_key,
                QuestionStat.field_id,
                func.sum(QuestionStat.shown).label("shown"),
                func.sum(QuestionStat.answered).label("answered"),
                func.sum(QuestionStat.skipped).label("skipped"),
            )
            .where(QuestionStat.site_id == site.id, QuestionStat.day.between(start, end))
            .group_by(QuestionStat.form_key, QuestionStat.field_id)
        )
    }
    listed = [
        (form.key, view.id)
        for form in site.forms.values()
        for key, view in site.fields.items()
        if key in form.rules.pool
    ]
    listed += sorted(set(totals) - set(listed))
    fields = {f.id: f for f in db.session.scalars(select(Field).where(Field.site_id == site.id))}
    return QuestionChart(
        title=f"Questions shown, answered and skipped, last {days} days",
        columns=("Form", "Question", "Field", "Shown", "Answered", "Skipped", "Answer rate (%)"),
        rows=tuple(
            _question(form_key, fields[field_id], totals.get((form_key, field_id), (0, 0, 0)))
            for form_key, field_id in listed
        ),
    )


def _question(form_key: str, field: Field, counts: tuple[int, int, int]) -> QuestionRow:
    shown, answered, skipped = (int(n) for n in counts)
    rate = _percent(answered, shown)
    return QuestionRow(form_key, field.label, field.key, shown, answered, skipped, rate)


def score_distribution(site: SiteSnapshot, now: datetime) -> ScoreChart:
    """How many contacts have an engagement score in each of SCORE_BUCKETS, scored as the
    question rules score them (site weights, half-life); contacts without events score 0."""
    counts = [0] * len(SCORE_BUCKETS)
    scored = 0
    rows = db.session.execute(
        select(*EVENT_RECORD_COLUMNS)
        .where(EngagementEvent.site_id == site.id)
        .order_by(EngagementEvent.contact_id)
        .execution_options(yield_per=_STREAM_BATCH)
    )
    for _, events in groupby(rows, key=attrgetter("contact_id")):
        records = (EventRecord(e.kind, e.stage, e.occurred_at, e.external_id) for e in events)
        score = summarize_engagement(records, site.weights, now, site.half_life_days).score
        counts[_bucket(score)] += 1
        scored += 1
    counts[0] += _count_contacts(site) - scored
    return ScoreChart(
        title="Engagement score distribution",
        columns=("Score", "Contacts"),
        rows=tuple(ScoreRow(label, n) for (_, label), n in zip(SCORE_BUCKETS, counts, strict=True)),
    )


def _bucket(score: float) -> int:
    return max(bisect_right([lower for lower, _ in SCORE_BUCKETS], score) - 1, 0)


def stage_funnel(site: SiteSnapshot, days: int, now: datetime) -> DailySeries:
    """Per day of the window: contacts that existed by the end of it, and per lifecycle stage
    (config order) how many had that stage as the furthest one they had reached by then."""
    window = Period.ending(days, now).dates
    stages = db.session.scalars(
        select(LifecycleStage.key)
        .where(LifecycleStage.site_id == site.id, LifecycleStage.archived_at.is_(None))
        .order_by(LifecycleStage.position, LifecycleStage.id)
    ).all()
    (created,) = _per_day(Contact.created_at, Contact.site_id == site.id, window, func.count())
    before = db.session.scalar(
        select(func.count())
        .select_from(Contact)
        .where(Contact.site_id == site.id, Contact.created_at < day_start(window[0]))
    )
    moves = _furthest_stage_moves(site, stages, window)
    series = (
        ("Contacts", _running(created, before or 0)),
        *((key, _running(moves[i], 0)) for i, key in enumerate(stages)),
    )
    return _daily(f"Contacts by lifecycle stage, last {days} days", window, series)


def _furthest_stage_moves(
    site: SiteSnapshot, stages: Sequence[str], window: tuple[date, ...]
) -> list[list[int]]:
    """Per stage and day: contacts whose furthest stage became it (+1) or went past it (-1)
    that day; moves before the window count on its first day."""
    rank = {key: i for i, key in enumerate(stages)}
    moves = [[0] * len(window) for _ in stages]
    reached = db.session.execute(
        select(StageChange.contact_id, StageChange.to_stage, func.min(StageChange.changed_at))
        .where(
            StageChange.site_id == site.id,
            StageChange.to_stage.in_(stages),
            StageChange.changed_at < day_start(window[-1] + timedelta(days=1)),
        )
        .group_by(StageChange.contact_id, StageChange.to_stage)
        .order_by(StageChange.contact_id)
    )
    for _, firsts in groupby(reached, key=itemgetter(0)):
        furthest = None
        for _, stage, at in sorted(firsts, key=itemgetter(2)):
            if furthest is not None and rank[stage] <= furthest:
                continue  # stages only move forward: reaching an earlier one changes nothing
            day = max((at.date() - window[0]).days, 0)
            if furthest is not None:
                moves[furthest][day] -= 1
            moves[rank[stage]][day] += 1
            furthest = rank[stage]
    return moves


def submissions_per_day(site: SiteSnapshot, days: int, now: datetime) -> DailySeries:
    """Per day of the window: accepted values (submission rows) and distinct contacts."""
    window = Period.ending(days, now).dates
    values, contacts = _per_day(
        Submission.created_at,
        Submission.site_id == site.id,
        window,
        func.count(),
        func.count(Submission.contact_id.distinct()),
    )
    series = (("Answers accepted", values), ("Contacts", contacts))
    return _daily(f"Submissions per day, last {days} days", window, series)


CHARTS: dict[str, Callable[[SiteSnapshot, int, datetime], Chart]] = {
    "completeness": lambda site, days, now: tier_completeness(site),
    "questions": question_rates,
    "scores": lambda site, days, now: score_distribution(site, now),
    "stages": stage_funnel,
    "submissions": submissions_per_day,
}


def dashboard_chart(site_key: str, name: str, days: int, now: datetime) -> Chart:
    """One chart by name; NotFound for an unknown site or chart."""
    site = site_snapshot(site_key)
    if name not in CHARTS:
        raise NotFound(f'No chart "{name}".')
    return CHARTS[name](site, days, now)


def site_dashboard(site_key: str, days: int, now: datetime) -> tuple[tuple[str, Chart], ...]:
    """Every chart of the dashboard, by name, in page order; NotFound for an unknown site."""
    site = site_snapshot(site_key)
    return tuple((name, build(site, days, now)) for name, build in CHARTS.items())


# --- helpers --------------------------------------------------------------------------------


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _per_day(
    column: Any, where: ColumnElement[bool], window: tuple[date, ...], *measures: Any
) -> tuple[tuple[int, ...], ...]:
    """Each of ``measures`` per UTC day of ``column`` over ``window``, 0 on days without rows."""
    day = utc_day(column).label("day")
    found = {
        row[0]: row[1:]
        for row in db.session.execute(
            select(day, *measures)
            .where(
                where,
                column >= day_start(window[0]),
                column < day_start(window[-1] + timedelta(days=1)),
            )
            .group_by(day)
        )
    }
    return tuple(
        tuple(int(found[d][i]) if d in found else 0 for d in window) for i in range(len(measures))
    )


def _running(per_day: Iterable[int], start: int) -> tuple[int, ...]:
    """Running totals from ``start``, one per day."""
    return tuple(accumulate(per_day, initial=start))[1:]


def _daily(
    title: str, window: tuple[date, ...], series: tuple[tuple[str, tuple[int, ...]], ...]
) -> DailySeries:
    return DailySeries(
        title=title,
        columns=("Day", *(name for name, _ in series)),
        rows=tuple((d, *(values[i] for _, values in series)) for i, d in enumerate(window)),
        days=window,
        series=series,
    )


def _count_contacts(site: SiteSnapshot) -> int:
    return db.session.scalar(select(func.count()).where(Contact.site_id == site.id)) or 0


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
