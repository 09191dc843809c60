"""Exports for analysts: a site's contacts, or its submission history, streamed as CSV, JSON
Lines or Parquet.

One implementation serves the console download, the token API and ``trickle export``: each
parses its input with ``export_params`` and streams ``export.chunks``. Contacts are read in id
order, a chunk at a time, and each chunk's transaction ends before its rows are written: memory
and database locks stay flat whatever the size of the site and however slow the reader.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, exists, func, or_, select, type_coerce

from app.domain.engagement import score_of, undecayed_score
from app.extensions import db
from app.models import (
    AccountValue,
    Contact,
    EngagementEvent,
    Field,
    ProfileValue,
    Submission,
    Visitor,
)
from app.services.export_params import (
    FORMATS,
    ContactFilters,
    HistoryFilters,
    contact_export_request,
    history_export_request,
)
from app.services.export_writers import WRITERS, Column
from app.services.snapshots import SiteSnapshot, site_snapshot

CHUNK = 2000  # contacts (or history rows) read per query


@dataclass
class Export:
    """A ready export: iterate ``chunks`` (in an app context) to stream it.

    ``total`` is how many rows the database holds before the filters computed per row
    (completeness, tiers); ``scanned`` counts them as the stream goes, for progress bars.
    """

    filename: str
    content_type: str
    columns: tuple[Column, ...]
    total: int
    rows: Callable[[Export], Iterator[list[Any]]]
    fmt: str
    scanned: int = 0
    written: int = 0

    @property
    def chunks(self) -> Iterator[bytes]:
        return WRITERS[self.fmt](self.columns, self._counted_rows())

    def _counted_rows(self) -> Iterator[list[Any]]:
        for row in self.rows(self):
            self.written += 1
            yield row


# --- Contacts -----------------------------------------------------------------------------

_PARQUET_KIND = {"number": "float", "boolean": "bool", "consent": "bool", "multiselect": "list"}


_BASE_COLUMNS = (
    Column("contact_id", "int"),
    Column("email", "text"),
    Column("stage", "text"),
    Column("engagement_score", "float"),
    Column("engagement_events", "int"),
    Column("created_at", "time"),
    Column("last_seen_at", "time"),
    Column("completeness", "int"),
)


@dataclass(frozen=True)
class _FieldColumns:
    key: str
    value: str | None  # the value column's name; None when the email column already holds it
    at: str  # provenance columns' names (used only when asked for)
    source: str


def _field_columns(site: SiteSnapshot) -> tuple[_FieldColumns, ...]:
    """Column names per active field: ``<key>``, ``<key>__at``, ``<key>__source``. The identity
    field ``email`` is the contact's email column. A name already taken (a field keyed
    ``stage``, or ``name__at`` beside ``name``'s provenance) gets ``__2``, ``__3``… appended, so
    no column ever shadows another."""
    wanted = [c.name for c in _BASE_COLUMNS]
    for key, view in site.fields.items():
        if not (key == "email" and view.rule.identity):
            wanted.append(key)
        wanted += [f"{key}__at", f"{key}__source"]
    taken: set[str] = set()

    def unique(name: str) -> str:
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name}__{n}"
        taken.add(candidate)
        return candidate

    names = iter([unique(name) for name in wanted][len(_BASE_COLUMNS) :])
    layout = []
    for key, view in site.fields.items():
        value = None if key == "email" and view.rule.identity else next(names)
        layout.append(_FieldColumns(key, value, next(names), next(names)))
    return tuple(layout)


def contact_columns(site: SiteSnapshot, provenance: bool) -> tuple[Column, ...]:
    columns = list(_BASE_COLUMNS)
    for names in _field_columns(site):
        if names.value is not None:
            kind = _PARQUET_KIND.get(site.fields[names.key].rule.kind, "text")
            columns.append(Column(names.value, kind))
        if provenance:
            columns += [Column(names.at, "time"), Column(names.source, "text")]
    return tuple(columns)


def export_contacts(site_key: str, fmt: str, filters: ContactFilters, now: datetime) -> Export:
    """The site's contacts matching ``filters``, one row each, in contact id order."""
    site = site_snapshot(site_key)
    base = _contact_query(site, filters)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0

    def rows(export: Export) -> Iterator[list[Any]]:
        yield from _contact_rows(site, base, filters, now, export)

    return Export(
        filename=_filename(site.key, "contacts", fmt, now),
        content_type=FORMATS[fmt],
        columns=contact_columns(site, filters.provenance),
        total=total,
        rows=rows,
        fmt=fmt,
    )


def _filename(site_key: str, what: str, fmt: str, now: datetime) -> str:
    return f"{site_key}-{what}-{now.strftime('%Y%m%d-%H%M%S')}.{fmt}"


def _contact_query(site: SiteSnapshot, filters: ContactFilters) -> Any:
    query = select(
        Contact.id,
        Contact.email,
        Contact.lifecycle_stage,
        type_coerce(Contact.created_at, String).label("created_at"),  # see _utc
        Contact.account_id,
    ).where(Contact.site_id == site.id)
    if filters.stages:
        query = query.where(Contact.lifecycle_stage.in_(filters.stages))
    if filters.updated_since is not None:
        # A company value given by a colleague changes this contact's row too.
        query = query.where(
            or_(
                Contact.updated_at >= filters.updated_since,
                exists().where(
                    AccountValue.account_id == Contact.account_id,
                    AccountValue.updated_at >= filters.updated_since,
                ),
            )
        )
    if filters.identified is not None:
        query = query.where(
            Contact.email.is_not(None) if filters.identified else Contact.email.is_(None)
        )
    if filters.form is not None:
        query = query.where(
            exists().where(Submission.contact_id == Contact.id, Submission.form_key == filters.form)
        )
    return query


_UNKNOWN = (None, None, None)  # (value, given at, through form) of a field not known


def end_reads() -> None:
    """End the read transaction between chunks: a slow reader of the stream then holds no
    snapshot, table lock or pooled connection while its bytes go out (a migration is never
    stuck behind a download). Each chunk is consistent; keyset paging skips nothing."""
    db.session.rollback()


def _contact_rows(
    site: SiteSnapshot, base: Any, filters: ContactFilters, now: datetime, export: Export
) -> Iterator[list[Any]]:
    provenance = filters.provenance
    # Per active field, in column order: its id as the JSON documents key it, whether its
    # company's value stands in for the contact's, whether it has a value column.
    layout = tuple(
        (
            str(site.fields[f.key].id),
            site.fields[f.key].rule.scope == "account",
            f.value is not None,
        )
        for f in _field_columns(site)
    )
    account_ids = [view.id for view in site.fields.values() if view.rule.scope == "account"]
    active = len(site.fields)
    tiers = [
        {str(view.id) for view in site.fields.values() if view.rule.tier == tier}
        for tier in filters.tiers_complete
    ]
    least = filters.min_completeness
    after = 0
    while True:
        contacts = db.session.execute(
            base.where(Contact.id > after).order_by(Contact.id).limit(CHUNK)
        ).all()
        if not contacts:
            return
        after = contacts[-1].id
        ids = [c.id for c in contacts]
        own = _documents(ProfileValue, ProfileValue.contact_id, ids, provenance)
        accounts = list({c.account_id for c in contacts} - {None})
        shared = (
            _documents(AccountValue, AccountValue.account_id, accounts, provenance, account_ids)
            if account_ids and accounts
            else {}
        )
        scores = _scores(site, ids, now)
        seen = _last_seen(ids)
        end_reads()
        for contact in contacts:
            export.scanned += 1
            mine = own.get(contact.id, _NONE)
            theirs = shared.get(contact.account_id, _NONE)
            cells: list[Any] = []
            known: list[str] = []
            for field_id, from_account, has_column in layout:
                held = mine.get(field_id)
                if _blank(held[0] if provenance and held is not None else held):
                    held = theirs.get(field_id) if from_account else None
                    if _blank(held[0] if provenance and held is not None else held):
                        held = None
                if held is not None:
                    known.append(field_id)
                if provenance:
                    value, at, form = held if held is not None else _UNKNOWN
                    if has_column:
                        cells.append(value)
                    cells += [_utc(at), form]
                elif has_column:
                    cells.append(held)
            completeness = len(known) * 100 // active if active else 0
            if least is not None and completeness < least:
                continue
            if tiers and not all(tier <= set(known) for tier in tiers):
                continue
            score, counted = scores.get(contact.id, _NO_EVENTS)
            yield [
                contact.id,
                contact.email,
                contact.lifecycle_stage,
                score,
                counted,
                _utc(contact.created_at),
                _utc(seen.get(contact.id)),
                completeness,
                *cells,
            ]


_NONE: dict[str, Any] = {}


def _documents(
    table: Any, owner: Any, owners: list[int], provenance: bool, fields: list[int] | None = None
) -> dict[int, dict[str, Any]]:
    """Values by owner (contact or account), aggregated by the database into one JSON object
    per owner: ``{"<field id>": value}``, or ``{"<field id>": [value, given at, form]}`` with
    provenance. One row and one C-speed decode per owner instead of a row per value."""
    sqlite = db.engine.dialect.name == "sqlite"
    value = func.json(table.value) if sqlite else table.value
    if provenance:
        build = func.json_array if sqlite else func.json_build_array
        value = build(value, table.updated_at, table.form_key)
    aggregate = func.json_group_object if sqlite else func.json_object_agg
    query = select(owner, aggregate(table.field_id, value, type_=String)).where(owner.in_(owners))
    if fields is not None:
        query = query.where(table.field_id.in_(fields))
    found: dict[int, dict[str, Any]] = {}
    for key, document in db.session.execute(query.group_by(owner)):
        # psycopg decodes json itself; SQLite gives text.
        found[key] = document if isinstance(document, dict) else json.loads(document)
    return found


def _blank(value: Any) -> bool:
    """``is_blank``, inlined for the export's hot loop."""
    if value is None:
        return True
    kind = type(value)
    if kind is str:
        return not value or value.isspace()
    if kind is list:
        return not value
    return False


def _utc(value: str | datetime | None) -> datetime | None:
    """A stored time read raw: SQLite's naive UTC text, PostgreSQL's aware datetime, or ISO
    text with the session's zone (times inside JSON). ``fromisoformat`` is C; the column
    type's own parsing is a regular expression per value."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_NO_EVENTS = (0.0, 0)


def _scores(site: SiteSnapshot, ids: list[int], now: datetime) -> dict[int, tuple[float, int]]:
    """Engagement score and number of counted events per contact (every stored event counts:
    an event id is unique per contact). Without a half-life the database counts events per
    kind; with one, each event's age matters and the domain adds up their decayed weights."""
    if site.half_life_days is not None and site.half_life_days > 0:
        by_contact: dict[int, list[tuple[str, datetime]]] = {}
        occurred = type_coerce(EngagementEvent.occurred_at, String)  # parsed below, faster
        for contact_id, kind, at in db.session.execute(
            select(EngagementEvent.contact_id, EngagementEvent.kind, occurred).where(
                EngagementEvent.contact_id.in_(ids)
            )
        ):
            by_contact.setdefault(contact_id, []).append((kind, _utc(at)))
        return {
            contact_id: (score_of(events, site.weights, now, site.half_life_days), len(events))
            for contact_id, events in by_contact.items()
        }
    counts: dict[int, dict[str, int]] = {}
    for contact_id, kind, n in db.session.execute(
        select(EngagementEvent.contact_id, EngagementEvent.kind, func.count())
        .where(EngagementEvent.contact_id.in_(ids))
        .group_by(EngagementEvent.contact_id, EngagementEvent.kind)
    ):
        counts.setdefault(contact_id, {})[kind] = n
    return {
        contact_id: (undecayed_score(by_kind, site.weights), sum(by_kind.values()))
        for contact_id, by_kind in counts.items()
    }


def _last_seen(ids: list[int]) -> dict[int, str | datetime]:
    return dict(
        db.session.execute(
            select(Visitor.contact_id, type_coerce(func.max(Visitor.last_seen_at), String))
            .where(Visitor.contact_id.in_(ids))
            .group_by(Visitor.contact_id)
        ).all()
    )


# --- Submission history -------------------------------------------------------------------

HISTORY_COLUMNS = (
    Column("submission_id", "int"),
    Column("contact_id", "int"),
    Column("email", "text"),
    Column("field", "text"),
    Column("value", "any"),
    Column("previous_value", "any"),
    Column("form", "text"),
    Column("created_at", "time"),
)


def export_history(site_key: str, fmt: str, filters: HistoryFilters, now: datetime) -> Export:
    """Every accepted value (one row each), oldest first: the history behind the profiles."""
    site = site_snapshot(site_key)
    query = (
        select(
            Submission.id,
            Submission.contact_id,
            Contact.email,
            Field.key,
            Submission.value,
            Submission.previous_value,
            Submission.form_key,
            Submission.created_at,
        )
        .join(Contact, Contact.id == Submission.contact_id)
        .join(Field, Field.id == Submission.field_id)
        .where(Submission.site_id == site.id)
    )
    if filters.since is not None:
        query = query.where(Submission.created_at >= filters.since)
    if filters.form is not None:
        query = query.where(Submission.form_key == filters.form)
    if filters.field is not None:
        query = query.where(Field.key == filters.field)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0

    def rows(export: Export) -> Iterator[list[Any]]:
        after = 0
        while True:
            chunk = db.session.execute(
                query.where(Submission.id > after).order_by(Submission.id).limit(CHUNK * 5)
            ).all()
            if not chunk:
                return
            after = chunk[-1].id
            end_reads()
            for r in chunk:
                export.scanned += 1
                yield list(r)

    return Export(
        filename=_filename(site.key, "submissions", fmt, now),
        content_type=FORMATS[fmt],
        columns=HISTORY_COLUMNS,
        total=total,
        rows=rows,
        fmt=fmt,
    )


EXPORTS = ("contacts", "submissions")


def start_export(site_key: str, what: str, params: Mapping[str, str], now: datetime) -> Export:
    """The export of ``what`` (contacts or submissions) that ``params`` ask for: the one entry
    point of the console, the token API and the CLI. Bad params are ``Invalid`` (422)."""
    if what == "contacts":
        fmt, filters = contact_export_request(site_key, params)
        return export_contacts(site_key, fmt, filters, now)
    fmt, history_filters = history_export_request(site_key, params)
    return export_history(site_key, fmt, history_filters, now)
