"""What the console shows of one contact: everything held on them, from
``people.load_person_records``, configured fields only, newest first.

Read only: nothing here writes or commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.domain.engagement import distinct_events
from app.domain.sla import SlaView, sla_view
from app.domain.specs import EventRecord
from app.domain.wording import Options, rule_words
from app.models import Handoff, SalesOutcome
from app.services.insights.contact_list import ContactRow, contact_rows
from app.services.insights.trust import (
    BrowserEntry,
    CurrentValue,
    browser_entries,
    browser_label,
    current_values,
    value_trust,
)
from app.services.people import PersonRecords, load_person_records
from app.services.siteconfig import SiteSnapshot, site_snapshot


@dataclass(frozen=True)
class HistoryEntry:
    value: Any
    previous_value: Any
    form_key: str
    created_at: datetime
    browser: str | None  # "Browser 2"; None when no browser of the person's gave it
    trust: str  # value_trust's word for the answer when it was given
    applied: bool  # False: a claim that did not replace another's value


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
    why: tuple[str, ...]  # the rule that fired, in words, one line per condition
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
    browsers: tuple[BrowserEntry, ...]  # oldest first
    merges: tuple[MergeRecord, ...]
    stage_moves: tuple[StageMoveRecord, ...] = ()
    consents: tuple[ConsentEntry, ...] = ()  # newest first
    handoffs: tuple[HandoffRecord, ...] = ()  # newest first
    outcomes: tuple[SalesOutcome, ...] = ()  # newest first
    # Each choice field's options, (value, label): answers are shown in the visitor's words.
    options: Mapping[str, Options] = field(default_factory=dict)


@dataclass(frozen=True)
class HandoffRecord:
    """A hand-off with where its SLA stands now."""

    row: Handoff
    sla: SlaView


def contact_detail(site_key: str, contact_id: int, *, now: datetime) -> ContactDetail:
    """Everything held on one contact, as the console shows it (configured fields only, newest
    first); NotFound for an unknown site or another site's contact."""
    site = site_snapshot(site_key)
    held = load_person_records(site, contact_id, sent=False)
    contact = held.contact
    (summary,) = contact_rows(site, [contact], now)
    return ContactDetail(
        site_key=site.key,
        summary=summary,
        account_domain=contact.account.domain if contact.account else None,
        created_at=contact.created_at,
        updated_at=contact.updated_at,
        values=current_values(site, held),
        history=_history(site, held),
        timeline=_timeline(held),
        skips=tuple(
            SkippedQuestion(key, site.fields[key].label, s.form_key, s.skipped_at)
            for s in reversed(held.skips)
            if (key := site.keys_by_field_id.get(s.field_id))
        ),
        browsers=browser_entries(held),
        merges=tuple(MergeRecord(m.merged_contact_id, m.merged_at) for m in reversed(held.merges)),
        stage_moves=tuple(
            StageMoveRecord(
                m.from_stage,
                m.to_stage,
                rule_words(m.rule, site.field_labels, site.field_options),
                m.changed_at,
            )
            for m in held.stage_changes
        ),
        consents=_consents(site, held),
        handoffs=tuple(
            HandoffRecord(h, sla_view(h.due_at, h.touched_at, now)) for h in reversed(held.handoffs)
        ),
        outcomes=tuple(reversed(held.sales_outcomes)),
        options=site.field_options,
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


def _history(site: SiteSnapshot, held: PersonRecords) -> tuple[FieldHistory, ...]:
    """The submissions behind each active field, newest first, fields in their site order;
    each with the browser that gave it and its trust, claims that replaced nothing marked."""
    entries: dict[int, list[HistoryEntry]] = {}
    for s in reversed(held.submissions):
        entries.setdefault(s.field_id, []).append(
            HistoryEntry(
                s.value,
                s.previous_value,
                s.form_key,
                s.created_at,
                browser_label(held, s.visitor_id),
                value_trust(s.source, s.verified),
                s.applied,
            )
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
