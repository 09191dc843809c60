"""`upgrade head` on an empty database yields exactly the models: no pending autogenerate diff."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app import create_app
from app.config import postgres_test_url
from app.extensions import db
from tests.databases import postgres_database, settings_for


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    base = postgres_test_url()
    if not base:
        pytest.skip("TRICKLE_TEST_POSTGRES_URL is not set: the PostgreSQL leg is skipped")
    yield from postgres_database(base)


def _app(url: str):
    return create_app(settings_for(url))


def test_upgrade_head_matches_the_models(empty_database):
    app = _app(empty_database)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata
            )
        db.engine.dispose()
    assert diff == []


def test_downgrade_base_removes_every_table(empty_database):
    app = _app(empty_database)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        with db.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
        db.engine.dispose()
    assert tables == {"alembic_version"}
