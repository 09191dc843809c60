"""Fixtures shared by every test that needs the app.

Database tests run once on SQLite and once on PostgreSQL (when ``TRICKLE_TEST_POSTGRES_URL``
is set; otherwise that leg is skipped with the reason printed). Each backend's schema is created
once per session; rows are wiped after every test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.config import TestConfig, test_postgres_url
from app.extensions import db

BACKENDS = ["sqlite", "postgres"]


class FakeClock:
    """The app's clock, moved by tests instead of sleeping."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


def _postgres_database(base_url: str) -> Iterator[str]:
    """A throw-away database on the test server, dropped at the end of the session."""
    name = f"trickle_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    base = test_postgres_url()
    if not base:
        pytest.skip("TRICKLE_TEST_POSTGRES_URL is not set: the PostgreSQL leg is skipped")
    yield from _postgres_database(base)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with the schema in place, one per backend for the whole session."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'trickle.db'}"
    app = create_app(_settings(url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return url


def _settings(url: str, instance: object, **extra: object) -> dict[str, object]:
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings.update(DATABASE_URL=url, **extra)
    return settings


@pytest.fixture
def app_settings() -> dict[str, object]:
    """Extra settings for the ``app`` fixture; override in a module to change them."""
    return {}


@pytest.fixture
def app(
    database_url: str, clock: FakeClock, app_settings: dict[str, object], tmp_path
) -> Iterator[Flask]:
    app = create_app(_settings(database_url, tmp_path, CLOCK=clock, **app_settings))
    with app.app_context():
        yield app
        db.session.remove()
        _wipe_rows()
        db.engine.dispose()


def _wipe_rows() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()
