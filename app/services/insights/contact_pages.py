"""What the console shows of contacts: a searchable list and everything held on one person.

Read only: nothing here writes or commits. Scores come from the same domain function the
widget's rules use, so the console never disagrees with what decides which questions to ask.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, false, func, or_, select

from app.domain.engagement import distinct_events, summarize_engagement
from app.domain.specs import EventRecord, is_blank, is_storable_text
from app.extensions import db
from app.models import (
    AccountValue,
    Contact,
    EngagementEvent,
    ProfileValue,
    StageChange,
    Visitor,
)
from app.services.people import MAX_ROW_ID, PersonRecords, load_person_records
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
    overdue: bool = False  # only hand-offs past their follow-up window
    handoff_stage: str | None = None  # the site's hand-off stage (None: no such filter)
    followup_hours: int = 0


@dataclass(frozen=True)
class CurrentValue:
    key: str
    label: str
    value: Any
    form_key: str | None  # None for an account value (the account keeps no form)
    updated_at: datetime
    from_account: bool


@dataclass(frozen=True)
class HistoryEntry:
    value: Any
    previous_value: Any
    form_key: str
    created_at: datetime


@dataclass(frozen=True)
class FieldHistory:
    key: str
    label: str
    entries: tuple[HistoryEntry, ...]  # newest first


@dataclass(frozen=True)
class TimelineEvent:
    kind: str
    stage: str
    url: str | None
    content: str | None
    occurred_at: datetime
    counted: bool  # False for a repeat of an event id already counted


@dataclass(frozen=True)
class SkippedQuestion:
    key: str
    label: str
    form_key: str
    skipped_at: datetime


@dataclass(frozen=True)
class MergeRecord:
    merged_contact_id: int
    merged_at: datetime


@dataclass(frozen=True)
class StageMoveRecord:
    from_stage: str | None
    to_stage: str
    rule: str  # the rule that fired, as the config states it
    changed_at: datetime


@dataclass(frozen=True)
class ConsentEntry:
    key: str
    label: str
    granted: bool
    version: str | None
    form_key: str | None
    source: str  # form | visitor | api | admin
    actor: str | None
    recorded_at: datetime
    current: bool  # the field's newest record: its state now


@dataclass(frozen=True)
class ContactDetail:
    site_key: str
    summary: ContactRow
    account_domain: str | None
    created_at: datetime
    updated_at: datetime
    values: tuple[CurrentValue, ...]
    history: tuple[FieldHistory, ...]
    timeline: tuple[TimelineEvent, ...]
    skips: tuple[SkippedQuestion, ...]
    visitors: int
    merges: tuple[MergeRecord, ...]
    stage_moves: tuple[StageMoveRecord, ...] = ()
    consents: tuple[ConsentEntry, ...] = ()  # newest first


def list_contacts(
    site_key: str,
    query: str,
    page: int,
    per_page: int = 50,
    *,
    now: datetime,
    overdue: bool = False,
) -> ContactPage:
    """One page of the site's contacts, newest updated first; NotFound for an unknown site.

    ``query`` matches part of an email (any case) or, when it is a number, a contact id.
    ``overdue``: only contacts still on the hand-off stage (mql, not yet sql) who reached it
    more than ``followup_hours`` ago. A page past the end is the last page; one below 1 is
    the first.
    """
    site = site_snapshot(site_key)
    query = query.strip()
    matching = _matching(site, query)
    if overdue:
        matching = matching.where(_overdue(site, now))
    total = db.session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    contacts = db.session.scalars(
        matching.order_by(Contact.updated_at.desc(), Contact.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return ContactPage(
        _rows(site, contacts, now),
        query,
        page,
        pages,
        total,
        overdue,
        site.handoff_stage,
        site.followup_hours,
    )


def _overdue(site: SiteSnapshot, now: datetime) -> Any:
    """On the hand-off stage, reached before ``now`` less the follow-up window."""
    if site.handoff_stage is None:
        return false()
    reached = (
        select(func.max(StageChange.changed_at))
        .where(StageChange.contact_id == Contact.id, StageChange.to_stage == site.handoff_stage)
        .scalar_subquery()
    )
    return and_(
        Contact.lifecycle_stage == site.handoff_stage,
        reached <= now - timedelta(hours=site.followup_hours),
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


def _rows(site: SiteSnapshot, contacts: Sequence[Contact], now: datetime) -> tuple[ContactRow, ...]:
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
            AccountValue.account_id.in_({c.account_id for c in contacts} - {None})
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


def contact_detail(site_key: str, contact_id: int, *, now: datetime) -> ContactDetail:
    """Everything held on one contact, as the console shows it (configured fields only, newest
    first); NotFound for an unknown site or another site's contact."""
    site = site_snapshot(site_key)
    held = load_person_records(site, contact_id, sent=False)
    contact = held.contact
    (summary,) = _rows(site, [contact], now)
    return ContactDetail(
        site_key=site.key,
        summary=summary,
        account_domain=contact.account.domain if contact.account else None,
        created_at=contact.created_at,
        updated_at=contact.updated_at,
        values=_current_values(site, held),
        history=_history(site, held),
        timeline=_timeline(held),
        skips=tuple(
            SkippedQuestion(key, site.fields[key].label, s.form_key, s.skipped_at)
            for s in reversed(held.skips)
            if (key := site.keys_by_field_id.get(s.field_id))
        ),
        visitors=len(held.visitors),
        merges=tuple(MergeRecord(m.merged_contact_id, m.merged_at) for m in reversed(held.merges)),
        stage_moves=tuple(
            StageMoveRecord(
                m.from_stage,
                m.to_stage,
                json.dumps((m.rule or {}).get("when", {}), ensure_ascii=False, sort_keys=True),
                m.changed_at,
            )
            for m in held.stage_changes
        ),
        consents=_consents(site, held),
    )


def _consents(site: SiteSnapshot, held: PersonRecords) -> tuple[ConsentEntry, ...]:
    """Every consent given, refused or withdrawn (configured fields), newest first."""
    entries, seen = [], set()
    for row in reversed(held.consents):
        key = site.keys_by_field_id.get(row.field_id)
        if key is None:
            continue
        entries.append(
            ConsentEntry(
                key,
                site.fields[key].label,
                row.granted,
                row.version,
                row.form_key,
                row.source,
                row.actor,
                row.recorded_at,
                key not in seen,
            )
        )
        seen.add(key)
    return tuple(entries)


def _current_values(site: SiteSnapshot, held: PersonRecords) -> tuple[CurrentValue, ...]:
    """One row per active field that holds a value, in field order; own values over the account's."""
    by_id = site.keys_by_field_id
    own = {by_id[row.field_id]: row for row in held.profile if row.field_id in by_id}
    shared = {
        by_id[row.field_id]: row
        for row in held.account_values
        if row.field_id in by_id and row.account_id == held.contact.account_id
    }
    values = []
    for key, view in site.fields.items():
        if key in own:
            row = own[key]
            values.append(
                CurrentValue(key, view.label, row.value, row.form_key, row.updated_at, False)
            )
        elif view.rule.scope == "account" and key in shared:
            row = shared[key]
            values.append(CurrentValue(key, view.label, row.value, None, row.updated_at, True))
    return tuple(values)


def _history(site: SiteSnapshot, held: PersonRecords) -> tuple[FieldHistory, ...]:
    """The submissions behind each active field, newest first, fields in their site order."""
    entries: dict[int, list[HistoryEntry]] = {}
    for s in reversed(held.submissions):
        entries.setdefault(s.field_id, []).append(
            HistoryEntry(s.value, s.previous_value, s.form_key, s.created_at)
        )
    return tuple(
        FieldHistory(key, view.label, tuple(entries[view.id]))
        for key, view in site.fields.items()
        if view.id in entries
    )


def _timeline(held: PersonRecords) -> tuple[TimelineEvent, ...]:
    """The engagement events, newest first, each marked whether the score counts it."""
    records = [EventRecord(r.kind, r.stage, r.occurred_at, r.external_id) for r in held.events]
    counted = _counted(records)  # oldest first: a tie keeps the earlier row
    return tuple(
        TimelineEvent(r.kind, r.stage, r.url, r.content, r.occurred_at, id(record) in counted)
        for r, record in reversed(list(zip(held.events, records, strict=True)))
    )


def _counted(records: Iterable[EventRecord]) -> set[int]:
    """Identities of the records the score counts (the domain keeps the very objects given)."""
    return {id(record) for record in distinct_events(records)}
