"""Databases for tests: throw-away PostgreSQL databases, the settings of a test app, and one
engine per test database for the apps that use it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from app.config import TestConfig
from app.extensions import db

_shared_urls: set[str] = set()
_shared_engines: dict[tuple[str | None, str], Engine] = {}


def _fresh_pools_in_child() -> None:
    """A forked process (tests/delivery/test_workers.py forks a worker) must not use the
    parent's pooled connections: two processes on one server session mix up its state (on
    PostgreSQL: psycopg's prepared statements, then "prepared statement already exists" in the
    parent). The child's engines start new pools and leave the parent's connections alone."""
    for engine in _shared_engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_fresh_pools_in_child)


def postgres_database(base_url: str) -> Iterator[str]:
    """A throw-away database on the test server, dropped at the end of the session."""
    name = f"trickle_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # Commits return without waiting for the WAL flush (an fsync each, 5 ms on this disk):
        # what a test sees is the same, only a crash of the server could lose the last ones.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def settings_for(url: str, **extra: object) -> dict[str, object]:
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings.update(DATABASE_URL=url, **extra)
    return settings


def share_engine(url: str) -> None:
    """Apps made on ``url`` (a session's test database) in this process share one engine.

    Every test makes its own app, and each app its own engine: a new connection (on PostgreSQL,
    a new server process with cold caches) and every SQL statement compiled again, the engine's
    statement cache starting empty. Shared, the connections and compiled statements carry over
    from test to test; connections still go back to the pool rolled back, and rows are wiped
    after each test. Apps on any other URL get their own engine, as before.
    """
    _shared_urls.add(url)
    if "_make_engine" in vars(db):
        return  # wrapped already
    make_engine: Callable[[str | None, dict[str, Any], Flask], Engine] = db._make_engine

    def make_or_share(bind_key: str | None, options: dict[str, Any], app: Flask) -> Engine:
        if str(options.get("url")) not in _shared_urls:
            return make_engine(bind_key, options, app)
        key = (bind_key, repr(sorted(options.items())))
        engine = _shared_engines.get(key)
        if engine is None:
            engine = _shared_engines[key] = make_engine(bind_key, options, app)
        return engine

    db._make_engine = make_or_share  # type: ignore[method-assign]
