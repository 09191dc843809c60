"""The check every engagement-tally test ends with: each contact's and each browser's running
tally is current and says exactly what scoring their events from scratch says."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.domain.engagement import summarize_engagement, tally_score
from app.domain.specs import EventRecord
from app.extensions import db
from app.models import Contact, EngagementEvent, Visitor
from app.services.people.tallies import is_current, tally_of_row
from app.services.siteconfig import site_snapshot


def stored_events(contact_id: int, visitor_id: int | None = None) -> list[EventRecord]:
    """The contact's events as stored (one browser's only, with ``visitor_id``), in row order."""
    query = select(EngagementEvent).where(EngagementEvent.contact_id == contact_id)
    if visitor_id is not None:
        query = query.where(EngagementEvent.visitor_id == visitor_id)
    return [
        EventRecord(e.kind, e.stage, e.occurred_at, e.external_id)
        for e in db.session.scalars(query.order_by(EngagementEvent.id))
    ]


def from_scratch(site_key: str, contact_id: int, now: datetime, visitor_id: int | None = None):
    site = site_snapshot(site_key)
    events = stored_events(contact_id, visitor_id)
    return summarize_engagement(events, site.weights, now, site.half_life_days)


def tally_mismatches(site_key: str, now: datetime) -> list[str]:
    """Every contact and browser of the site whose tally is stale or says another score,
    reached stage or event count than its events (empty when all hold)."""
    db.session.expire_all()
    site = site_snapshot(site_key)
    wrong = []
    rows: list[Contact | Visitor] = [
        *db.session.scalars(select(Contact).where(Contact.site_id == site.id)),
        *db.session.scalars(select(Visitor).where(Visitor.site_id == site.id)),
    ]
    for row in rows:
        if isinstance(row, Visitor):
            summary = from_scratch(site_key, row.contact_id, now, row.id)
        else:
            summary = from_scratch(site_key, row.id, now)
        tally = tally_of_row(row)
        held = (
            tally_score(tally, now, site.half_life_days),
            tally.reached_stage,
            tally.events,
        )
        scratch = (summary.score, summary.reached_stage, len(summary.event_times))
        if not is_current(site, row) or held != scratch:
            wrong.append(f"{type(row).__name__} {row.id}: tally {held} != events {scratch}")
    return wrong
