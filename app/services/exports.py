"""Exports for analysts: a site's contacts, or its submission history, streamed as CSV, JSON
Lines or Parquet.

One implementation serves the console download, the token API and ``trickle export``: each
parses its input with ``export_params`` and streams ``export.chunks``. Contacts are read in id
order, a chunk at a time, and each chunk's transaction ends before its rows are written: memory
and database locks stay flat whatever the size of the site and however slow the reader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, or_, select

from app.domain.engagement import summarize_engagement
from app.domain.specs import is_blank
from app.extensions import db
from app.models import (
    AccountValue,
    Contact,
    Field,
    ProfileValue,
    Submission,
    Visitor,
)
from app.services.contact_views import events_by_contact
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
        Contact.created_at,
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
    layout = tuple((f.key, f.value is not None) for f in _field_columns(site))
    by_id = site.keys_by_field_id
    account_keys = {
        view.id: key for key, view in site.fields.items() if view.rule.scope == "account"
    }
    active = len(site.fields)
    tier_fields = {
        tier: [key for key, view in site.fields.items() if view.rule.tier == tier]
        for tier in filters.tiers_complete
    }
    after = 0
    while True:
        contacts = db.session.execute(
            base.where(Contact.id > after).order_by(Contact.id).limit(CHUNK)
        ).all()
        if not contacts:
            return
        after = contacts[-1].id
        ids = [c.id for c in contacts]
        own = _own_values(by_id, ids, filters.provenance)
        shared = _account_values(
            account_keys, {c.account_id for c in contacts} - {None}, filters.provenance
        )
        events = events_by_contact(ids)
        seen = _last_seen(ids)
        end_reads()
        for contact in contacts:
            export.scanned += 1
            values = dict(shared.get(contact.account_id, ()))
            values.update(own.get(contact.id, ()))
            completeness = len(values) * 100 // active if active else 0
            if filters.min_completeness is not None and completeness < filters.min_completeness:
                continue
            if any(not all(k in values for k in tier) for tier in tier_fields.values()):
                continue
            summary = summarize_engagement(
                events.get(contact.id, ()), site.weights, now, site.half_life_days
            )
            row: list[Any] = [
                contact.id,
                contact.email,
                contact.lifecycle_stage,
                summary.score,
                len(summary.event_times),
                contact.created_at,
                seen.get(contact.id),
                completeness,
            ]
            for key, has_column in layout:
                known = values.get(key, _UNKNOWN)
                if has_column:
                    row.append(known[0])
                if filters.provenance:
                    row += [known[1], known[2]]
            yield row


def _own_values(
    by_id: Mapping[int, str], ids: list[int], provenance: bool
) -> dict[int, dict[str, tuple[Any, Any, Any]]]:
    columns = [ProfileValue.contact_id, ProfileValue.field_id, ProfileValue.value]
    if provenance:
        columns += [ProfileValue.updated_at, ProfileValue.form_key]
    found: dict[int, dict[str, tuple[Any, Any, Any]]] = {}
    for row in db.session.execute(select(*columns).where(ProfileValue.contact_id.in_(ids))):
        key = by_id.get(row[1])
        if key is None or is_blank(row[2]):
            continue
        found.setdefault(row[0], {})[key] = (
            (row[2], row[3], row[4]) if provenance else (row[2], None, None)
        )
    return found


def _account_values(
    account_keys: Mapping[int, str], accounts: set[int], provenance: bool
) -> dict[int, dict[str, tuple[Any, Any, Any]]]:
    if not account_keys or not accounts:
        return {}
    columns = [AccountValue.account_id, AccountValue.field_id, AccountValue.value]
    if provenance:
        columns += [AccountValue.updated_at, AccountValue.form_key]
    found: dict[int, dict[str, tuple[Any, Any, Any]]] = {}
    for row in db.session.execute(
        select(*columns).where(
            AccountValue.account_id.in_(accounts),
            AccountValue.field_id.in_(list(account_keys)),
        )
    ):
        if is_blank(row[2]):
            continue
        found.setdefault(row[0], {})[account_keys[row[1]]] = (
            (row[2], row[3], row[4]) if provenance else (row[2], None, None)
        )
    return found


def _last_seen(ids: list[int]) -> dict[int, datetime]:
    return dict(
        db.session.execute(
            select(Visitor.contact_id, func.max(Visitor.last_seen_at))
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
