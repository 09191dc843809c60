"""Recording engagement: what a visitor did, counted once per event id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select

from app.domain.specs import EventRecord
from app.extensions import db
from app.models import EngagementEvent, Visitor
from app.services.errors import Invalid
from app.services.people.contacts import resolve_visitor
from app.services.people.qualification import qualify
from app.services.people.state import ContactRows
from app.services.siteconfig import SiteSnapshot, site_snapshot
from app.services.tokens import visitor_token
from app.services.transactions import commit_unit


@dataclass(frozen=True)
class EventInput:
    kind: str
    stage: str | None = None
    url: str | None = None
    content: str | None = None
    external_id: str | None = None


def record_engagement(site_key: str, token: str | None, event: EventInput, now: datetime) -> str:
    """Record ``event`` for the visitor behind ``token``; return the (maybe new) visitor token."""
    site = site_snapshot(site_key)
    if event.kind not in site.weights:
        kinds = ", ".join(sorted(site.weights))
        raise Invalid(
            f'Unknown event kind "{event.kind}".',
            {"kind": [f'Unknown event kind "{event.kind}"; this site counts: {kinds}.']},
        )

    def work() -> str:
        visitor = resolve_visitor(site, token, now)
        if add_event(site, visitor, event, now):
            qualify(site, visitor.contact, now)
        return visitor.public_id

    return visitor_token(site.key, commit_unit(work))


def add_event(
    site: SiteSnapshot,
    visitor: Visitor,
    event: EventInput,
    now: datetime,
    rows: ContactRows | None = None,
) -> bool:
    """Add one event to the visitor's contact, unless this browser already sent its id (False).

    An id another browser of the contact sent is stored too, for this browser's own view (a
    browser that only claimed the email must not learn, from which of its events count, what
    another did), but not ``counted``: the contact's score counts an id once. ``rows``: the
    contact's rows as the caller holds them (its events are not read again; the new one is
    added to them).
    """
    counted = True
    if event.external_id is not None:
        senders = (
            _senders(visitor, event.external_id)
            if rows is None
            else rows.senders(event.external_id)
        )
        if visitor.id in senders:
            return False
        counted = not senders
    # The site's configured stage for a kind outranks what a page claims.
    stage = site.kind_stages.get(event.kind) or event.stage or "early"
    db.session.add(
        EngagementEvent(
            site_id=site.id,
            contact_id=visitor.contact_id,
            visitor_id=visitor.id,
            kind=event.kind,
            stage=stage,
            external_id=event.external_id,
            url=event.url,
            content=event.content,
            occurred_at=now,
            counted=counted,
        )
    )
    if rows is not None:
        rows.add_event(visitor.id, EventRecord(event.kind, stage, now, event.external_id))
    return counted


def _senders(visitor: Visitor, external_id: str) -> list[int | None]:
    """The browsers of the visitor's contact that sent an event of this id."""
    params = {"contact_id": visitor.contact_id, "external_id": external_id}
    return list(db.session.scalars(_SENDERS, params))


# Built once, like the other statements of the widget's path (see people.contacts).
_SENDERS = select(EngagementEvent.visitor_id).where(
    EngagementEvent.contact_id == bindparam("contact_id"),
    EngagementEvent.external_id == bindparam("external_id"),
)
