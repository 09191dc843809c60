"""Engagement kept up to date on write: each contact's and each browser's running tally.

An event adds to its contact's tally (when it counts: an id counts once per contact) and to its
browser's own (what a claimed browser is judged by), in the event's transaction, under the
locks every write of a browser takes (``people.find_visitor``): asking, recording and
submitting cost the same for a contact with one event and one with 20 000. A merge joins the
two tallies and takes away the copies of an id both had (the later one stops counting).

A tally is read only when it was summed with the site's current weights and half-life
(``SiteSnapshot.tally_basis``); otherwise the score comes from the events, exactly as before, while the worker rebuilds the site's tallies in
batches (``rebuild_stale_tallies``), and the next event of a stale contact rebuilds its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import groupby
from operator import attrgetter
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from app.domain.engagement import (
    Tally,
    summarize_engagement,
    tally_add,
    tally_join,
    tally_of,
    tally_score,
)
from app.domain.specs import EventRecord
from app.extensions import db
from app.models import Contact, EngagementEvent, Site, Skip, Visitor
from app.services.siteconfig import SiteSnapshot, site_snapshot
from app.services.transactions import commit_unit

log = logging.getLogger("trickle.engagement")

# Contacts rebuilt per committed unit by the worker.
REBUILD_BATCH = 200


@dataclass(frozen=True)
class Engaged:
    """What the rules and the webhook use of a tally (or of the events, when it is stale)."""

    score: float
    reached_stage: str | None
    events: int
    seq: int


TallyRow = Contact | Visitor


def tally_of_row(row: TallyRow) -> Tally:
    stages = (row.tally_early, row.tally_mid, row.tally_late)
    return Tally(row.tally_total, row.tally_at, row.tally_last, stages, row.tally_seq)


def is_current(site: SiteSnapshot, row: TallyRow) -> bool:
    """Whether the row's tally was summed with the site's weights and half-life (an empty one
    holds for any)."""
    return row.tally_seq == 0 or row.tally_basis == site.tally_basis


def engaged(site: SiteSnapshot, row: TallyRow, now: datetime) -> Engaged:
    """The engagement of a contact (``row`` a Contact: the whole contact's counted events) or of
    one browser's own view (a Visitor: its events on its contact), from the tally when it
    holds, from the events otherwise."""
    tally = tally_of_row(row)
    if is_current(site, row):
        score = tally_score(tally, now, site.half_life_days)
        return Engaged(score, tally.reached_stage, tally.events, tally.seq)
    if isinstance(row, Visitor):
        records = _records(row.contact_id, row.id)
    else:
        records = _records(row.id, None)
    summary = summarize_engagement(records, site.weights, now, site.half_life_days)
    return Engaged(summary.score, summary.reached_stage, len(summary.event_times), row.tally_seq)


def count_event(
    site: SiteSnapshot,
    visitor: Visitor,
    contact: Contact,
    record: EventRecord,
    counted: bool,
) -> None:
    """Add the event just stored for ``visitor`` to its own tally and (``counted``) to its
    contact's; a stale tally is rebuilt from the events instead (which hold it already)."""
    weight = site.weights.get(record.kind, 0)
    rows: list[TallyRow] = [visitor, contact] if counted else [visitor]
    tallies = []
    for row in rows:
        if is_current(site, row):
            tally = tally_add(
                tally_of_row(row), weight, record.stage, record.occurred_at, site.half_life_days
            )
        else:
            tally = _from_events(site, row, seq=row.tally_seq + 1)
        tallies.append(tally)
    if len(rows) == 2 and db.session.get_bind().dialect.name == "postgresql":
        # Both in one statement: the contact's UPDATE as a CTE of the browser's.
        params = {
            **_params(visitor, _values(site, tallies[0]), "v"),
            **_params(contact, _values(site, tallies[1]), "c"),
        }
        db.session.connection().execute(_STORE_BOTH, params)
        _keep_in_step(visitor, _values(site, tallies[0]))
        _keep_in_step(contact, _values(site, tallies[1]))
        return
    for row, tally in zip(rows, tallies, strict=True):
        _store(site, row, tally)


def merge_tallies(site: SiteSnapshot, absorbed: Contact, survivor: Contact) -> bool:
    """Before ``absorbed``'s rows move to ``survivor``: of each id both counted, the later copy
    stops counting (the earliest is the one a score counts), the survivor's tally becomes the
    sum of both less those copies, and the absorbed skips' counters move past the survivor's
    (the events since each skip stay what they were). True when a stale tally was joined: then
    ``rebuild_contact_tally`` must run once the rows have moved."""
    later = _later_copies(absorbed.id, survivor.id)
    if later:
        ids = [event_id for event_id, _ in later]
        db.session.execute(
            update(EngagementEvent).where(EngagementEvent.id.in_(ids)).values(counted=False),
            execution_options={"synchronize_session": False},
        )
    db.session.execute(
        update(Skip)
        .where(Skip.contact_id == absorbed.id)
        .values(seq_at=Skip.seq_at + survivor.tally_seq),
        execution_options={"synchronize_session": False},
    )
    if not (is_current(site, absorbed) and is_current(site, survivor)):
        return True
    tally = tally_join(tally_of_row(survivor), tally_of_row(absorbed), site.half_life_days)
    for _, record in later:
        weight = site.weights.get(record.kind, 0)
        tally = tally_add(
            tally, weight, record.stage, record.occurred_at, site.half_life_days, sign=-1
        )
    _store(site, survivor, tally)
    return False


def rebuild_contact_tally(site: SiteSnapshot, contact: Contact, seq: int) -> None:
    """The contact's tally from its events, its counter set to ``seq``."""
    _store(site, contact, _from_events(site, contact, seq=seq))


def reset_own_tally(site: SiteSnapshot, visitor: Visitor) -> None:
    """A browser now linked to another contact: its own view there holds only what it sent
    there before, if anything (its counter keeps counting, as its skips' counters do)."""
    _store(site, visitor, _from_events(site, visitor, seq=visitor.tally_seq))


def _later_copies(absorbed_id: int, survivor_id: int) -> list[tuple[int, EventRecord]]:
    """Of each external id both contacts count, the later copy (by time, then row id)."""
    theirs, mine = aliased(EngagementEvent), aliased(EngagementEvent)
    pairs = db.session.execute(
        select(
            theirs.id,
            theirs.kind,
            theirs.stage,
            theirs.occurred_at,
            theirs.external_id,
            mine.id.label("mine_id"),
            mine.kind.label("mine_kind"),
            mine.stage.label("mine_stage"),
            mine.occurred_at.label("mine_at"),
        )
        .join(
            mine,
            (mine.contact_id == survivor_id)
            & (mine.external_id == theirs.external_id)
            & mine.counted.is_(True),
        )
        .where(theirs.contact_id == absorbed_id, theirs.counted.is_(True))
    )
    later = []
    for p in pairs:
        if (p.occurred_at, p.id) > (p.mine_at, p.mine_id):
            later.append((p.id, EventRecord(p.kind, p.stage, p.occurred_at, p.external_id)))
        else:
            record = EventRecord(p.mine_kind, p.mine_stage, p.mine_at, p.external_id)
            later.append((p.mine_id, record))
    return later


def _values(site: SiteSnapshot, tally: Tally) -> dict[str, Any]:
    return {
        "tally_basis": site.tally_basis,
        "tally_total": tally.total,
        "tally_at": tally.at,
        "tally_last": tally.last,
        "tally_early": tally.stages[0],
        "tally_mid": tally.stages[1],
        "tally_late": tally.stages[2],
        "tally_seq": tally.seq,
    }


def _params(row: TallyRow, values: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {f"{prefix}_id": row.id, **{f"{prefix}_{k}": v for k, v in values.items()}}


def _keep_in_step(row: TallyRow, values: dict[str, Any]) -> None:
    for name, value in values.items():
        set_committed_value(row, name, value)


def _store(site: SiteSnapshot, row: TallyRow, tally: Tally) -> None:
    """Write ``tally`` to the row (one UPDATE) and keep the loaded object in step."""
    values = _values(site, tally)
    statement = _STORE_CONTACT if isinstance(row, Contact) else _STORE_VISITOR
    # Core, on the session's connection: the ORM's bulk-update path cost more than the UPDATE.
    db.session.connection().execute(statement, _params(row, values, "v"))
    _keep_in_step(row, values)


_TALLY_COLUMNS = ("basis", "total", "at", "last", "early", "mid", "late", "seq")


def _store_statement(model: type[Contact] | type[Visitor], prefix: str = "v") -> Any:
    table = model.__table__
    return (
        update(table)
        .where(table.c.id == bindparam(f"{prefix}_id"))
        .values({f"tally_{name}": bindparam(f"{prefix}_tally_{name}") for name in _TALLY_COLUMNS})
    )


# Built once, like the other statements of the widget's path (see people.contacts).
_STORE_CONTACT = _store_statement(Contact)
_STORE_VISITOR = _store_statement(Visitor)
# PostgreSQL: an event's two tallies in one statement (the contact's UPDATE a CTE).
_STORE_BOTH = _store_statement(Visitor).add_cte(_store_statement(Contact, "c").cte("contact"))
_EVENT_COLUMNS = (
    EngagementEvent.id,
    EngagementEvent.contact_id,
    EngagementEvent.visitor_id,
    EngagementEvent.kind,
    EngagementEvent.stage,
    EngagementEvent.occurred_at,
    EngagementEvent.external_id,
    EngagementEvent.counted,
)


def _records(contact_id: int, visitor_id: int | None) -> list[EventRecord]:
    """The events a score counts from scratch, oldest first (a tie: the first stored)."""
    query = select(*_EVENT_COLUMNS).where(EngagementEvent.contact_id == contact_id)
    if visitor_id is not None:
        query = query.where(EngagementEvent.visitor_id == visitor_id)
    rows = db.session.execute(query.order_by(EngagementEvent.occurred_at, EngagementEvent.id))
    return [EventRecord(r.kind, r.stage, r.occurred_at, r.external_id) for r in rows]


def _from_events(site: SiteSnapshot, row: TallyRow, *, seq: int) -> Tally:
    """The row's tally from its events (a contact's: its ids' flags set right on the way)."""
    if isinstance(row, Visitor):
        records = _records(row.contact_id, row.id)
        return tally_of(records, site.weights, site.half_life_days, seq=seq)
    return _rebuild_contacts(site, [row.id], {row.id: seq})[row.id]


def _rebuild_contacts(site: SiteSnapshot, ids: list[int], seqs: dict[int, int]) -> dict[int, Tally]:
    """The contacts' tallies from their events, each id's earliest copy marked as the counted
    one (and every later copy not), in one read of their events."""
    rows = db.session.execute(
        select(*_EVENT_COLUMNS)
        .where(EngagementEvent.contact_id.in_(ids))
        .order_by(EngagementEvent.contact_id, EngagementEvent.occurred_at, EngagementEvent.id)
    )
    tallies = {contact_id: Tally(seq=seqs[contact_id]) for contact_id in ids}
    flips: dict[bool, list[int]] = {True: [], False: []}
    for contact_id, events in groupby(rows, key=attrgetter("contact_id")):
        seen: set[str] = set()
        records = []
        for event in events:
            counts = event.external_id is None or event.external_id not in seen
            if event.external_id is not None:
                seen.add(event.external_id)
            if counts != event.counted:
                flips[counts].append(event.id)
            if counts:
                records.append(EventRecord(event.kind, event.stage, event.occurred_at))
        tally = tally_of(records, site.weights, site.half_life_days, seq=seqs[contact_id])
        tallies[contact_id] = tally
    for counted, event_ids in flips.items():
        if event_ids:
            db.session.execute(
                update(EngagementEvent)
                .where(EngagementEvent.id.in_(event_ids))
                .values(counted=counted),
                execution_options={"synchronize_session": False},
            )
    return tallies


def _stale(model: type[Contact] | type[Visitor], site: SiteSnapshot) -> Any:
    return (
        (model.site_id == site.id)
        & (model.tally_seq > 0)
        & (model.tally_basis.is_(None) | (model.tally_basis != site.tally_basis))
    )


def _stale_batch(model: Any, site: SiteSnapshot, after: int, *, key_share: bool) -> list[Any]:
    """The next ``REBUILD_BATCH`` rows of ``model`` with a stale tally after id ``after``,
    locked (as an event locks them) and loaded fresh."""
    return list(
        db.session.scalars(
            select(model)
            .where(_stale(model, site), model.id > after)
            .order_by(model.id)
            .limit(REBUILD_BATCH)
            .with_for_update(key_share=key_share)
            .execution_options(populate_existing=True)
        )
    )


def rebuild_contacts_batch(site: SiteSnapshot, after: int) -> tuple[int | None, int]:
    """Rebuild the next ``REBUILD_BATCH`` stale contact tallies of the site after contact id
    ``after`` (their rows locked as an event locks them): the last id done (None when none
    is left) and how many."""
    contacts = _stale_batch(Contact, site, after, key_share=True)
    if not contacts:
        return None, 0
    seqs = {contact.id: contact.tally_seq for contact in contacts}
    tallies = _rebuild_contacts(site, list(seqs), seqs)
    for contact in contacts:
        _store(site, contact, tallies[contact.id])
    return contacts[-1].id, len(contacts)


def rebuild_visitors_batch(site: SiteSnapshot, after: int) -> tuple[int | None, int]:
    """The same for the browsers' own tallies (after visitor id ``after``)."""
    visitors = _stale_batch(Visitor, site, after, key_share=False)
    if not visitors:
        return None, 0
    rows = db.session.execute(
        select(*_EVENT_COLUMNS)
        .where(EngagementEvent.visitor_id.in_([v.id for v in visitors]))
        .order_by(EngagementEvent.visitor_id, EngagementEvent.occurred_at, EngagementEvent.id)
    )
    own: dict[int, list[EventRecord]] = {}
    contact_of = {visitor.id: visitor.contact_id for visitor in visitors}
    for r in rows:
        if r.contact_id == contact_of[r.visitor_id]:
            record = EventRecord(r.kind, r.stage, r.occurred_at, r.external_id)
            own.setdefault(r.visitor_id, []).append(record)
    for visitor in visitors:
        records = own.get(visitor.id, [])
        tally = tally_of(records, site.weights, site.half_life_days, seq=visitor.tally_seq)
        _store(site, visitor, tally)
    return visitors[-1].id, len(visitors)


def rebuild_stale_tallies() -> int:
    """Rebuild the tallies of every site whose weights or half-life changed since they were
    summed (or that were never built: an upgrade), in batches of ``REBUILD_BATCH``, each its
    own committed unit: events and imports go on meanwhile, and until a contact's tally is
    rebuilt its score comes from its events. Returns the tallies rebuilt. Two workers at once
    do the work twice, never wrongly (each batch locks its rows)."""
    sites = db.session.execute(select(Site.key, Site.tally_basis).order_by(Site.id)).all()
    db.session.commit()
    rebuilt = 0
    for key, built in sites:
        site = site_snapshot(key)
        db.session.commit()
        if site.tally_basis == built:
            continue
        for batch in (rebuild_contacts_batch, rebuild_visitors_batch):
            after: int | None = 0
            while after is not None:
                after, count = commit_unit(partial(batch, site, after))
                rebuilt += count
        commit_unit(partial(_mark_built, site))
        log.info("engagement tallies of site %s rebuilt", key)
    return rebuilt


def _mark_built(site: SiteSnapshot) -> None:
    db.session.execute(update(Site).where(Site.id == site.id).values(tally_basis=site.tally_basis))
