"""Operations tests: an app built with ``TRICKLE_LOG_FORMAT=json`` puts its handler on the root
logger; every test here leaves the root logger (and the app's) as it found them. ``database``:
the SQLite file a module's gunicorn servers share."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from app import create_app
from app.extensions import db
from tests.databases import settings_for
from tests.factories import make_site


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    loggers = [logging.getLogger(), logging.getLogger("app")]
    saved = [(logger, list(logger.handlers), logger.level) for logger in loggers]
    yield
    for logger, handlers, level in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> str:
    """A SQLite file with the schema and the acme site, shared by the servers of this module."""
    url = f"sqlite:///{tmp_path_factory.mktemp('gunicorn') / 'trickle.db'}"
    app = create_app(settings_for(url))
    with app.app_context():
        db.create_all()
        make_site()
        db.engine.dispose()
    return url
