"""The funnel report's tables beyond the steps (funnel.py holds those): the hand-off SLA both
ways, rejection and loss reasons, deals influenced, and which answers predict acceptance.

Each counts what happened in the period at the time it happened: a hand-off in the week it
started, an outcome in the week it occurred. Counts are SQL aggregates; medians read the
period's touched hand-offs, and the answers table the period's handed-off contacts' answers.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import aliased

from app.domain.wording import amount_text, answer_text
from app.extensions import db
from app.models import (
    BROWSER,
    MARKETING_TEAM,
    SALES_TEAM,
    AccountValue,
    Contact,
    Handoff,
    ProfileValue,
    SalesOutcome,
    Submission,
)
from app.services.insights.charts import FunnelTable
from app.services.insights.dashboard import _percent
from app.services.insights.funnel_period import (
    NO_FORM,
    Period,
    day_of,
    elapsed,
    first_form,
    form_order,
    median_of,
    table,
    week_of,
    weekly_sums,
)
from app.services.siteconfig import SiteSnapshot

_HOUR = timedelta(hours=1)
_BATCH = 1000
NO_REASON = "(no reason)"
NO_ANSWER = "(no answer)"
SLA_COLUMNS = (
    "With a window",
    "Touched in time",
    "In time (%)",
    "Touched",
    "Median hours to first touch",
    "Breaches",
)


def sales_sla(site: SiteSnapshot, period: Period) -> FunnelTable:
    """Hand-offs to sales per week they started: touched within the agreed window or not."""
    return _sla(site, period, SALES_TEAM, "Handed off", "Hand-off SLA (sales)")


def recycled_sla(site: SiteSnapshot, period: Period) -> FunnelTable:
    """The reverse SLA: contacts sales recycled, per week, and marketing's touch of them."""
    return _sla(site, period, MARKETING_TEAM, "Recycled", "Recycled leads' SLA (marketing)")


def _sla(site: SiteSnapshot, period: Period, team: str, started: str, title: str) -> FunnelTable:
    where = and_(Handoff.site_id == site.id, Handoff.team == team, period.holds(Handoff.started_at))
    in_time = case((Handoff.touched_at <= Handoff.due_at, 1), else_=0)
    breached = case((Handoff.breached_at.is_not(None), 1), else_=0)
    measures = (func.count(Handoff.due_at), func.sum(in_time), func.count(Handoff.touched_at))
    counted = weekly_sums(
        select(day_of(Handoff.started_at), func.count(), *measures, func.sum(breached)).where(
            where
        ),
        5,
    )
    waits: dict[Any, list[float]] = {}
    for start, touch in db.session.execute(
        select(Handoff.started_at, Handoff.touched_at)
        .where(where, Handoff.touched_at.is_not(None))
        .execution_options(yield_per=_BATCH)
    ):
        waits.setdefault(week_of(start), []).append(elapsed(start, touch, _HOUR) or 0.0)
    rows = []
    for week in period.weeks:
        total, windowed, on_time, touched, breaches = counted.get(week, [0] * 5)
        median = median_of(waits.get(week, []))
        share = _percent(on_time, windowed)
        rows.append((week, total, windowed, on_time, share, touched, median, breaches))
    return table(
        f"{title}, last {period.days} days",
        ("Week", started, *SLA_COLUMNS),
        rows,
        "weeks",
        (1, 3, 7),
    )


def _reason_counts(site: SiteSnapshot, period: Period) -> tuple[list[str], list[tuple]]:
    """The reason columns (configured reasons first) and rows of (week, form, column, n)."""
    config = site.sales_outcomes or {}
    kinds = {"rejected": "Rejected", "lost": "Lost"}
    columns = [f"Rejected: {r}" for r in config.get("rejection_reasons", [])]
    columns += [f"Lost: {r}" for r in config.get("loss_reasons", [])]
    form = first_form(SalesOutcome.contact_id).label("form")
    found = []
    for day, kind, reason, source, n in db.session.execute(
        select(day_of(SalesOutcome.occurred_at), SalesOutcome.kind, SalesOutcome.reason, form)
        .add_columns(func.count())
        .where(
            SalesOutcome.site_id == site.id,
            SalesOutcome.kind.in_(kinds),
            period.holds(SalesOutcome.occurred_at),
        )
        .group_by("day", SalesOutcome.kind, SalesOutcome.reason, "form")
    ):
        found.append((week_of(day), source or NO_FORM, f"{kinds[kind]}: {reason or NO_REASON}", n))
    columns += sorted({column for *_, column, _ in found} - set(columns))
    return columns, found


def _reason_rows(labels: list[Any], columns: list[str], found: list[tuple], by: int) -> list:
    """A row per label: rejected and lost totals, then the count of each reason column."""
    counts = Counter()
    for row in found:
        counts[row[by], row[2]] += row[3]
    rows = []
    for label in labels:
        each = [counts[label, column] for column in columns]
        rejected = sum(n for n, c in zip(each, columns, strict=True) if c.startswith("Rejected"))
        rows.append((label, rejected, sum(each) - rejected, *each))
    return rows


def reasons_by_week(site: SiteSnapshot, period: Period) -> FunnelTable:
    """Rejections and losses per week they occurred, by reason."""
    columns, found = _reason_counts(site, period)
    return table(
        f"Rejection and loss reasons by week, last {period.days} days",
        ("Week", "Rejected", "Lost", *columns),
        _reason_rows(list(period.weeks), columns, found, 0),
        "weeks",
        (1, 2),
    )


def reasons_by_form(site: SiteSnapshot, period: Period) -> FunnelTable:
    """Rejections and losses of the period per contact's source form, by reason."""
    columns, found = _reason_counts(site, period)
    forms = form_order(site, (form for _, form, _, _ in found))
    return table(
        f"Rejection and loss reasons by source form, last {period.days} days",
        ("Form", "Rejected", "Lost", *columns),
        _reason_rows(forms, columns, found, 1),
        "bars",
        (1, 2),
    )


def deals_influenced(site: SiteSnapshot, period: Period) -> FunnelTable:
    """Deals won in the period, per currency, and those influenced: the contact, or anyone of
    the same account, answered a Trickle form before the opportunity was created (the
    opportunity with the win's external id, else the latest one before the win, else the win)."""
    won, opportunity, owner, colleague = (
        aliased(SalesOutcome),
        aliased(SalesOutcome),
        aliased(Contact),
        aliased(Contact),
    )

    def opened(*match: Any) -> Any:
        return (
            select(func.max(opportunity.occurred_at))
            .where(
                opportunity.contact_id == won.contact_id,
                opportunity.kind == "opportunity",
                opportunity.occurred_at <= won.occurred_at,
                *match,
            )
            # Inside an EXISTS auto-correlation misses ``won``: uncorrelated, the query took
            # the latest opportunity of any contact (and read every deal for each). Explicit.
            .correlate(won)
            .scalar_subquery()
        )

    created = func.coalesce(
        opened(opportunity.external_id == won.external_id), opened(), won.occurred_at
    )

    def won_in_period(deal: Any) -> tuple[Any, ...]:
        return (deal.site_id == site.id, deal.kind == "won", period.holds(deal.occurred_at))

    # The first answer given by anyone of each account that won a deal in the period: one
    # aggregate over their answers, where an EXISTS per deal read every colleague's.
    deal, holder = aliased(SalesOutcome), aliased(Contact)
    accounts = (
        select(holder.account_id)
        .join(deal, deal.contact_id == holder.id)
        .where(*won_in_period(deal))
    )
    first_answer = (
        select(colleague.account_id, func.min(Submission.created_at).label("at"))
        .join(Submission, Submission.contact_id == colleague.id)
        .where(Submission.source == BROWSER, colleague.account_id.in_(accounts))
        .group_by(colleague.account_id)
        .subquery()
    )
    own = exists().where(
        Submission.contact_id == won.contact_id,
        Submission.source == BROWSER,
        Submission.created_at < created,
    )
    hit = case((own, 1), (first_answer.c.at < created, 1), else_=0)
    totals: dict[str | None, list[int]] = {}  # per currency: won, amount, influenced, amount
    for currency, amount, influenced in db.session.execute(
        select(won.currency, func.coalesce(won.amount_cents, 0), hit)
        .join(owner, owner.id == won.contact_id)
        .outerjoin(first_answer, first_answer.c.account_id == owner.account_id)
        .where(*won_in_period(won))
        .execution_options(yield_per=_BATCH)
    ):
        sums = totals.setdefault(currency, [0, 0, 0, 0])
        for i, n in enumerate((1, amount, influenced, amount if influenced else 0)):
            sums[i] += int(n)
    found = [(currency, *sums) for currency, sums in totals.items()] or [(None, 0, 0, 0, 0)]
    found.sort(key=lambda row: (row[0] is None, row[0] or ""))  # NULLs sort apart per engine
    return table(
        f"Deals influenced, last {period.days} days",
        ("Currency", "Won", "Won amount", "Influenced", "Influenced amount", "Influenced (%)"),
        (
            (currency or "—", n, _money(total), hit, _money(hit_total), _percent(hit, n))
            for currency, n, total, hit, hit_total in found
        ),
        "bars",
        (1, 3),
    )


def _money(cents: Any) -> str:
    """A sum of hundredths (None for none; a Decimal on PostgreSQL) as a decimal amount."""
    return amount_text(int(cents or 0))


def predictive_answers(site: SiteSnapshot, period: Period) -> FunnelTable:
    """For each select and boolean field, the contacts handed off to sales in the period by
    their answer now, and how many of them sales accepted (at or after that first hand-off)."""
    fields = [view for view in site.fields.values() if view.rule.kind in {"select", "boolean"}]
    handed = (
        select(Handoff.contact_id, func.min(Handoff.started_at).label("at"))
        .where(
            Handoff.site_id == site.id,
            Handoff.team == SALES_TEAM,
            period.holds(Handoff.started_at),
        )
        .group_by(Handoff.contact_id)
        .subquery()
    )
    accepted = exists().where(
        SalesOutcome.contact_id == handed.c.contact_id,
        SalesOutcome.kind == "accepted",
        SalesOutcome.occurred_at >= handed.c.at,
    )
    outcome = dict(db.session.execute(select(handed.c.contact_id, accepted)).all())
    answers = _answers(
        handed,
        [view.id for view in fields],
        [view.id for view in fields if view.rule.scope == "account"],
    )
    rows = []
    for view in fields:
        choices = [(True, "Yes"), (False, "No")] if view.rule.kind == "boolean" else view.options
        handed_off, hits = Counter(), Counter()
        for contact_id, was_accepted in outcome.items():
            answer = repr(answers.get((contact_id, view.id)))
            handed_off[answer] += 1
            hits[answer] += bool(was_accepted)
        known = {repr(value) for value, _ in choices}
        extra = {repr(v): v for (_, fid), v in answers.items() if fid == view.id}
        choices = [
            *choices,
            *((v, answer_text(v)) for k, v in sorted(extra.items()) if k not in known),
        ]
        for value, label in [*choices, (None, NO_ANSWER)]:
            n, yes = handed_off[repr(value)], hits[repr(value)]
            rows.append((view.label, label, n, yes, _percent(yes, n)))
    return table(
        f"Which answers predict acceptance, hand-offs of the last {period.days} days",
        ("Field", "Answer", "Handed off", "Accepted", "Acceptance (%)"),
        rows,
        "bars",
        (4,),
        percent=True,
        labels=2,
    )


def _answers(handed: Any, field_ids: list[int], account_ids: list[int]) -> dict:
    """{(contact id, field id): value} of the handed-off contacts: their own values, and for
    account-scope fields their account's (trusted) value where they have none."""
    found: dict[tuple[int, int], Any] = {}
    shared = db.session.execute(
        select(handed.c.contact_id, AccountValue.field_id, AccountValue.value)
        .join(Contact, Contact.id == handed.c.contact_id)
        .join(AccountValue, AccountValue.account_id == Contact.account_id)
        .where(AccountValue.field_id.in_(account_ids), AccountValue.trusted.is_(True))
    )
    own = db.session.execute(
        select(ProfileValue.contact_id, ProfileValue.field_id, ProfileValue.value)
        .join(handed, handed.c.contact_id == ProfileValue.contact_id)
        .where(ProfileValue.field_id.in_(field_ids))
    )
    for rows in (shared, own):  # own values last: they win
        for contact_id, field_id, value in rows:
            if value is not None and value != "":
                found[contact_id, field_id] = value
    return found
