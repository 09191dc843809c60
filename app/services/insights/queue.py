"""The sales console's hand-off queue: a site's contacts handed to sales and not yet closed,
the most urgent first, each with its service level in words (docs/console.md).

Read only: nothing here writes or commits. The hand-off rows are opened, touched and closed
by the stage moves and outcomes that cause them; this only reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select

from app.domain.sla import SLA_ORDER, sla_status, time_left_words
from app.domain.wording import answer_text
from app.extensions import db
from app.models import SALES_TEAM, AccountValue, Contact, Handoff, ProfileValue, Site
from app.services.insights.contact_list import ANONYMOUS
from app.services.siteconfig import SiteSnapshot, site_snapshot

# Fields that name the person and their company, where a site has them (their values joined).
NAME_FIELDS: tuple[str, ...] = ("name", "full_name", "first_name", "last_name")
COMPANY_FIELDS: tuple[str, ...] = ("company", "company_name", "organization")


@dataclass(frozen=True)
class QueueRow:
    contact_id: int
    email: str  # the email, or "Anonymous"
    name: str | None
    company: str | None  # the company field's answer, else the account's domain
    stage: str | None  # the contact's stage now
    handed_off_at: datetime
    due_at: datetime | None
    status: str  # sla_status's word
    time_left: str  # time_left_words
    touched_at: datetime | None
    touched_by: str | None
    touch_kind: str | None
    hot: bool  # hot activity reported since the hand-off (contacts.engaged_at)


@dataclass(frozen=True)
class HandoffQueue:
    site_key: str
    rows: tuple[QueueRow, ...]
    page: int  # the page shown: a requested page past the end shows the last one
    pages: int  # at least 1, even with no rows
    total: int
    reasons: tuple[str, ...]  # the agreed rejection_reasons; empty: any reason is taken


@dataclass(frozen=True)
class SiteQueue:
    key: str
    name: str
    waiting: int  # open sales hand-offs
    breached: int  # of which past their due time untouched, or touched late


def handoff_queue(site_key: str, page: int, per_page: int = 50, *, now: datetime) -> HandoffQueue:
    """One page of the site's open sales hand-offs, in ``SLA_ORDER`` (late first, the most
    overdue first; then the soonest due; then those touched in time; no window last, oldest
    first); NotFound for an unknown site."""
    site = site_snapshot(site_key)
    waiting = _open_sales(site.id)
    total = db.session.scalar(select(func.count()).select_from(waiting.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    found = db.session.execute(
        waiting.add_columns(Contact)
        .join(Contact, Contact.id == Handoff.contact_id)
        .order_by(_rank(now), Handoff.due_at, Handoff.started_at, Handoff.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    names = person_names(site, [contact for _, contact in found])
    rows = tuple(_row(site, handoff, contact, names, now) for handoff, contact in found)
    reasons = tuple((site.sales_outcomes or {}).get("rejection_reasons") or ())
    return HandoffQueue(site.key, rows, page, pages, total, reasons)


def open_handoff(site_id: int, contact_id: int) -> Handoff | None:
    """The contact's open hand-off (sales' or marketing's), if any."""
    return db.session.scalar(
        select(Handoff).where(
            Handoff.site_id == site_id,
            Handoff.contact_id == contact_id,
            Handoff.closed_at.is_(None),
        )
    )


def contact_label(site_key: str, contact_id: int) -> str:
    """How the queue names a contact in a confirmation: its email, or "contact #7"."""
    email = db.session.scalar(
        select(Contact.email)
        .join(Site, Site.id == Contact.site_id)
        .where(Site.key == site_key, Contact.id == contact_id)
    )
    return email or f"contact #{contact_id}"


def site_queues(now: datetime) -> list[SiteQueue]:
    """Every site, by name, with its open sales hand-offs and how many of them are late."""
    late = or_(
        Handoff.touched_at > Handoff.due_at,
        and_(Handoff.touched_at.is_(None), Handoff.due_at < now),
    )
    counts = {
        site_id: (waiting, breached or 0)
        for site_id, waiting, breached in db.session.execute(
            _open_sales(None)
            .with_only_columns(Handoff.site_id, func.count(), func.sum(case((late, 1), else_=0)))
            .group_by(Handoff.site_id)
        )
    }
    return [
        SiteQueue(key, name, *counts.get(site_id, (0, 0)))
        for site_id, key, name in db.session.execute(
            select(Site.id, Site.key, Site.name).order_by(Site.name)
        )
    ]


def _open_sales(site_id: int | None) -> Select[tuple[Handoff]]:
    query = select(Handoff).where(Handoff.team == SALES_TEAM, Handoff.closed_at.is_(None))
    return query if site_id is None else query.where(Handoff.site_id == site_id)


def _rank(now: datetime) -> ColumnElement[int]:
    """``SLA_ORDER``'s rank of each row's ``sla_status``, in SQL, so the database can page."""
    rank = {status: position for position, status in enumerate(SLA_ORDER)}
    touched = Handoff.touched_at.is_not(None)
    return case(
        (Handoff.due_at.is_(None), rank["no window"]),
        (and_(touched, Handoff.touched_at <= Handoff.due_at), rank["met"]),
        (or_(touched, Handoff.due_at < now), rank["breached"]),
        else_=rank["due"],
    )


def queue_row(site: SiteSnapshot, handoff: Handoff, contact: Contact, now: datetime) -> QueueRow:
    """One contact's hand-off as the queue shows it."""
    return _row(site, handoff, contact, person_names(site, [contact]), now)


def _row(
    site: SiteSnapshot,
    handoff: Handoff,
    contact: Contact,
    names: dict[int, tuple[str | None, str | None]],
    now: datetime,
) -> QueueRow:
    name, company = names[contact.id]
    return QueueRow(
        contact_id=contact.id,
        email=contact.email or ANONYMOUS,
        name=name,
        company=company,
        stage=contact.lifecycle_stage,
        handed_off_at=handoff.started_at,
        due_at=handoff.due_at,
        status=sla_status(handoff.due_at, handoff.touched_at, now),
        time_left=time_left_words(handoff.due_at, handoff.touched_at, now),
        touched_at=handoff.touched_at,
        touched_by=handoff.touched_by,
        touch_kind=handoff.touch_kind,
        hot=is_hot(site, handoff, contact, now),
    )


def is_hot(site: SiteSnapshot, handoff: Handoff, contact: Contact, now: datetime) -> bool:
    """Hot activity was reported for the contact since its hand-off began, within the site's
    ``hot_activity`` window (a site that names no hot activity any more shows none)."""
    told, hot = contact.engaged_at, site.hot_activity
    return (
        told is not None and hot is not None and told >= max(handoff.started_at, now - hot.window)
    )


def person_names(
    site: SiteSnapshot, contacts: Sequence[Contact]
) -> dict[int, tuple[str | None, str | None]]:
    """Each contact's name and company, from the fields that say them (own values, or the
    account's for an account field), in one query each; the company falls back to the
    account's domain."""
    fields = {
        site.fields[key].id: key for key in (*NAME_FIELDS, *COMPANY_FIELDS) if key in site.fields
    }
    own: dict[int, dict[str, str]] = {}
    shared: dict[int, dict[str, str]] = {}
    if fields:
        for row in db.session.scalars(
            select(ProfileValue).where(
                ProfileValue.contact_id.in_([c.id for c in contacts]),
                ProfileValue.field_id.in_(fields),
            )
        ):
            own.setdefault(row.contact_id, {})[fields[row.field_id]] = _text(site, fields, row)
        for row in db.session.scalars(
            select(AccountValue).where(
                AccountValue.account_id.in_([c.account_id for c in contacts if c.account_id]),
                AccountValue.field_id.in_(fields),
            )
        ):
            shared.setdefault(row.account_id, {})[fields[row.field_id]] = _text(site, fields, row)
    named = {}
    for contact in contacts:
        values = {**shared.get(contact.account_id or 0, {}), **own.get(contact.id, {})}
        name = " ".join(values[key] for key in NAME_FIELDS if values.get(key)) or None
        company = next((values[key] for key in COMPANY_FIELDS if values.get(key)), None)
        domain = contact.account.domain if contact.account else None
        named[contact.id] = (name, company or domain)
    return named


def _text(site: SiteSnapshot, fields: dict[int, str], row: ProfileValue | AccountValue) -> str:
    return answer_text(row.value, site.fields[fields[row.field_id]].options)
