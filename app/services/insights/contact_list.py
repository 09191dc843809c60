"""What the console shows of contacts: a searchable list, its rows (score, completeness, last
seen) and the events behind the scores.

Read only: nothing here writes or commits. Scores come from the same domain function the
widget's rules use, so the console never disagrees with what decides which questions to ask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select

from app.domain.engagement import summarize_engagement
from app.domain.specs import EventRecord, is_blank, is_storable_text
from app.extensions import db
from app.models import (
    MARKETING_TEAM,
    SALES_TEAM,
    AccountValue,
    Contact,
    EngagementEvent,
    ProfileValue,
    Visitor,
)
from app.services.people import MAX_ROW_ID
from app.services.sales import overdue_for_marketing, overdue_for_sales
from app.services.siteconfig import SiteSnapshot, site_snapshot

ANONYMOUS = "Anonymous"


@dataclass(frozen=True)
class ContactRow:
    id: int
    email: str  # the email, or "Anonymous"
    stage: str | None
    score: float
    completeness: int  # percent of the site's active fields known (own or account value)
    last_seen: datetime | None


@dataclass(frozen=True)
class ContactPage:
    rows: tuple[ContactRow, ...]
    query: str
    page: int  # the page shown: a requested page past the end shows the last one
    pages: int  # at least 1, even with no rows
    total: int
    # "sales": only hand-offs to sales past their window untouched; "marketing": only recycled
    # contacts past ``recycle_followup_days`` without a marketing touch; "": everyone.
    overdue: str = ""
    handoff_stage: str | None = None  # the site's hand-off stage (None: no such filter)
    followup_hours: int = 0
    recycle_followup_days: int | None = None  # the reverse SLA's window (None: none agreed)


def list_contacts(
    site_key: str,
    query: str,
    page: int,
    per_page: int = 50,
    *,
    now: datetime,
    overdue: str = "",
) -> ContactPage:
    """One page of the site's contacts, newest updated first; NotFound for an unknown site.

    ``query`` matches part of an email (any case) or, when it is a number, a contact id.
    ``overdue``: "sales", only contacts handed to sales whose first sales touch did not come
    within the window (``followup_hours``) and who are still on the queue; "marketing", only
    contacts sales recycled that marketing did not touch within ``recycle_followup_days``. A page past the end is the last page; one below 1 is
    the first.
    """
    site = site_snapshot(site_key)
    query = query.strip()
    matching = _matching(site, query)
    if overdue == SALES_TEAM:
        matching = matching.where(overdue_for_sales(now))
    elif overdue == MARKETING_TEAM:
        matching = matching.where(overdue_for_marketing(now))
    total = db.session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    contacts = db.session.scalars(
        matching.order_by(Contact.updated_at.desc(), Contact.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return ContactPage(
        contact_rows(site, contacts, now),
        query,
        page,
        pages,
        total,
        overdue,
        site.handoff_stage,
        site.followup_hours,
        (site.sales_outcomes or {}).get("recycle_followup_days"),
    )


def _matching(site: SiteSnapshot, query: str) -> Select[tuple[Contact]]:
    contacts = select(Contact).where(Contact.site_id == site.id)
    if not query:
        return contacts
    if not is_storable_text(query):
        return contacts.where(False)
    match = Contact.email.icontains(query, autoescape=True)
    # Contact ids are 32-bit integers on PostgreSQL: a larger number names nobody.
    if query.isdigit() and int(query) <= MAX_ROW_ID:
        match = or_(match, Contact.id == int(query))
    return contacts.where(match)


def contact_rows(
    site: SiteSnapshot, contacts: Sequence[Contact], now: datetime
) -> tuple[ContactRow, ...]:
    """Score, completeness and last seen for ``contacts``, in one query each."""
    ids = [contact.id for contact in contacts]
    events = events_by_contact(ids)
    known = _known_keys(site, contacts)
    seen = dict(
        db.session.execute(
            select(Visitor.contact_id, func.max(Visitor.last_seen_at))
            .where(Visitor.contact_id.in_(ids))
            .group_by(Visitor.contact_id)
        ).all()
    )
    return tuple(
        _row(
            site, contact, events.get(contact.id, []), known[contact.id], seen.get(contact.id), now
        )
        for contact in contacts
    )


def _row(
    site: SiteSnapshot,
    contact: Contact,
    events: list[EventRecord],
    known: set[str],
    last_seen: datetime | None,
    now: datetime,
) -> ContactRow:
    score = summarize_engagement(events, site.weights, now, site.half_life_days).score
    active = len(site.fields)
    return ContactRow(
        id=contact.id,
        email=contact.email or ANONYMOUS,
        stage=contact.lifecycle_stage,
        score=score,
        completeness=len(known) * 100 // active if active else 0,
        last_seen=last_seen,
    )


# What the domain's EventRecord needs of an event, after its contact id.
EVENT_RECORD_COLUMNS = (
    EngagementEvent.contact_id,
    EngagementEvent.kind,
    EngagementEvent.stage,
    EngagementEvent.occurred_at,
    EngagementEvent.external_id,
)


def events_by_contact(ids: list[int]) -> dict[int, list[EventRecord]]:
    """The engagement events of the contacts ``ids``, as the domain's records, by contact."""
    rows = db.session.execute(
        select(*EVENT_RECORD_COLUMNS).where(EngagementEvent.contact_id.in_(ids))
    )
    events: dict[int, list[EventRecord]] = {}
    for r in rows:
        record = EventRecord(r.kind, r.stage, r.occurred_at, r.external_id)
        events.setdefault(r.contact_id, []).append(record)
    return events


def _known_keys(site: SiteSnapshot, contacts: Sequence[Contact]) -> dict[int, set[str]]:
    """Per contact, the active fields with a non-blank value: its own, or its account's."""
    by_id = site.keys_by_field_id
    own = db.session.execute(
        select(ProfileValue.contact_id, ProfileValue.field_id, ProfileValue.value).where(
            ProfileValue.contact_id.in_([c.id for c in contacts])
        )
    )
    shared = db.session.execute(
        select(AccountValue.account_id, AccountValue.field_id, AccountValue.value).where(
            AccountValue.account_id.in_({c.account_id for c in contacts} - {None}),
            AccountValue.trusted.is_(True),  # a candidate is known only to whoever gave it
        )
    )
    account_keys: dict[int, set[str]] = {}
    for r in shared:
        key = by_id.get(r.field_id)
        if key and site.fields[key].rule.scope == "account" and not is_blank(r.value):
            account_keys.setdefault(r.account_id, set()).add(key)
    known = {c.id: set(account_keys.get(c.account_id, ())) for c in contacts}
    for r in own:
        if r.field_id in by_id and not is_blank(r.value):
            known[r.contact_id].add(by_id[r.field_id])
    return known
