"""One unit of work, committed, retried when a concurrent writer got there first; many rows
written in it at once (``insert_rows``)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import JSON, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

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


def commit_unit(work: Callable[[], T], attempts: int = 3, *, serialize: bool = True) -> T:
    """Run ``work`` and commit; on a conflict with a concurrent writer, roll back and rerun it.

    ``work`` must start from the database, not from ORM objects loaded before it.
    ``serialize``: on SQLite, take the write lock before ``work`` reads anything (see
    ``_begin_writing``); False for a unit that mostly reads and never writes what it read
    (an ask), so that readers are not queued behind each other.
    """
    for attempt in range(1, attempts + 1):
        try:
            if serialize:
                _begin_writing()
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


def _begin_writing() -> None:
    """SQLite: start the unit with ``BEGIN IMMEDIATE``, taking the database's one write lock
    (waiting up to the busy timeout) before the unit's first read.

    Without it the driver opens a transaction only at the first INSERT/UPDATE/DELETE: every
    read before it ran on its own, outside the write lock, so a unit decided on a state that
    another writer changed before this one could write (a lifecycle stage moved twice, a value
    read before a concurrent merge). With it, write units run one after the other on one
    state, as the row locks make them on PostgreSQL. Readers are not blocked (WAL).
    """
    if db.session.get_bind().dialect.name == "sqlite":
        begin_on_sqlite("BEGIN IMMEDIATE")


def begin_on_sqlite(statement: str = "BEGIN") -> None:
    """On SQLite, open the session's transaction now with ``statement`` (``BEGIN`` or ``BEGIN
    IMMEDIATE``) unless one is open: pysqlite opens one only at the first INSERT, UPDATE or
    DELETE, so reads and DDL before it would run outside of it. Nothing on other engines."""
    connection = db.session.connection()
    driver = connection.connection.driver_connection
    if isinstance(driver, sqlite3.Connection) and not driver.in_transaction:
        connection.exec_driver_sql(statement)


def insert_rows(
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Insert ``rows`` (tuples of ``columns``' values) into ``table`` in the session's unit,
    straight to the driver: on PostgreSQL with ``COPY … FROM STDIN``, on SQLite with the
    cursor's ``executemany``. ``constants``: columns whose value is the same for every row.

    SQLAlchemy's executemany compiles and type-processes every parameter of every row in
    Python; for an import's millions of values that was most of its time (docs/benchmarks.md,
    "Import"). Here a JSON column's values are serialized as its type would, the constants
    are processed once by their column's type, and every other value must be one the driver
    takes as it is (text, numbers, booleans, None).
    """
    db.session.flush()  # what the rows refer to is in the database first
    connection = db.session.connection()
    dialect = connection.dialect
    constants = constants or {}
    fixed = tuple(_bound(table.c[name].type, value, dialect) for name, value in constants.items())
    encoded = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]

    def prepared(row: Sequence[Any]) -> tuple[Any, ...]:
        if not encoded:
            return (*row, *fixed)
        values = list(row)
        for i in encoded:
            values[i] = json.dumps(values[i])
        return (*values, *fixed)

    names = [*columns, *constants]
    cursor = connection.connection.cursor()
    if dialect.name == "postgresql":
        statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    else:
        marks = ", ".join("?" * len(names))
        statement = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"  # noqa: S608 - names from the table
    try:
        if dialect.name == "postgresql":
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(prepared(row))
        else:
            cursor.executemany(statement, map(prepared, rows))
    except dialect.loaded_dbapi.Error as error:
        # As SQLAlchemy raises it (an IntegrityError…): ``commit_unit`` retries a conflict.
        raise DBAPIError.instance(statement, None, error, dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()


def _bound(type_: Any, value: Any, dialect: Dialect) -> Any:
    """``value`` as ``type_`` hands it to the driver (a time as SQLite stores it)."""
    processor = type_.dialect_impl(dialect).bind_processor(dialect)
    return processor(value) if processor is not None else value
