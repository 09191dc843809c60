"""The dashboard's headline numbers over its period: the site's page views, and per form its
views, its asks, the questions it asked, the submits it stored and its answer rate.

Read only, like the charts (the question and form counters are flushed first, as for the
questions chart). The period is the last ``days`` UTC days up to and including today
(``period.Period``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.domain.engagement import PAGE_VIEW
from app.extensions import db
from app.models import BROWSER, EngagementEvent, FormStat, QuestionStat, Submission
from app.services.insights.dashboard import _percent
from app.services.insights.period import Period
from app.services.insights.question_stats import flush
from app.services.people import flush_form_counts
from app.services.siteconfig import SiteSnapshot, site_snapshot

Counts = dict[str, tuple[int, ...]]


@dataclass(frozen=True)
class FormHeadline:
    key: str
    title: str
    views: int  # page views that placed the form (a counted page_view naming it)
    asks: int  # asks for the form that returned at least one question
    asked: int  # questions shown (each question of each ask that returned it)
    answered: int  # of those, answered with a non-blank answer
    skipped: int
    submissions: int  # submits that stored at least one answer
    answer_rate: float | None  # answered / asked in percent; None when nothing was asked


@dataclass(frozen=True)
class Headlines:
    days: int
    page_views: int  # page_view events (an event id sent twice counts once)
    asked: int
    submissions: int
    answer_rate: float | None
    forms: tuple[FormHeadline, ...]  # the site's forms in config order, then removed ones


def site_headlines(site_key: str, days: int, now: datetime) -> Headlines:
    """The headline numbers of ``site_key`` over the last ``days`` days; NotFound for an
    unknown site."""
    site = site_snapshot(site_key)
    flush()
    flush_form_counts()
    period = Period.ending(days, now)
    counts = [
        _form_counts(site, period),
        _question_counts(site, period),
        _submissions(site, period),
    ]
    titles = {key: form.title for key, form in site.forms.items()}
    found = set().union(*counts) - set(titles)
    forms = tuple(
        _form_headline(key, titles.get(key, f"{key} (removed)"), *counts)
        for key in [*titles, *sorted(found)]
    )
    asked, answered = sum(f.asked for f in forms), sum(f.answered for f in forms)
    return Headlines(
        days=days,
        page_views=_page_views(site, period),
        asked=asked,
        submissions=sum(f.submissions for f in forms),
        answer_rate=_percent(answered, asked),
        forms=forms,
    )


def _form_headline(
    key: str, title: str, views_asks: Counts, questions: Counts, submits: Counts
) -> FormHeadline:
    views, asks = views_asks.get(key, (0, 0))
    asked, answered, skipped = questions.get(key, (0, 0, 0))
    (submissions,) = submits.get(key, (0,))
    rate = _percent(answered, asked)
    return FormHeadline(key, title, views, asks, asked, answered, skipped, submissions, rate)


def _form_counts(site: SiteSnapshot, period: Period) -> Counts:
    """(views, asks) per form key over the period's days."""
    return _sums(FormStat, site, period, FormStat.views, FormStat.asks)


def _question_counts(site: SiteSnapshot, period: Period) -> Counts:
    """(shown, answered, skipped) per form key over the period's days."""
    stat = QuestionStat
    return _sums(stat, site, period, stat.shown, stat.answered, stat.skipped)


def _sums(model: Any, site: SiteSnapshot, period: Period, *counters: Any) -> Counts:
    """Each of ``counters`` summed per form key over the days of ``period``."""
    return {
        row[0]: tuple(int(n) for n in row[1:])
        for row in db.session.execute(
            select(model.form_key, *(func.sum(counter) for counter in counters))
            .where(model.site_id == site.id, model.day.between(period.first, period.last))
            .group_by(model.form_key)
        )
    }


def _submissions(site: SiteSnapshot, period: Period) -> Counts:
    """Per form key, the submits stored from browsers: one submit's answers share their
    contact and time, so each (contact, time) counts once."""
    submits = (
        select(Submission.form_key, Submission.contact_id, Submission.created_at)
        .where(
            Submission.site_id == site.id,
            Submission.source == BROWSER,
            period.holds(Submission.created_at),
        )
        .distinct()
        .subquery()
    )
    return {
        key: (int(count),)
        for key, count in db.session.execute(
            select(submits.c.form_key, func.count()).group_by(submits.c.form_key)
        )
    }


def _page_views(site: SiteSnapshot, period: Period) -> int:
    return (
        db.session.scalar(
            select(func.count()).where(
                EngagementEvent.site_id == site.id,
                EngagementEvent.kind == PAGE_VIEW,
                EngagementEvent.counted.is_(True),
                period.holds(EngagementEvent.occurred_at),
            )
        )
        or 0
    )
