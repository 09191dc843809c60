"""Removing people: erasure on request (a data-subject request) and by retention.

Everything held on a contact goes: its values and their history, events, skips, stage moves,
consents, visitors (and the responses replayed to them), the contacts merged into it, and every
stored webhook event and delivery that carried its data. The account's shared values (company
size, industry) stay: they describe the company, not the person; they no longer point at them.

Each destination that ever received one of these contacts is sent ``contact.deleted`` with the
contact's id only (no personal data), so the receiver can erase its copy too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Delete, delete, or_, select

from app.domain.specs import iso
from app.extensions import db
from app.models import (
    ConsentRecord,
    Contact,
    ContactErasure,
    ContactMerge,
    Delivery,
    Destination,
    EngagementEvent,
    OutboxEvent,
    ProfileValue,
    Skip,
    StageChange,
    Submission,
    Visitor,
)
from app.models.delivery import DELIVERED
from app.services.delivery import queue_to
from app.services.snapshots import SiteSnapshot

DELETED_EVENT = "contact.deleted"
REQUEST, RETENTION = "request", "retention"


@dataclass
class ErasureReport:
    contacts: int = 0
    removed: dict[str, int] = field(default_factory=dict)  # rows by table
    notified: dict[int, list[str]] = field(default_factory=dict)  # destination keys by contact

    def add(self, other: ErasureReport) -> None:
        self.contacts += other.contacts
        for table, count in other.removed.items():
            self.removed[table] = self.removed.get(table, 0) + count
        self.notified.update(other.notified)


def erase_contacts(
    site: SiteSnapshot,
    contact_ids: Sequence[int],
    *,
    reason: str,
    requested_by: str | None,
    now: datetime,
) -> ErasureReport:
    """Remove ``contact_ids`` (this site's) and all they carry, in the caller's transaction.

    An erasure on request leaves one ``ContactErasure`` per contact; retention leaves counts.
    ``contact.deleted`` goes to every destination that received the contact (and, for a
    request, to every destination subscribed to ``contact.deleted``).
    """
    ids = list(
        db.session.scalars(
            select(Contact.id).where(Contact.site_id == site.id, Contact.id.in_(contact_ids))
        )
    )
    report = ErasureReport()
    if not ids:
        return report
    # Lock the visitors first, in the order a submit does, so a concurrent submit or event of
    # these browsers either finishes before the erasure or finds its visitor gone.
    db.session.execute(select(Visitor.id).where(Visitor.contact_id.in_(ids)).with_for_update())
    owner = {contact_id: contact_id for contact_id in ids}
    for survivor, merged in db.session.execute(
        select(ContactMerge.survivor_id, ContactMerge.merged_contact_id).where(
            ContactMerge.survivor_id.in_(ids)
        )
    ):
        owner[merged] = survivor
    recipients = _recipients(site, list(owner), owner, reason, now)
    report.removed = _remove(ids, list(owner))
    report.contacts = len(ids)
    merged_ids = defaultdict(list)
    for old, survivor in owner.items():
        if old != survivor:
            merged_ids[survivor].append(old)
    for contact_id in ids:
        destinations = recipients.get(contact_id, [])
        if destinations:
            _announce(site, contact_id, sorted(merged_ids[contact_id]), destinations, reason, now)
        report.notified[contact_id] = sorted(d.key for d in destinations)
        if reason == REQUEST:
            db.session.add(
                ContactErasure(
                    site_id=site.id,
                    contact_id=contact_id,
                    reason=reason,
                    requested_by=requested_by,
                    erased_at=now,
                    removed=report.removed if len(ids) == 1 else {},
                    notified=report.notified[contact_id],
                )
            )
    return report


def _recipients(
    site: SiteSnapshot,
    all_ids: list[int],
    owner: dict[int, int],
    reason: str,
    now: datetime,
) -> dict[int, list[Destination]]:
    """The destinations to tell, by surviving contact id: every active destination that got
    (or may have got: attempted, or being sent right now) a delivery for the contact."""
    active = {
        d.id: d
        for d in db.session.scalars(
            select(Destination).where(
                Destination.site_id == site.id,
                Destination.enabled.is_(True),
                Destination.archived_at.is_(None),
            )
        )
    }
    received = db.session.execute(
        select(Delivery.contact_id, Delivery.destination_id)
        .where(
            Delivery.contact_id.in_(all_ids),
            or_(
                Delivery.status == DELIVERED,
                Delivery.attempts > 0,
                Delivery.lease_until > now,
            ),
        )
        .distinct()
    )
    found: dict[int, dict[int, Destination]] = defaultdict(dict)
    for contact_id, destination_id in received:
        if destination_id in active:
            found[owner[contact_id]][destination_id] = active[destination_id]
    if reason == REQUEST:
        subscribers = [d for d in active.values() if DELETED_EVENT in (d.events or ())]
        for contact_id in set(owner.values()):
            for destination in subscribers:
                found[contact_id][destination.id] = destination
    return {contact_id: list(by_id.values()) for contact_id, by_id in found.items()}


def _remove(ids: list[int], all_ids: list[int]) -> dict[str, int]:
    """Delete every row about ``ids`` (and the merged-away ``all_ids``); counts by table."""
    statements: list[tuple[str, Delete]] = [
        ("deliveries", delete(Delivery).where(Delivery.contact_id.in_(all_ids))),
        ("webhook_events", delete(OutboxEvent).where(OutboxEvent.contact_id.in_(all_ids))),
        ("history", delete(Submission).where(Submission.contact_id.in_(ids))),
        ("values", delete(ProfileValue).where(ProfileValue.contact_id.in_(ids))),
        ("events", delete(EngagementEvent).where(EngagementEvent.contact_id.in_(ids))),
        ("skips", delete(Skip).where(Skip.contact_id.in_(ids))),
        ("stage_changes", delete(StageChange).where(StageChange.contact_id.in_(ids))),
        ("consents", delete(ConsentRecord).where(ConsentRecord.contact_id.in_(ids))),
        ("merges", delete(ContactMerge).where(ContactMerge.survivor_id.in_(ids))),
        ("visitors", delete(Visitor).where(Visitor.contact_id.in_(ids))),
        ("contacts", delete(Contact).where(Contact.id.in_(ids))),
    ]
    removed = {}
    for table, statement in statements:
        result: Any = db.session.execute(statement.execution_options(synchronize_session=False))
        removed[table] = result.rowcount
    db.session.expire_all()
    return removed


def _announce(
    site: SiteSnapshot,
    contact_id: int,
    merged_ids: list[int],
    destinations: list[Destination],
    reason: str,
    now: datetime,
) -> None:
    payload = {
        "contact_id": contact_id,
        "merged_contact_ids": merged_ids,
        "reason": reason,
        "deleted_at": iso(now),
    }
    event = OutboxEvent(
        site_id=site.id, type=DELETED_EVENT, contact_id=contact_id, payload=payload, created_at=now
    )
    db.session.add(event)
    db.session.flush()
    for destination in destinations:
        queue_to(destination, event)
