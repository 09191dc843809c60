"""One unit of work, committed, retried when a concurrent writer got there first."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError

from app.extensions import db

T = TypeVar("T")

# PostgreSQL: unique violation (a row another request inserted meanwhile; the rerun sees it),
# serialization failure, deadlock. All mean "run it again", never "bad input".
_RETRYABLE_PGCODES = {"23505", "40001", "40P01"}
# SQLite: the same unique violation, and a writer whose snapshot went stale under WAL.
_RETRYABLE_SQLITE = ("UNIQUE constraint failed", "database is locked")


def _retryable(exc: Exception) -> bool:
    original = getattr(exc, "orig", None)
    if getattr(original, "sqlstate", None) in _RETRYABLE_PGCODES:
        return True
    return isinstance(original, sqlite3.Error) and str(original).startswith(_RETRYABLE_SQLITE)


def commit_unit(work: Callable[[], T], attempts: int = 3) -> T:
    """Run ``work`` and commit; on a conflict with a concurrent writer, roll back and rerun it.

    ``work`` must start from the database, not from ORM objects loaded before it.
    """
    for attempt in range(1, attempts + 1):
        try:
            result = work()
            db.session.commit()
            return result
        except (IntegrityError, OperationalError) as exc:
            db.session.rollback()
            if attempt == attempts or not _retryable(exc):
                raise
        except BaseException:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")
