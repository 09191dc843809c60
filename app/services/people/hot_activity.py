"""Hot activity: a late-stage event by a handed-off lead, or by anyone of its account, tells
sales at once (``contact.engaged``), at most once per contact per window (docs/sales.md).

Which kinds are hot, and the window, are the config's ``sales_outcomes.hot_activity``. Only
an event of a hot kind costs anything here: one conditional UPDATE that claims the contacts to
tell (``engaged_at`` moves to now, only where it was empty or older than the window), and only
when it claimed someone, the reads their webhooks need. The claim is the row lock: two hot
events of one account at once tell each contact once (the second UPDATE waits for the first's
lock, then finds ``engaged_at`` recent and skips the row).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.domain.specs import EventRecord, iso, iso_or_none
from app.extensions import db
from app.models import SALES_TEAM, Account, Contact, Handoff
from app.services.outbox import record_outbox
from app.services.siteconfig import SiteSnapshot

# A latest hand-off closed by one of these is still sales' lead (they accepted it, or opened a
# deal): its account's activity is news to them. Rejected, recycled, won or lost ones are not.
STILL_WORKED = ("accepted", "opportunity")


def report_hot_activity(
    site: SiteSnapshot, contact: Contact, event: EventRecord, url: str | None, now: datetime
) -> list[int]:
    """Send ``contact.engaged`` for every handed-off contact of ``contact``'s account (itself
    included, and only itself when it has no account) not told within the window, as the
    caller's event ``event`` (a kind ``site.hot_activity`` names) is stored; returns their ids.

    Handed off: the contact's latest hand-off (by ``started_at``, then id) is sales', open or
    closed by ``accepted``/``opportunity``. Runs in the event's unit of work.
    """
    hot = site.hot_activity
    assert hot is not None and event.kind in hot.kinds
    params = {
        "h_site": site.id,
        "h_account": contact.account_id,
        "h_contact": contact.id,
        "h_cutoff": now - hot.window,
        "h_now": now,
    }
    claimed = db.session.connection().execute(_claim_statement(), params).all()
    if not claimed:
        return []
    ids = sorted(row.id for row in claimed)
    if contact.id in ids:  # the caller's object: keep it as the database now has it
        set_committed_value(contact, "engaged_at", now)
    handoffs = _latest_handoffs(ids)
    domain = None
    if contact.account_id is not None:
        domain = db.session.scalar(select(Account.domain).where(Account.id == contact.account_id))
    emails = {row.id: row.email for row in claimed}
    by = {"contact_id": contact.id, "email": contact.email}
    happened = {"kind": event.kind, "id": event.external_id, "url": url, "occurred_at": iso(now)}
    for contact_id in ids:
        handoff = handoffs[contact_id]
        payload = {
            "contact_id": contact_id,
            "email": emails[contact_id],
            "account_domain": domain,
            "by": by,
            "event": happened,
            "handoff": {
                "started_at": iso(handoff.started_at),
                "due_at": iso_or_none(handoff.due_at),
            },
        }
        record_outbox(site.id, "contact.engaged", contact_id, payload, now)
    return ids


def _latest_handoffs(contact_ids: list[int]) -> dict[int, Any]:
    """Each contact's latest hand-off (started_at, due_at): the one the claim found working."""
    rows = db.session.execute(
        select(Handoff.contact_id, Handoff.started_at, Handoff.due_at)
        .where(Handoff.contact_id.in_(contact_ids))
        .order_by(Handoff.contact_id, Handoff.started_at, Handoff.id)
    )
    return {row.contact_id: row for row in rows}  # the last of each contact stays


@cache
def _claim_statement() -> Any:
    """UPDATE the account's handed-off contacts not told since the cutoff to ``engaged_at`` =
    now, RETURNING them. Built once (like the event's INSERT)."""
    contacts = Contact.__table__
    handoffs = Handoff.__table__
    newest = handoffs.alias("newest")
    latest = (
        select(newest.c.id)
        .where(newest.c.contact_id == contacts.c.id)
        .order_by(newest.c.started_at.desc(), newest.c.id.desc())
        .limit(1)
        .correlate(contacts)
        .scalar_subquery()
    )
    worked = (
        select(handoffs.c.id)
        .where(
            handoffs.c.id == latest,
            handoffs.c.team == SALES_TEAM,
            or_(handoffs.c.closed_at.is_(None), handoffs.c.closed_by.in_(STILL_WORKED)),
        )
        .correlate(contacts)
        .exists()
    )
    return (
        update(contacts)
        .where(
            contacts.c.site_id == bindparam("h_site"),
            or_(
                contacts.c.account_id == bindparam("h_account"),
                contacts.c.id == bindparam("h_contact"),
            ),
            or_(contacts.c.engaged_at.is_(None), contacts.c.engaged_at < bindparam("h_cutoff")),
            worked,
        )
        .values(engaged_at=bindparam("h_now"))
        .returning(contacts.c.id, contacts.c.email)
    )
