"""The hand-off SLA: what a sales outcome does to the contact's hand-off (the first touch stops
the clock; a decision takes it off the queue; a recycle hands it back to marketing), and the
worker's check that sends ``contact.sla_breached`` once for a hand-off past due untouched.

Hand-offs to sales open with the stage move that reaches the hand-off stage
(``people.qualification``); this module handles everything after that.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.domain.sales import MARKETING_TOUCH, QUEUE_CLOSERS, SALES_TOUCHES
from app.domain.sla import sla_view
from app.domain.specs import iso, iso_or_none
from app.extensions import db
from app.models import MARKETING_TEAM, SALES_TEAM, Contact, Handoff, SalesOutcome
from app.services.outbox import record_outbox
from app.services.people import marketing_window, open_handoff
from app.services.siteconfig import SiteSnapshot
from app.services.transactions import commit_unit

BREACH_BATCH = 200


def note_outcome(
    site: SiteSnapshot, contact: Contact, outcome: SalesOutcome, in_order: bool, now: datetime
) -> None:
    """Apply ``outcome`` to the contact's hand-offs, in the caller's unit.

    The hand-off it falls in is the latest one started at or before it happened. A sales
    touch (accepted, contacted, rejected, recycled) on a hand-off to sales stops its clock,
    if it is the first; ``nurtured`` does the same on a hand-back to marketing. A decision
    (accepted, rejected, recycled, or the deal moving on) closes an open hand-off to sales.
    A recycle in time order hands the contact back to marketing, due ``recycle_followup_days``
    later. A touch or close that comes after the due time records the breach at once.
    """
    at = outcome.occurred_at
    handoff = db.session.scalar(
        select(Handoff)
        .where(Handoff.contact_id == contact.id, Handoff.started_at <= at)
        .order_by(Handoff.started_at.desc(), Handoff.id.desc())
        .limit(1)
        .with_for_update()  # the worker skips it meanwhile, so a breach is sent once
    )
    if handoff is not None:
        touches = SALES_TOUCHES if handoff.team == SALES_TEAM else {MARKETING_TOUCH}
        if outcome.kind in touches and (handoff.touched_at is None or at < handoff.touched_at):
            handoff.touched_at, handoff.touched_by = at, outcome.by
            handoff.touch_kind = outcome.kind
        closes = handoff.team == SALES_TEAM and outcome.kind in QUEUE_CLOSERS
        if closes and handoff.closed_at is None:
            handoff.closed_at, handoff.closed_by = at, outcome.kind
        _breach_if_late(site, contact, handoff, now)
    if outcome.kind == "recycled" and in_order:
        db.session.flush()  # the close above, before open_handoff's own close
        open_handoff(site, contact, MARKETING_TEAM, outcome.to_stage, at, marketing_window(site))


def _breach_if_late(site: SiteSnapshot, contact: Contact, handoff: Handoff, now: datetime) -> None:
    """A hand-off whose first touch (or close, untouched) came after its due time breached:
    record it now, once, if the worker has not."""
    if handoff.due_at is None or handoff.breached_at is not None:
        return
    ended = handoff.touched_at or handoff.closed_at
    if ended is not None and ended > handoff.due_at:
        breach(site.id, contact, handoff, now)


def breach(site_id: int, contact: Contact, handoff: Handoff, now: datetime) -> None:
    """Mark ``handoff`` breached at ``now`` and forward ``contact.sla_breached``."""
    handoff.breached_at = now
    record_outbox(
        site_id,
        "contact.sla_breached",
        contact.id,
        {"contact_id": contact.id, "email": contact.email, **handoff_view(handoff, now)},
        now,
    )


def breach_overdue_handoffs(now: datetime, limit: int = BREACH_BATCH) -> int:
    """Mark the open hand-offs that passed their due time untouched as breached, forwarding
    ``contact.sla_breached`` for each: the worker calls this every few seconds. At most
    ``limit`` a call, oldest due first, each row locked (and skipped by another worker that
    holds it), in one transaction. Returns how many it marked."""

    def work() -> int:
        rows = db.session.execute(
            select(Handoff, Contact)
            .join(Contact, Contact.id == Handoff.contact_id)
            .where(
                Handoff.due_at.is_not(None),
                Handoff.due_at < now,  # due at 48 h: breached only after it
                Handoff.touched_at.is_(None),
                Handoff.breached_at.is_(None),
                Handoff.closed_at.is_(None),
            )
            .order_by(Handoff.due_at, Handoff.id)
            .limit(limit)
            .with_for_update(of=Handoff, skip_locked=True)
        ).all()
        for handoff, contact in rows:
            breach(handoff.site_id, contact, handoff, now)
        return len(rows)

    return commit_unit(work)


def handoff_view(handoff: Handoff, now: datetime) -> dict[str, Any]:
    """A hand-off with its SLA as the API answers it and the webhooks carry it."""
    sla = sla_view(handoff.due_at, handoff.touched_at, now)
    return {
        "team": handoff.team,
        "stage": handoff.stage,
        "started_at": iso(handoff.started_at),
        "due_at": iso_or_none(handoff.due_at),
        "touched_at": iso_or_none(handoff.touched_at),
        "touched_by": handoff.touched_by,
        "touch_kind": handoff.touch_kind,
        "sla": sla.status,
        "breached_at": iso_or_none(handoff.breached_at),
        "closed_at": iso_or_none(handoff.closed_at),
        "closed_by": handoff.closed_by,
    }


def overdue_for_marketing(now: datetime) -> Any:
    """A WHERE clause: the contact has an open hand-back to marketing past its due time
    without a marketing touch (the reverse SLA's list)."""
    return _overdue(MARKETING_TEAM, now)


def overdue_for_sales(now: datetime) -> Any:
    """A WHERE clause: the contact has an open hand-off to sales past its due time with no
    sales touch yet (a touch stops the clock, even a late one: the contact is being worked)."""
    return _overdue(SALES_TEAM, now)


def _overdue(team: str, now: datetime) -> Any:
    return (
        select(Handoff.id)
        .where(
            Handoff.contact_id == Contact.id,
            Handoff.team == team,
            Handoff.closed_at.is_(None),
            Handoff.touched_at.is_(None),
            Handoff.due_at < now,
        )
        .exists()
    )
