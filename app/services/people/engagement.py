"""Recording engagement: what a visitor did, counted once per event id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from app.domain.engagement import PAGE_VIEW
from app.domain.qualification import engagement_may_move
from app.domain.specs import EventRecord
from app.extensions import db
from app.models import EngagementEvent, Visitor
from app.services.errors import Invalid
from app.services.people.contacts import resolve_visitor
from app.services.people.form_counts import count_form_views
from app.services.people.hot_activity import report_hot_activity
from app.services.people.qualification import qualify
from app.services.people.state import ContactRows
from app.services.people.tallies import count_event, engaged
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
    forms: tuple[str, ...] = ()  # a page_view's: the site's forms on the page


def record_engagement(site_key: str, token: str | None, event: EventInput, now: datetime) -> str:
    """Record ``event`` for the visitor behind ``token``; return the (maybe new) visitor token.

    One insert (a browser's repeated id is ignored by the database) and the tallies' updates;
    the stage rules run only when the new engagement may move the contact. A counted
    ``page_view`` counts a view for each of its ``forms`` the site has (other keys are ignored:
    a page may still carry a form the config has since removed); only a page_view names forms.
    """
    site = site_snapshot(site_key)
    if event.kind not in site.weights:
        kinds = ", ".join(sorted(site.weights))
        raise Invalid(
            f'Unknown event kind "{event.kind}".',
            {"kind": [f'Unknown event kind "{event.kind}"; this site counts: {kinds}.']},
        )
    if event.forms and event.kind != PAGE_VIEW:
        message = f"Only a {PAGE_VIEW} names the forms on its page."
        raise Invalid(message, {"forms": [message]})

    def work() -> tuple[str, bool]:
        visitor = resolve_visitor(site, token, now)
        contact = visitor.contact
        counted = add_event(site, visitor, event, now)
        if counted and site.stages:
            engagement = engaged(site, contact, now)
            if engagement_may_move(
                site.stages, contact.lifecycle_stage, engagement.score, engagement.reached_stage
            ):
                qualify(site, contact, now)
        return visitor.public_id, counted

    public_id, counted = commit_unit(work)
    if counted:  # after the commit: a unit run again must not count twice
        count_form_views(site.id, (key for key in event.forms if key in site.forms), now)
    return visitor_token(site.key, public_id)


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
    another did), but not ``counted``: the contact's score counts an id once. The event joins
    the browser's own tally and, when it counts, its contact's. ``rows``: the contact's rows
    as the caller holds them (their contact's tally is the one kept current). A counted event
    of a hot kind (``sales_outcomes.hot_activity``) is reported to sales; no other kind costs
    a statement more.
    """
    # The site's configured stage for a kind outranks what a page claims.
    stage = site.kind_stages.get(event.kind) or event.stage or "early"
    params = {
        "e_site": site.id,
        "e_contact": visitor.contact_id,
        "e_visitor": visitor.id,
        "e_kind": event.kind,
        "e_stage": stage,
        "e_external": event.external_id,
        "e_url": event.url,
        "e_content": event.content,
        "e_at": now,
    }
    statement = _insert_statement(db.session.get_bind().dialect.name)
    # Core, on the session's connection: the ORM's bulk-insert path cost more than the insert.
    counted = db.session.connection().execute(statement, params).scalar()
    if counted is None:  # this browser sent this id before
        return False
    contact = rows.contact if rows is not None else visitor.contact
    record = EventRecord(event.kind, stage, now, event.external_id)
    count_event(site, visitor, contact, record, counted)
    hot = site.hot_activity
    if counted and hot is not None and event.kind in hot.kinds:
        report_hot_activity(site, contact, record, event.url, now)
    return bool(counted)


@cache
def _insert_statement(dialect: str) -> Any:
    """INSERT the event, counted unless the contact holds its id already, and nothing when
    this browser sent its id before (the unique key): RETURNING says which. Built once per
    dialect (the ON CONFLICT clause is each one's own)."""
    table = EngagementEvent.__table__
    other = table.alias("other")
    sent = (
        select(other.c.id)
        .where(
            other.c.contact_id == bindparam("e_contact"),
            other.c.external_id == bindparam("e_external"),
        )
        .exists()
    )
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(table)
        .values(
            site_id=bindparam("e_site"),
            contact_id=bindparam("e_contact"),
            visitor_id=bindparam("e_visitor"),
            kind=bindparam("e_kind"),
            stage=bindparam("e_stage"),
            external_id=bindparam("e_external"),
            url=bindparam("e_url"),
            content=bindparam("e_content"),
            occurred_at=bindparam("e_at"),
            counted=~sent,
        )
        .on_conflict_do_nothing(index_elements=["contact_id", "visitor_id", "external_id"])
        .returning(table.c.counted)
    )
