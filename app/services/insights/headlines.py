"""The dashboard's headline numbers over its window: the site's page views, and per form the
questions it asked, the submits it stored and its answer rate.

Read only, like the charts (the question counters are flushed first, as for the questions
chart). Days are UTC days; the window is the last ``days`` days up to and including today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import EngagementEvent, QuestionStat, Submission
from app.services.insights.dashboard import _day_start, _percent, _window
from app.services.insights.question_stats import flush
from app.services.siteconfig import SiteSnapshot, site_snapshot


@dataclass(frozen=True)
class FormHeadline:
    key: str
    title: str
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
    window = _window(days, now)
    start, end = _day_start(window[0]), _day_start(window[-1] + timedelta(days=1))
    counts = _question_counts(site, window[0], window[-1])
    submits = _submissions(site, start, end)
    titles = {key: form.title for key, form in site.forms.items()}
    keys = [*titles, *sorted((set(counts) | set(submits)) - set(titles))]
    forms = tuple(
        _form_headline(key, titles.get(key, f"{key} (removed)"), counts, submits) for key in keys
    )
    asked, answered = sum(f.asked for f in forms), sum(f.answered for f in forms)
    return Headlines(
        days=days,
        page_views=_page_views(site, start, end),
        asked=asked,
        submissions=sum(f.submissions for f in forms),
        answer_rate=_percent(answered, asked),
        forms=forms,
    )


def _form_headline(
    key: str, title: str, counts: dict[str, tuple[int, int, int]], submits: dict[str, int]
) -> FormHeadline:
    asked, answered, skipped = counts.get(key, (0, 0, 0))
    rate = _percent(answered, asked)
    return FormHeadline(key, title, asked, answered, skipped, submits.get(key, 0), rate)


def _question_counts(
    site: SiteSnapshot, first: date, last: date
) -> dict[str, tuple[int, int, int]]:
    """(shown, answered, skipped) per form key over the days ``first`` to ``last``."""
    return {
        row.form_key: (int(row.shown), int(row.answered), int(row.skipped))
        for row in db.session.execute(
            select(
                QuestionStat.form_key,
                func.sum(QuestionStat.shown).label("shown"),
                func.sum(QuestionStat.answered).label("answered"),
                func.sum(QuestionStat.skipped).label("skipped"),
            )
            .where(QuestionStat.site_id == site.id, QuestionStat.day.between(first, last))
            .group_by(QuestionStat.form_key)
        )
    }


def _submissions(site: SiteSnapshot, start: datetime, end: datetime) -> dict[str, int]:
    """Per form key, the submits stored from browsers: one submit's answers share their
    contact and time, so each (contact, time) counts once."""
    submits = (
        select(Submission.form_key, Submission.contact_id, Submission.created_at)
        .where(
            Submission.site_id == site.id,
            Submission.source == "browser",
            Submission.created_at >= start,
            Submission.created_at < end,
        )
        .distinct()
        .subquery()
    )
    return {
        key: int(count)
        for key, count in db.session.execute(
            select(submits.c.form_key, func.count()).group_by(submits.c.form_key)
        )
    }


def _page_views(site: SiteSnapshot, start: datetime, end: datetime) -> int:
    return (
        db.session.scalar(
            select(func.count()).where(
                EngagementEvent.site_id == site.id,
                EngagementEvent.kind == "page_view",
                EngagementEvent.counted.is_(True),
                EngagementEvent.occurred_at >= start,
                EngagementEvent.occurred_at < end,
            )
        )
        or 0
    )
