"""Databases for tests: throw-away PostgreSQL databases and the settings of a test app."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.config import TestConfig


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
