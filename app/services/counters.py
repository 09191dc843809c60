"""Daily counters kept in memory and added to their table in batches.

The widget's requests are the hot path, so counting costs them a dictionary update under a
lock, never a database write: each process keeps a tally ``{key: [n, ...]}`` per counter table
and adds it to the table (one upsert per key, in one transaction of its own) when the last flush
is older than ``QUESTION_STATS_FLUSH_SECONDS`` (checked on each count), before the console reads
the counters, and when the process exits. A flush that fails keeps the tally for the next one:
a visitor's request never fails because of a counter.

Two tables use it: ``question_stats`` (``insights.question_stats``: shown, answered, skipped per
question, form and day) and ``form_stats`` (``people.form_counts``: per form and UTC day, the
page views that placed it and the asks for it that returned questions).
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app.clock import current_time
from app.extensions import db

_CREATE_LOCK = threading.Lock()

Key = tuple[Any, ...]  # the values of a counter table's key columns


class Tally:
    """One process's counts not yet in the database, ``size`` counters per key. Thread-safe."""

    def __init__(self, started: datetime, size: int) -> None:
        self._lock = threading.Lock()
        self._size = size
        self._counts: dict[Key, list[int]] = {}
        self._last_flush = started

    def add(self, keys: Iterable[Key], counter: int) -> None:
        """Add one to ``counter`` (its index) of each of ``keys``."""
        with self._lock:
            for key in keys:
                counts = self._counts.get(key)
                if counts is None:
                    counts = self._counts[key] = [0] * self._size
                counts[counter] += 1

    def claim_flush(self, now: datetime, interval: float) -> bool:
        """True for exactly one caller once the last flush is ``interval`` seconds old."""
        with self._lock:
            if (now - self._last_flush).total_seconds() < interval:
                return False
            self._last_flush = now
            return True

    def take(self) -> dict[Key, list[int]]:
        """Everything counted so far; the tally starts again from nothing."""
        with self._lock:
            counts, self._counts = self._counts, {}
        return counts

    def give_back(self, counts: dict[Key, list[int]]) -> None:
        """Counts a flush could not write, added to whatever was counted meanwhile."""
        with self._lock:
            for key, values in counts.items():
                kept = self._counts.setdefault(key, [0] * self._size)
                for i, value in enumerate(values):
                    kept[i] += value

    def pending(self) -> dict[Key, tuple[int, ...]]:
        """A copy of the counts not yet flushed (for tests and diagnostics)."""
        with self._lock:
            return {key: tuple(counts) for key, counts in self._counts.items()}


@dataclass(frozen=True)
class DailyCounters:
    """The counters of one table: ``keys`` name the columns of a tally key, ``unique`` those of
    them the table's unique constraint holds, ``counters`` the columns added to. ``owned_by``
    is the key column naming the row each count belongs to, ``owner`` that row's id column: a
    count whose owner was deleted since (a field, a site) has no row to count against and is
    dropped. ``tally_class`` makes the process's tally (a subclass may remember more)."""

    name: str  # the app extension's and the logger's name
    what: str  # for the log: "question counters"
    table: Any  # a model's __table__
    keys: tuple[str, ...]
    unique: tuple[str, ...]
    counters: tuple[str, ...]
    owned_by: str
    owner: Any
    tally_class: type[Tally] = Tally

    def tally(self, now: datetime | None = None) -> Tally:
        """This app's tally, created on first use (which also arranges the flush at exit)."""
        extension = f"trickle.{self.name}"
        tally = current_app.extensions.get(extension)
        if tally is not None:
            return tally
        with _CREATE_LOCK:
            tally = current_app.extensions.get(extension)
            if tally is None:
                started = now or current_time()
                tally = self.tally_class(started, len(self.counters))
                current_app.extensions[extension] = tally
                app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
                # A weak reference: an app that is gone (tests build many) has nothing to flush.
                atexit.register(self.flush_at_exit, weakref.ref(app))
        return tally

    def flush_when_due(self, tally: Tally, now: datetime) -> None:
        if tally.claim_flush(now, float(current_app.config["QUESTION_STATS_FLUSH_SECONDS"])):
            self.flush()

    def flush(self) -> int:
        """Add the tally to the table; return how many rows it touched.

        Runs in a transaction of its own, not the caller's session. On failure (database down,
        locked) the counts are kept for the next flush, a warning is logged, and 0 is returned.
        """
        tally = self.tally()
        counts = tally.take()
        if not counts:
            return 0
        try:
            return self._upsert(counts)
        except Exception:
            tally.give_back(counts)
            logging.getLogger(f"trickle.{self.name}").warning(
                "%s not flushed; kept for the next flush", self.what, exc_info=True
            )
            return 0

    def _upsert(self, counts: dict[Key, list[int]]) -> int:
        table = self.table
        engine = db.engine
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        statement = insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c[name] for name in self.unique],
            set_={name: table.c[name] + statement.excluded[name] for name in self.counters},
        )
        with engine.begin() as connection:
            at = self.keys.index(self.owned_by)
            wanted = {key[at] for key in counts}
            found = set(connection.scalars(select(self.owner).where(self.owner.in_(wanted))))
            rows = [
                {
                    **dict(zip(self.keys, key, strict=True)),
                    **dict(zip(self.counters, values, strict=True)),
                }
                # In key order: two processes flushing the same rows lock them in the same
                # order, so their upserts wait for each other instead of deadlocking (PostgreSQL).
                for key, values in sorted(counts.items())
                if key[at] in found
            ]
            if rows:
                connection.execute(statement, rows)
        return len(rows)

    def flush_at_exit(self, app_ref: weakref.ref[Flask]) -> None:
        """Flush what is left when the process exits; never raise (it is going anyway)."""
        try:
            app = app_ref()
            if app is None or f"trickle.{self.name}" not in app.extensions:
                return
            with app.app_context():
                self.flush()
        except Exception:  # noqa: S110 - nothing useful to do with an error at exit
            pass
