"""Exports for analysts: a site's contacts, or its submission history, streamed as CSV, JSON
Lines or Parquet.

One implementation serves the console download, the token API and ``trickle export``: each
parses its input with ``params`` and streams ``Export.chunks``. Contacts are read in id
order, a chunk at a time, and each chunk's transaction ends before its rows are written: memory
and database locks stay flat whatever the size of the site and however slow the reader.
"""

from __future__ import annotations

import contextlib
import gc
import json
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    bindparam,
    func,
    null,
    select,
)

from app.domain.specs import is_blank
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
from app.services.exports.columns import contact_columns, field_columns
from app.services.exports.params import (
    FORMATS,
    ContactFilters,
    HistoryFilters,
    contact_export_request,
    history_export_request,
)
from app.services.exports.queries import (
    as_one_document,
    contact_query,
    event_score,
    iso_text,
    values_document,
)
from app.services.exports.writers import WRITERS, Column
from app.services.siteconfig import SiteSnapshot, site_snapshot

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


def export_contacts(site_key: str, fmt: str, filters: ContactFilters, now: datetime) -> Export:
    """The site's contacts matching ``filters``, one row each, in contact id order."""
    site = site_snapshot(site_key)
    base = contact_query(site, filters)
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


_UNKNOWN = (None, None, None)  # (value, given at, through form) of a field not known


def end_reads() -> None:
    """End the session's read transaction (the count, the site) before rows go out."""
    db.session.rollback()


_DONE = object()


_key = itemgetter(0)
_YOUNG = 100_000  # allocations between young collections while an export streams (default 700)
_streams = {"count": 0, "thresholds": gc.get_threshold()}
_streams_lock = threading.Lock()


@contextlib.contextmanager
def _rare_young_collections() -> Iterator[None]:
    """While exports stream, the garbage collector collects young objects every ``_YOUNG``
    allocations instead of every 700: a chunk's rows (thousands of lists and dicts, all alive
    until written) were walked again and again, a fifth of the export's time. Cyclic garbage
    is still collected, less often. Process-wide, so counted across concurrent exports."""
    with _streams_lock:
        _streams["count"] += 1
        if _streams["count"] == 1:
            _streams["thresholds"] = gc.get_threshold()
            gc.set_threshold(_YOUNG, *_streams["thresholds"][1:])
    try:
        yield
    finally:
        with _streams_lock:
            _streams["count"] -= 1
            if _streams["count"] == 0:
                gc.set_threshold(*_streams["thresholds"])


def _prefetched(query: Any) -> Iterator[list[Any]]:
    """The chunks of ``query`` (``as_one_document``; keyset paging: the rows' first cell is
    the key, ``:after`` the last key of the chunk before), read by a thread one chunk ahead of
    the rows being written: the database's work (SQLite's releases the GIL, PostgreSQL's is
    another process) overlaps Python's.

    Each chunk is read on a pooled connection of its own, in its own transaction, which ends
    before the chunk is handed over: a slow reader of the stream holds no snapshot, table lock
    or connection while its bytes go out (a migration is never stuck behind a download). Each
    chunk is consistent; keyset paging skips nothing. A failed read is raised here; a stream
    closed early stops the thread after the chunk it is reading."""
    engine = db.engine
    postgres = engine.dialect.name == "postgresql"
    handed: queue.Queue[Any] = queue.Queue(maxsize=1)
    stopped = threading.Event()

    def read() -> None:
        after: Any = 0
        try:
            while not stopped.is_set():
                with engine.connect() as connection:
                    if postgres:
                        # The planner costs a chunk (correlated subqueries per contact) high
                        # enough to JIT-compile it: 20 ms a chunk, a third of its run time.
                        connection.exec_driver_sql("SET LOCAL jit = off")
                    document, last = connection.execute(query, {"after": after}).one()
                if last is None:
                    handed.put(_DONE)
                    return
                handed.put(document)  # decoded by the writing thread: this one only waits
                after = last
        except BaseException as error:
            handed.put(error)

    with _rare_young_collections():
        reader = threading.Thread(target=read, name="export-reader", daemon=True)
        reader.start()
        try:
            while True:
                end_reads()
                document = handed.get()
                if document is _DONE:
                    return
                if isinstance(document, BaseException):
                    raise document
                chunk = json.loads(document)
                chunk.sort(key=_key)  # the database's order already, as a rule
                yield chunk
        finally:
            stopped.set()
            with contextlib.suppress(queue.Empty):
                handed.get_nowait()  # a put waiting for room ends; the thread sees ``stopped``
            reader.join()


def _contact_rows(
    site: SiteSnapshot,
    base: Any,
    filters: ContactFilters,
    now: datetime,
    export: Export,
) -> Iterator[list[Any]]:
    """The rows, a chunk of contacts at a time. One query per chunk returns, per contact, its
    values and its company's as JSON documents, its score, event count and last visit, and its
    times as ISO text: Python only merges two dictionaries and picks the columns out.
    A thread reads the next chunk while this one is turned into rows (``_prefetched``)."""
    provenance = filters.provenance
    layout = field_columns(site)
    fields = site.fields
    account_ids = [fields[f.key].id for f in layout if fields[f.key].rule.scope == "account"]
    query = _chunk_query(
        site, base, [fields[f.key].id for f in layout], account_ids, now, provenance
    )
    keys = [str(fields[f.key].id) for f in layout]
    if provenance:
        # The flat (value, at, source) cells of every field, less the value of a field without
        # a value column (the identity email, which is the email column).
        unknowns = [_UNKNOWN] * len(keys)
        kept = [
            n
            for n, f in enumerate(layout)
            for n in (3 * n, 3 * n + 1, 3 * n + 2)
            if f.value is not None or n % 3
        ]
        pick = None if len(kept) == 3 * len(keys) else _picker(kept)
    else:
        values = [k for k, f in zip(keys, layout, strict=True) if f.value is not None]
    active = len(layout)
    tiers = [
        {str(view.id) for view in fields.values() if view.rule.tier == tier}
        for tier in filters.tiers_complete
    ]
    least = filters.min_completeness
    for chunk in _prefetched(query):
        for contact_id, email, stage, created, own, shared, score, counted, seen in chunk:
            export.scanned += 1
            known = _without_blanks(own, provenance) if own else {}
            if shared:
                # the contact's own value wins
                known = _without_blanks(shared, provenance) | known
            completeness = len(known) * 100 // active if active else 0
            if least is not None and completeness < least:
                continue
            if tiers and not all(tier.issubset(known) for tier in tiers):
                continue
            if provenance:
                cells = list(chain.from_iterable(map(known.get, keys, unknowns)))
                if pick is not None:
                    cells = pick(cells)
            else:
                cells = list(map(known.get, values))
            yield [
                contact_id,
                email,
                stage,
                0.0 if score is None else round(float(score), 4),
                counted,
                created,
                seen,
                completeness,
                *cells,
            ]


def _picker(positions: list[int]) -> Callable[[list[Any]], list[Any]]:
    get = itemgetter(*positions)
    return lambda cells: list(get(cells))


def _without_blanks(document: dict[str, Any], provenance: bool) -> dict[str, Any]:
    """``document`` without its blank values (``is_blank``: they are not known); itself when
    it holds none, as documents almost always do (checked with ``is_blank`` inlined: this runs
    for every contact)."""
    for held in map(_key, document.values()) if provenance else document.values():
        if held is None:
            break
        kind = held.__class__
        if kind is str:
            if not held or held.isspace():
                break
        elif kind is list and not held:
            break
    else:
        return document
    if provenance:
        return {k: v for k, v in document.items() if not is_blank(v[0])}
    return {k: v for k, v in document.items() if not is_blank(v)}


def _chunk_query(
    site: SiteSnapshot,
    base: Any,
    field_ids: list[int],
    account_ids: list[int],
    now: datetime,
    provenance: bool,
) -> Any:
    """``base`` (the filtered contacts), a chunk after ``:after`` in id order, with per contact
    correlated subqueries: values, company values, score, event count, last visit."""
    sqlite = db.engine.dialect.name == "sqlite"
    own = values_document(
        ProfileValue, ProfileValue.contact_id == Contact.id, field_ids, provenance
    )
    shared: Any = null()
    if account_ids:
        shared = values_document(
            AccountValue,
            # Only a trusted company value speaks for the contact; a candidate is its giver's own.
            (AccountValue.account_id == Contact.account_id) & AccountValue.trusted.is_(True),
            account_ids,
            provenance,
        )
    events = (EngagementEvent.contact_id == Contact.id) & EngagementEvent.counted.is_(True)
    seen = select(func.max(Visitor.last_seen_at)).where(Visitor.contact_id == Contact.id)
    chunk = (
        base.add_columns(
            own.label("own"),
            shared.label("shared"),
            select(func.sum(event_score(site, now, sqlite))).where(events).scalar_subquery(),
            select(func.count()).where(events).scalar_subquery(),
            iso_text(seen.scalar_subquery(), sqlite),
        )
        .where(Contact.id > bindparam("after"))
        .order_by(Contact.id)
        .limit(CHUNK)
    )
    return as_one_document(chunk, {"own", "shared"})


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
            Submission.value.label("value"),
            Submission.previous_value.label("previous"),
            Submission.form_key,
            iso_text(Submission.created_at, db.engine.dialect.name == "sqlite"),
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
        paged = query.where(Submission.id > bindparam("after")).order_by(Submission.id)
        for chunk in _prefetched(as_one_document(paged.limit(CHUNK * 5), {"value", "previous"})):
            export.scanned += len(chunk)
            yield from chunk

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
