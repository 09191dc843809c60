"""Data-subject requests: everything held on one person, and erasing it.

The access report presents ``people.load_person_records`` (the console's contact page reads
the same), fields that have left the config included: it is what the database holds, not what
the console happens to show.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.domain.engagement import summarize_engagement
from app.domain.specs import EventRecord, iso, iso_or_none
from app.extensions import db
from app.models import ContactErasure
from app.services.people import load_person_records, site_contact
from app.services.privacy.erasure import REQUEST, erase_contacts
from app.services.sales import handoff_view, outcome_view
from app.services.siteconfig import site_snapshot
from app.services.transactions import commit_unit


def subject_access(site_key: str, contact_id: int, now: datetime) -> dict[str, Any]:
    """Everything held on contact ``contact_id`` as JSON-ready data; NotFound (404) for an
    unknown id or another site's contact."""
    site = site_snapshot(site_key)
    held = load_person_records(site, contact_id)
    contact, key, browser = held.contact, held.field_keys.get, held.visitor_public_id
    engagement = summarize_engagement(
        [EventRecord(e.kind, e.stage, e.occurred_at, e.external_id) for e in held.events],
        site.weights,
        now,
        site.half_life_days,
    )
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
        "profile": {
            key(row.field_id): {
                "value": row.value,
                "updated_at": iso(row.updated_at),
                "form": row.form_key,
                "visitor": browser(row.visitor_id),
                "source": row.source,
                "verified": row.verified,
            }
            for row in held.profile
        },
        # Company values this person was the last to give (they stay with the account).
        "account_values_given": {
            key(row.field_id): {
                "value": row.value,
                "updated_at": iso(row.updated_at),
                "trusted": row.trusted,
            }
            for row in held.account_values
            if row.contact_id == contact.id
        },
        "history": [
            {
                "field": key(row.field_id),
                "value": row.value,
                "previous_value": row.previous_value,
                "form": row.form_key,
                "visitor": browser(row.visitor_id),
                "source": row.source,
                "verified": row.verified,
                "applied": row.applied,
                "at": iso(row.created_at),
            }
            for row in held.submissions
        ],
        "events": [
            {
                "kind": row.kind,
                "stage": row.stage,
                "id": row.external_id,
                "url": row.url,
                "content": row.content,
                "visitor": browser(row.visitor_id),
                "at": iso(row.occurred_at),
            }
            for row in held.events
        ],
        "engagement": {
            "score": round(engagement.score, 2),
            "events": len(engagement.event_times),
            "reached_stage": engagement.reached_stage,
        },
        "consents": [
            {
                "field": key(row.field_id),
                "granted": row.granted,
                "text": row.text,
                "version": row.version,
                "form": row.form_key,
                "visitor": browser(row.visitor_id),
                "source": row.source,
                "by": row.actor,
                "at": iso(row.recorded_at),
            }
            for row in held.consents
        ],
        "stage_changes": [
            {"from": r.from_stage, "to": r.to_stage, "rule": r.rule, "at": iso(r.changed_at)}
            for r in held.stage_changes
        ],
        "sales_outcomes": [outcome_view(row) for row in held.sales_outcomes],
        "handoffs": [handoff_view(row, now) for row in held.handoffs],
        "skips": [
            {"field": key(row.field_id), "form": row.form_key, "at": iso(row.skipped_at)}
            for row in held.skips
        ],
        "visitors": [
            {
                "id": v.public_id,
                "first_seen": iso(v.created_at),
                "last_seen": iso(v.last_seen_at),
                "trust": v.trust,
                "verified_by": v.verified_by,
                "verified_at": iso_or_none(v.verified_at),
            }
            for v in held.visitors
        ],
        "merged_contacts": [
            {"contact_id": r.merged_contact_id, "at": iso(r.merged_at)} for r in held.merges
        ],
        "recorded_events": [
            {"type": r.type, "at": iso(r.created_at), "data": r.payload}
            for r in held.recorded_events
        ],
        # Every webhook that carried this person's data, with the exact body sent.
        "deliveries": [
            {
                "destination": destination,
                "event": row.event_type,
                "webhook_id": row.message_id,
                "status": row.status,
                "attempts": row.attempts,
                "created_at": iso(row.created_at),
                "delivered_at": iso_or_none(row.delivered_at),
                "body": json.loads(bytes(row.body)),
            }
            for destination, row in held.deliveries
        ],
        "generated_at": iso(now),
    }


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
