"""Fixtures shared by every test that needs the app.

Database tests run once on SQLite and once on PostgreSQL (when ``TRICKLE_TEST_POSTGRES_URL``
is set; otherwise that leg is skipped with the reason printed). Each backend's schema is created
once per session, and its apps share one engine (tests/databases.py); rows are wiped after every
test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from app.config import postgres_test_url
from app.extensions import db
from app.models import Site
from app.services.accounts import create_user
from tests.clock import FakeClock
from tests.console import sign_in
from tests.databases import postgres_database, settings_for, share_engine
from tests.factories import PASSWORD, acme_config, make_site
from tests.scheduling import long_tests_first, worker_count
from tests.templates_cache import reuse_compiled_templates
from tests.url_builders import reuse_parsed_rules, reuse_url_builders

BACKENDS = ["sqlite", "postgres"]

# Temporary folders (the SQLite test databases among them) in memory when the machine has a
# tmpfs at /dev/shm: SQLite syncs its WAL on every commit, several ms each on a disk; on tmpfs
# that is free, and nothing a test sees changes. Set here, before pytest makes its first folder.
if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
    os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", "/dev/shm")

reuse_url_builders()
reuse_parsed_rules()
reuse_compiled_templates()


@pytest.hookimpl(trylast=True)  # after pytest has grouped the tests by their session fixtures
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items[:] = long_tests_first(items, worker_count())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    base = postgres_test_url()
    if not base:
        pytest.skip("TRICKLE_TEST_POSTGRES_URL is not set: the PostgreSQL leg is skipped")
    yield from postgres_database(base)


# Each backend's database, once its schema is in place: a worker's tests switch backends several
# times (pytest sets the session's database up again at each switch) and find it ready.
_schemas: dict[str, str] = {}


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with the schema in place, one per backend for the whole session."""
    if request.param in _schemas:
        return _schemas[request.param]
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'trickle.db'}"
    share_engine(url)
    app = create_app(settings_for(url))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    _schemas[request.param] = url
    return url


@pytest.fixture
def app_settings() -> dict[str, object]:
    """Extra settings for the ``app`` fixture; override in a module to change them."""
    return {}


@pytest.fixture
def app(
    database_url: str, clock: FakeClock, app_settings: dict[str, object], tmp_path
) -> Iterator[Flask]:
    app = create_app(settings_for(database_url, CLOCK=clock, **app_settings))
    with app.app_context():
        yield app
        db.session.remove()
        _wipe_rows()


def _wipe_rows() -> None:
    """Every row deleted, children first, and the id counters back to 1: what TRUNCATE …
    RESTART IDENTITY does, at a fraction of its cost on a test's few rows (TRUNCATE makes new
    files for every table and index)."""
    tables = reversed(db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # One round trip for every statement (a third of the time of one each).
            conn.exec_driver_sql(
                "; ".join(
                    [
                        *(f'DELETE FROM "{table.name}"' for table in tables),  # noqa: S608 - our table names
                        "SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'",
                    ]
                )
            )
        else:
            for table in tables:
                conn.execute(table.delete())
            # AUTOINCREMENT tables (contacts) count on; restart them as PostgreSQL does.
            conn.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def site(app: Flask) -> Site:
    """The Acme site (tests/factories.py's config); a module or folder overrides it for another."""
    return make_site()


@pytest.fixture
def sites(app: Flask) -> None:
    """Two sites: Acme, and another one ("other") whose data Acme's users must never reach."""
    make_site()
    other = acme_config()
    other["site"] = {**other["site"], "key": "other", "name": "Other"}
    make_site(other)


@pytest.fixture
def signed_in(app: Flask, client: FlaskClient) -> Callable[..., FlaskClient]:
    """Sign ``client`` in to the console as a new user: ``signed_in("analyst")`` makes
    analyst@acme.example (or ``email``) with that role and the test password; returns the client."""

    def sign_in_as(role: str, email: str | None = None) -> FlaskClient:
        email = email or f"{role}@acme.example"
        create_user(email, role, PASSWORD)
        assert sign_in(client, email).status_code == 302
        return client

    return sign_in_as
