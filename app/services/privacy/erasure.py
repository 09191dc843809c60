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

from sqlalchemy import Delete, delete, exists, or_, select

from app.domain.specs import iso
from app.extensions import db
from app.models import (
    Account,
    ConsentRecord,
    Contact,
    ContactErasure,
    ContactMerge,
    Delivery,
    Destination,
    EngagementEvent,
    Handoff,
    OutboxEvent,
    ProfileValue,
    SalesOutcome,
    Skip,
    StageChange,
    Submission,
    Visitor,
)
from app.models.delivery import DELIVERED
from app.services.outbox import record_outbox
from app.services.siteconfig import SiteSnapshot

DELETED_EVENT = "contact.deleted"
REQUEST, RETENTION = "request", "retention"


@dataclass
class ErasureReport:
    contacts: int = 0
    removed: dict[str, int] = field(default_factory=dict)  # rows by table
    notified: dict[int, list[str]] = field(default_factory=dict)  # destination keys by contact


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
    report = ErasureReport()
    # Locks in the order a submit takes them: the browsers, then the contacts. A concurrent
    # submit, event, merge into these contacts or withdrawal either finishes first (and what
    # it wrote is erased too) or waits and then finds nobody.
    db.session.execute(
        select(Visitor.id)
        .where(Visitor.site_id == site.id, Visitor.contact_id.in_(contact_ids))
        .order_by(Visitor.id)
        .with_for_update()
    )
    rows = db.session.execute(
        select(Contact.id, Contact.account_id)
        .where(Contact.site_id == site.id, Contact.id.in_(contact_ids))
        .order_by(Contact.id)
        .with_for_update()
    ).all()
    ids = [row.id for row in rows]
    if not ids:
        return report
    owner = {contact_id: contact_id for contact_id in ids}
    for survivor, merged in db.session.execute(
        select(ContactMerge.survivor_id, ContactMerge.merged_contact_id).where(
            ContactMerge.survivor_id.in_(ids)
        )
    ):
        owner[merged] = survivor
    recipients = _recipients(site, list(owner), owner, reason, now)
    in_flight = _in_flight(list(owner), owner, now)
    report.removed = _remove(ids, list(owner), {row.account_id for row in rows} - {None})
    report.contacts = len(ids)
    merged_ids = defaultdict(list)
    for old, survivor in owner.items():
        if old != survivor:
            merged_ids[survivor].append(old)
    for contact_id in ids:
        destinations = recipients.get(contact_id, [])
        if destinations:
            payload = {
                "contact_id": contact_id,
                "merged_contact_ids": sorted(merged_ids[contact_id]),
                "reason": reason,
                "deleted_at": iso(now),
            }
            queued = record_outbox(
                site.id, DELETED_EVENT, contact_id, payload, now, destinations=destinations
            )
            for delivery in queued:
                # Never before a delivery of this person still on its way to that receiver.
                sending = in_flight.get((contact_id, delivery.destination_id))
                if sending is not None:
                    delivery.next_attempt_at = max(delivery.next_attempt_at, sending)
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
        destination = active.get(destination_id)
        # A segment destination speaks identify calls only; it hears of deletions (in the
        # trickle envelope) when it subscribes to them.
        if destination is not None and (
            destination.format != "segment" or DELETED_EVENT in (destination.events or ())
        ):
            found[owner[contact_id]][destination_id] = destination
    if reason == REQUEST:
        subscribers = [d for d in active.values() if DELETED_EVENT in (d.events or ())]
        for contact_id in set(owner.values()):
            for destination in subscribers:
                found[contact_id][destination.id] = destination
    return {contact_id: list(by_id.values()) for contact_id, by_id in found.items()}


def _in_flight(
    all_ids: list[int], owner: dict[int, int], now: datetime
) -> dict[tuple[int, int], datetime]:
    """When each (contact, destination) delivery being sent right now may still arrive: its
    lease's end. The erasure removes the row, but a worker may be sending its body."""
    leased = db.session.execute(
        select(Delivery.contact_id, Delivery.destination_id, Delivery.lease_until).where(
            Delivery.contact_id.in_(all_ids), Delivery.lease_until > now
        )
    )
    until: dict[tuple[int, int], datetime] = {}
    for contact_id, destination_id, lease_until in leased:
        key = (owner[contact_id], destination_id)
        until[key] = max(until.get(key, lease_until), lease_until)
    return until


def _remove(ids: list[int], all_ids: list[int], account_ids: set[int]) -> dict[str, int]:
    """Delete every row about ``ids`` (and the merged-away ``all_ids``), then the companies
    nobody is left in (a one-person domain names the person); counts by table."""
    statements: list[tuple[str, Delete]] = [
        ("deliveries", delete(Delivery).where(Delivery.contact_id.in_(all_ids))),
        ("webhook_events", delete(OutboxEvent).where(OutboxEvent.contact_id.in_(all_ids))),
        ("history", delete(Submission).where(Submission.contact_id.in_(ids))),
        ("values", delete(ProfileValue).where(ProfileValue.contact_id.in_(ids))),
        ("events", delete(EngagementEvent).where(EngagementEvent.contact_id.in_(ids))),
        ("skips", delete(Skip).where(Skip.contact_id.in_(ids))),
        ("stage_changes", delete(StageChange).where(StageChange.contact_id.in_(ids))),
        ("sales_outcomes", delete(SalesOutcome).where(SalesOutcome.contact_id.in_(ids))),
        ("handoffs", delete(Handoff).where(Handoff.contact_id.in_(ids))),
        ("consents", delete(ConsentRecord).where(ConsentRecord.contact_id.in_(ids))),
        ("merges", delete(ContactMerge).where(ContactMerge.survivor_id.in_(ids))),
        ("visitors", delete(Visitor).where(Visitor.contact_id.in_(ids))),
        ("contacts", delete(Contact).where(Contact.id.in_(ids))),
        (
            "accounts",
            delete(Account).where(
                Account.id.in_(account_ids), ~exists().where(Contact.account_id == Account.id)
            ),
        ),
    ]
    removed = {}
    for table, statement in statements:
        result: Any = db.session.execute(statement.execution_options(synchronize_session=False))
        removed[table] = result.rowcount
    db.session.expire_all()
    return removed
