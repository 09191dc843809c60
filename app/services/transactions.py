"""One unit of work, committed, retried when a concurrent writer got there first."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError

from app.extensions import db

T = TypeVar("T")

# PostgreSQL: serialization failure, deadlock. Both mean "run it again", never "bad input".
_RETRYABLE_PGCODES = {"40001", "40P01"}


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        return True  # a unique key another request inserted meanwhile; the retry will see it
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in _RETRYABLE_PGCODES


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
