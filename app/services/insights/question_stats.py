"""Question counters: how often each question was shown, answered and skipped, per form and day.

The ask endpoint is the hot path, so counting costs it a dictionary update under a lock, never
a database write: each process keeps a tally ``{(site_id, field_id, form_key, day): [shown,
answered, skipped]}`` and adds it to ``question_stats`` (one upsert per key, in one transaction
of its own) when the last flush is older than ``QUESTION_STATS_FLUSH_SECONDS`` (checked on each
count), before the dashboard reads the counters, and when the process exits. A flush that fails
keeps the tally for the next one: a visitor's request never fails because of a counter.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, date, datetime

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app.clock import current_time
from app.extensions import db
from app.models import Field, QuestionStat
from app.services.siteconfig import SiteSnapshot

log = logging.getLogger("trickle.question_stats")  # a name that survives moving the module

COUNTERS = ("shown", "answered", "skipped")
ANSWERED_ASKS_KEPT = 50_000  # ask tokens remembered per process (16 bytes each)
_EXTENSION = "trickle.question_stats"
_CREATE_LOCK = threading.Lock()

TallyKey = tuple[int, int, str, date]  # site_id, field_id, form_key, UTC day


class QuestionTally:
    """One process's counts not yet in the database. Thread-safe."""

    def __init__(self, started: datetime) -> None:
        self._lock = threading.Lock()
        self._counts: dict[TallyKey, list[int]] = {}
        self._last_flush = started
        # Digests of the ask tokens whose answers were counted, newest last (bounded).
        self._answered_asks: OrderedDict[bytes, None] = OrderedDict()

    def first_answer(self, ask_token: str) -> bool:
        """True the first time this process sees a submit for ``ask_token``: an ask token may
        be answered again (a double click with a new idempotency key, a script), but its
        questions were shown once, so their answers count once."""
        digest = hashlib.sha256(ask_token.encode("utf-8", "surrogatepass")).digest()[:16]
        with self._lock:
            if digest in self._answered_asks:
                return False
            self._answered_asks[digest] = None
            if len(self._answered_asks) > ANSWERED_ASKS_KEPT:
                self._answered_asks.popitem(last=False)
            return True

    def add(
        self,
        site_id: int,
        form_key: str,
        now: datetime,
        *,
        shown: Iterable[int] = (),
        answered: Iterable[int] = (),
        skipped: Iterable[int] = (),
    ) -> None:
        """Count each field id once under its counter, on the UTC day of ``now``."""
        day = now.astimezone(UTC).date()
        with self._lock:
            for counter, field_ids in enumerate((shown, answered, skipped)):
                for field_id in field_ids:
                    key = (site_id, field_id, form_key, day)
                    counts = self._counts.get(key)
                    if counts is None:
                        counts = self._counts[key] = [0, 0, 0]
                    counts[counter] += 1

    def claim_flush(self, now: datetime, interval: float) -> bool:
        """True for exactly one caller once the last flush is ``interval`` seconds old."""
        with self._lock:
            if (now - self._last_flush).total_seconds() < interval:
                return False
            self._last_flush = now
            return True

    def take(self) -> dict[TallyKey, list[int]]:
        """Everything counted so far; the tally starts again from nothing."""
        with self._lock:
            counts, self._counts = self._counts, {}
        return counts

    def give_back(self, counts: dict[TallyKey, list[int]]) -> None:
        """Counts a flush could not write, added to whatever was counted meanwhile."""
        with self._lock:
            for key, values in counts.items():
                kept = self._counts.setdefault(key, [0, 0, 0])
                for i, value in enumerate(values):
                    kept[i] += value

    def pending(self) -> dict[TallyKey, tuple[int, int, int]]:
        """A copy of the counts not yet flushed (for tests and diagnostics)."""
        with self._lock:
            return {key: (c[0], c[1], c[2]) for key, c in self._counts.items()}


def count_shown(site: SiteSnapshot, form_key: str, field_ids: Iterable[int], now: datetime) -> None:
    """Count the questions one ask returned as shown once each."""
    tally = question_tally(now)
    tally.add(site.id, form_key, now, shown=field_ids)
    _flush_when_due(tally, now)


def count_answers(
    site: SiteSnapshot,
    form_key: str,
    answered_field_ids: Iterable[int],
    skipped_field_ids: Iterable[int],
    now: datetime,
    ask_token: str,
    shown_field_ids: Iterable[int] = (),
) -> None:
    """Count one stored submit: its non-blank answers as answered, its skips as skipped, the
    questions granted conditioned that it showed as shown (the ask did not count them);
    nothing for a second submit of the same ask token (see ``QuestionTally.first_answer``)."""
    tally = question_tally(now)
    if not tally.first_answer(ask_token):
        return
    tally.add(
        site.id,
        form_key,
        now,
        shown=shown_field_ids,
        answered=answered_field_ids,
        skipped=skipped_field_ids,
    )
    _flush_when_due(tally, now)


def _flush_when_due(tally: QuestionTally, now: datetime) -> None:
    if tally.claim_flush(now, float(current_app.config["QUESTION_STATS_FLUSH_SECONDS"])):
        flush()


def question_tally(now: datetime | None = None) -> QuestionTally:
    """This app's tally, created on first use (which also arranges the flush at exit)."""
    tally = current_app.extensions.get(_EXTENSION)
    if tally is not None:
        return tally
    with _CREATE_LOCK:
        tally = current_app.extensions.get(_EXTENSION)
        if tally is None:
            started = now or current_time()
            tally = current_app.extensions[_EXTENSION] = QuestionTally(started)
            app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
            # A weak reference: an app that is gone (tests build many) has nothing to flush.
            atexit.register(_flush_at_exit, weakref.ref(app))
    return tally


def flush() -> int:
    """Add the tallies to ``question_stats``; return how many (field, form, day) rows it touched.

    Runs in a transaction of its own, not the caller's session. On failure (database down,
    locked) the counts are kept for the next flush, a warning is logged, and 0 is returned.
    """
    tally = question_tally()
    counts = tally.take()
    if not counts:
        return 0
    try:
        return _upsert(counts)
    except Exception:
        tally.give_back(counts)
        log.warning("question counters not flushed; kept for the next flush", exc_info=True)
        return 0


def _upsert(counts: dict[TallyKey, list[int]]) -> int:
    table = QuestionStat.__table__
    engine = db.engine
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.field_id, table.c.form_key, table.c.day],
        set_={name: table.c[name] + statement.excluded[name] for name in COUNTERS},
    )
    with engine.begin() as connection:
        # A field deleted since it was counted (its site deleted) has no row to count against.
        existing = set(
            connection.scalars(
                select(Field.id).where(Field.id.in_({key[1] for key in counts}))
            ).all()
        )
        rows = [
            {
                "site_id": site_id,
                "field_id": field_id,
                "form_key": form_key,
                "day": day,
                **dict(zip(COUNTERS, values, strict=True)),
            }
            # In key order: two processes flushing the same rows lock them in the same order,
            # so their upserts wait for each other instead of deadlocking (PostgreSQL).
            for (site_id, field_id, form_key, day), values in sorted(counts.items())
            if field_id in existing
        ]
        if rows:
            connection.execute(statement, rows)
    return len(rows)


def _flush_at_exit(app_ref: weakref.ref[Flask]) -> None:
    """Flush what is left when the process exits; never raise (the process is going anyway)."""
    try:
        app = app_ref()
        if app is None or _EXTENSION not in app.extensions:
            return
        with app.app_context():
            flush()
    except Exception:  # noqa: S110 - nothing useful to do with an error at exit
        pass
