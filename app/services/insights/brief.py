"""The brief a rep reads before the call: who the contact is, their company, their answers in
the words they saw, why they qualified, the hand-off's service level, the outcomes so far and
what they and their colleagues did lately (docs/console.md, "The brief").

Read only: nothing here writes or commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from app.domain.wording import answer_text, rule_words
from app.extensions import db
from app.models import Contact, EngagementEvent, StageChange, Submission
from app.services.insights.contact_list import ANONYMOUS
from app.services.insights.queue import QueueRow, open_handoff, person_names, queue_row
from app.services.insights.trust import CurrentValue, current_values
from app.services.people import PersonRecords, load_person_records
from app.services.siteconfig import SiteSnapshot, site_snapshot

ACTIVITY_LIMIT = 20


@dataclass(frozen=True)
class BriefAnswer:
    label: str  # the question as the visitor read it
    text: str  # the answer, options by their labels
    updated_at: datetime


@dataclass(frozen=True)
class OutcomeEntry:
    kind: str
    reason: str | None
    note: str | None
    by: str
    occurred_at: datetime
    stage_move: str | None  # "mql → sal", when the outcome moved the stage


@dataclass(frozen=True)
class ActivityEntry:
    who: str  # the person's email (or "Anonymous #7")
    own: bool  # the brief's contact, not a colleague
    what: str  # "webinar", "answered “Company size”"
    detail: str | None  # what they read or answered
    occurred_at: datetime


@dataclass(frozen=True)
class ContactBrief:
    site_key: str
    contact_id: int
    email: str
    name: str | None
    company: str | None
    account_domain: str | None
    stage: str | None
    answers: tuple[BriefAnswer, ...]  # the person's own, in field order
    account_answers: tuple[BriefAnswer, ...]  # their company's: account fields' values
    qualified: tuple[str, ...]  # why they reached the hand-off stage, one line per condition
    qualified_at: datetime | None
    handoff: QueueRow | None  # the open hand-off with its service level
    outcomes: tuple[OutcomeEntry, ...]  # newest first
    activity: tuple[ActivityEntry, ...]  # newest first, at most ACTIVITY_LIMIT


def contact_brief(site_key: str, contact_id: int, *, now: datetime) -> ContactBrief:
    """The brief on one contact; NotFound for an unknown site, or a contact of another site."""
    site = site_snapshot(site_key)
    held = load_person_records(site, contact_id, sent=False)
    contact = held.contact
    values = current_values(site, held)
    handoff = open_handoff(site.id, contact.id)
    name, company = person_names(site, [contact])[contact.id]
    move = _qualifying_move(site, held)
    return ContactBrief(
        site_key=site.key,
        contact_id=contact.id,
        email=contact.email or ANONYMOUS,
        name=name,
        company=company,
        account_domain=contact.account.domain if contact.account else None,
        stage=contact.lifecycle_stage,
        answers=_answers(site, [v for v in values if not _about_company(site, v)]),
        account_answers=_answers(site, [v for v in values if _about_company(site, v)]),
        qualified=_why(site, move) if move else (),
        qualified_at=move.changed_at if move else None,
        handoff=queue_row(site, handoff, contact, now) if handoff else None,
        outcomes=tuple(
            OutcomeEntry(
                o.kind,
                o.reason,
                o.note,
                o.by,
                o.occurred_at,
                f"{o.from_stage or '—'} → {o.to_stage}" if o.to_stage else None,
            )
            for o in reversed(held.sales_outcomes)
        ),
        activity=_activity(site, contact),
    )


def _about_company(site: SiteSnapshot, value: CurrentValue) -> bool:
    """An account field's value (whoever of the company gave it), or one only the account
    holds: the Company card's, not the person's."""
    return value.from_account or site.fields[value.key].rule.scope == "account"


def _answers(site: SiteSnapshot, values: list[CurrentValue]) -> tuple[BriefAnswer, ...]:
    return tuple(
        BriefAnswer(v.label, answer_text(v.value, site.fields[v.key].options), v.updated_at)
        for v in values
    )


def _qualifying_move(site: SiteSnapshot, held: PersonRecords) -> StageChange | None:
    """The latest move to the hand-off stage; without one, the latest move."""
    moves = list(reversed(held.stage_changes))
    return next((m for m in moves if m.to_stage == site.handoff_stage), moves[0] if moves else None)


def _why(site: SiteSnapshot, move: StageChange) -> tuple[str, ...]:
    return rule_words(move.rule, site.field_labels, site.field_options)


def _activity(site: SiteSnapshot, contact: Contact) -> tuple[ActivityEntry, ...]:
    """The newest events and answers of the contact and of everyone of its account."""
    same = Contact.id == contact.id
    if contact.account_id is not None:
        same = or_(same, Contact.account_id == contact.account_id)
    people = select(Contact.id, Contact.email).where(Contact.site_id == site.id, same)
    who = {row.id: row.email or f"Anonymous #{row.id}" for row in db.session.execute(people)}
    ids = people.with_only_columns(Contact.id).scalar_subquery()
    entries = [
        ActivityEntry(
            who[e.contact_id],
            e.contact_id == contact.id,
            e.kind,
            e.content or e.url,
            e.occurred_at,
        )
        for e in db.session.scalars(
            select(EngagementEvent)
            .where(EngagementEvent.contact_id.in_(ids))
            .order_by(EngagementEvent.occurred_at.desc(), EngagementEvent.id.desc())
            .limit(ACTIVITY_LIMIT)
        )
    ]
    for s in db.session.scalars(
        select(Submission)
        .where(
            Submission.contact_id.in_(ids),
            Submission.field_id.in_(list(site.keys_by_field_id)),
        )
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(ACTIVITY_LIMIT)
    ):
        view = site.fields[site.keys_by_field_id[s.field_id]]
        entries.append(
            ActivityEntry(
                who[s.contact_id],
                s.contact_id == contact.id,
                f"answered “{view.label}”",
                answer_text(s.value, view.options),
                s.created_at,
            )
        )
    entries.sort(key=lambda entry: entry.occurred_at, reverse=True)  # stable: ties keep order
    return tuple(entries[:ACTIVITY_LIMIT])
