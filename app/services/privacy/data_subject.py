"""Data-subject requests: everything held on one person, and erasing it.

The access report reads the tables directly, fields that have left the config included: it
is what the database holds, not what the console happens to show.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.domain.engagement import summarize_engagement
from app.domain.specs import iso, iso_or_none
from app.extensions import db
from app.models import (
    AccountValue,
    ConsentRecord,
    ContactErasure,
    ContactMerge,
    Delivery,
    Destination,
    EngagementEvent,
    Field,
    ProfileValue,
    Skip,
    StageChange,
    Submission,
    Visitor,
)
from app.services.people import contact_events, site_contact
from app.services.privacy.erasure import REQUEST, erase_contacts
from app.services.siteconfig import SiteSnapshot, site_snapshot
from app.services.transactions import commit_unit


def subject_access(site_key: str, contact_id: int, now: datetime) -> dict[str, Any]:
    """Everything held on contact ``contact_id`` as JSON-ready data; NotFound (404) for an
    unknown id or another site's contact."""
    site = site_snapshot(site_key)
    contact = site_contact(site, contact_id)
    engagement = summarize_engagement(
        contact_events(contact.id), site.weights, now, site.half_life_days
    )
    browsers = _visitors(contact.id)
    visitors = {v.id: v.public_id for v in browsers}
    return {
        "contact": {
            "id": contact.id,
            "site": site.key,
            "email": contact.email,
            "stage": contact.lifecycle_stage,
            "account_domain": contact.account.domain if contact.account else None,
            "created_at": iso(contact.created_at),
            "updated_at": iso(contact.updated_at),
        },
        "profile": _profile(contact.id, visitors),
        "account_values_given": _account_values(contact.id),
        "history": _history(contact.id, visitors),
        "events": _events(contact.id, visitors),
        "engagement": {
            "score": round(engagement.score, 2),
            "events": len(engagement.event_times),
            "reached_stage": engagement.reached_stage,
        },
        "consents": _consents(contact.id, visitors),
        "stage_changes": _stage_changes(contact.id),
        "skips": _skips(contact.id),
        "visitors": [
            {"id": v.public_id, "first_seen": iso(v.created_at), "last_seen": iso(v.last_seen_at)}
            for v in browsers
        ],
        "merged_contacts": _merges(contact.id),
        "deliveries": _deliveries(site, contact.id),
        "generated_at": iso(now),
    }


def _visitors(contact_id: int) -> list[Visitor]:
    return list(
        db.session.scalars(
            select(Visitor).where(Visitor.contact_id == contact_id).order_by(Visitor.id)
        )
    )


def _profile(contact_id: int, visitors: dict[int, str]) -> dict[str, Any]:
    rows = db.session.execute(
        select(Field.key, ProfileValue)
        .join(Field, Field.id == ProfileValue.field_id)
        .where(ProfileValue.contact_id == contact_id)
        .order_by(Field.position, Field.key)
    )
    return {
        key: {
            "value": row.value,
            "updated_at": iso(row.updated_at),
            "form": row.form_key,
            "visitor": visitors.get(row.visitor_id) if row.visitor_id else None,
        }
        for key, row in rows
    }


def _account_values(contact_id: int) -> dict[str, Any]:
    """Company values this person was the last to give (they stay with the account)."""
    rows = db.session.execute(
        select(Field.key, AccountValue)
        .join(Field, Field.id == AccountValue.field_id)
        .where(AccountValue.contact_id == contact_id)
        .order_by(Field.position, Field.key)
    )
    return {key: {"value": row.value, "updated_at": iso(row.updated_at)} for key, row in rows}


def _history(contact_id: int, visitors: dict[int, str]) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Field.key, Submission)
        .join(Field, Field.id == Submission.field_id)
        .where(Submission.contact_id == contact_id)
        .order_by(Submission.created_at, Submission.id)
    )
    return [
        {
            "field": key,
            "value": row.value,
            "previous_value": row.previous_value,
            "form": row.form_key,
            "visitor": visitors.get(row.visitor_id) if row.visitor_id else None,
            "at": iso(row.created_at),
        }
        for key, row in rows
    ]


def _events(contact_id: int, visitors: dict[int, str]) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(EngagementEvent)
        .where(EngagementEvent.contact_id == contact_id)
        .order_by(EngagementEvent.occurred_at, EngagementEvent.id)
    )
    return [
        {
            "kind": row.kind,
            "stage": row.stage,
            "id": row.external_id,
            "url": row.url,
            "content": row.content,
            "visitor": visitors.get(row.visitor_id) if row.visitor_id else None,
            "at": iso(row.occurred_at),
        }
        for row in rows
    ]


def _consents(contact_id: int, visitors: dict[int, str]) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Field.key, ConsentRecord)
        .join(Field, Field.id == ConsentRecord.field_id)
        .where(ConsentRecord.contact_id == contact_id)
        .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
    )
    return [
        {
            "field": key,
            "granted": row.granted,
            "text": row.text,
            "version": row.version,
            "form": row.form_key,
            "visitor": visitors.get(row.visitor_id) if row.visitor_id else None,
            "source": row.source,
            "by": row.actor,
            "at": iso(row.recorded_at),
        }
        for key, row in rows
    ]


def _stage_changes(contact_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(StageChange)
        .where(StageChange.contact_id == contact_id)
        .order_by(StageChange.changed_at, StageChange.id)
    )
    return [
        {"from": r.from_stage, "to": r.to_stage, "rule": r.rule, "at": iso(r.changed_at)}
        for r in rows
    ]


def _skips(contact_id: int) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Field.key, Skip)
        .join(Field, Field.id == Skip.field_id)
        .where(Skip.contact_id == contact_id)
        .order_by(Skip.skipped_at, Skip.id)
    )
    return [{"field": key, "form": row.form_key, "at": iso(row.skipped_at)} for key, row in rows]


def _merges(contact_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(ContactMerge)
        .where(ContactMerge.survivor_id == contact_id)
        .order_by(ContactMerge.merged_at, ContactMerge.id)
    )
    return [{"contact_id": r.merged_contact_id, "at": iso(r.merged_at)} for r in rows]


def _deliveries(site: SiteSnapshot, contact_id: int) -> list[dict[str, Any]]:
    """Every webhook that carried this person's data, with the exact body sent."""
    merged = select(ContactMerge.merged_contact_id).where(ContactMerge.survivor_id == contact_id)
    rows = db.session.execute(
        select(Destination.key, Delivery)
        .join(Destination, Destination.id == Delivery.destination_id)
        .where(
            Delivery.site_id == site.id,
            (Delivery.contact_id == contact_id) | Delivery.contact_id.in_(merged),
        )
        .order_by(Delivery.created_at, Delivery.id)
    )
    return [
        {
            "destination": key,
            "event": row.event_type,
            "webhook_id": row.message_id,
            "status": row.status,
            "attempts": row.attempts,
            "created_at": iso(row.created_at),
            "delivered_at": iso_or_none(row.delivered_at),
            "body": json.loads(bytes(row.body)),
        }
        for key, row in rows
    ]


def erase_contact(
    site_key: str, contact_id: int, *, requested_by: str, now: datetime
) -> dict[str, Any]:
    """Erase contact ``contact_id`` on request; NotFound (404) for an unknown id or another
    site's contact. Returns the erasure record as the API shows it."""
    site = site_snapshot(site_key)

    def work() -> dict[str, Any]:
        site_contact(site, contact_id)
        report = erase_contacts(
            site, [contact_id], reason=REQUEST, requested_by=requested_by, now=now
        )
        return {
            "contact_id": contact_id,
            "erased_at": iso(now),
            "removed": report.removed,
            "notified": report.notified.get(contact_id, []),
        }

    return commit_unit(work)


def erasures(site_key: str, limit: int = 50) -> list[ContactErasure]:
    """The site's latest erasure records, newest first (the console's list)."""
    site = site_snapshot(site_key)
    return list(
        db.session.scalars(
            select(ContactErasure)
            .where(ContactErasure.site_id == site.id)
            .order_by(ContactErasure.erased_at.desc(), ContactErasure.id.desc())
            .limit(limit)
        )
    )
