"""Migration 0025: form_stats, the per-form daily views and asks, starts empty beside the sites
already there, holds one row per (site, form, day) with counters from 0, and goes with its
site (a cascading foreign key); the downgrade drops it and keeps the sites."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import column, inspect, table, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from tests.test_migrations import _app, empty_database  # noqa: F401 - the fixture

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SITE = {
    **{"id": 1, "key": "acme", "name": "Acme", "origins": "[]", "engagement": "{}"},
    **{"skip_cooldown": 3, "followup_hours": 24, "config_version": 4, "link_key": "k"},
    **{"created_at": T0, "updated_at": T0},
}
ROW = {"id": 1, "site_id": 1, "form_key": "blog", "day": date(2026, 1, 5)}
STATS = table("form_stats", *map(column, ("id", "site_id", "form_key", "day", "views")))


def test_an_upgrade_adds_empty_form_counters_and_a_downgrade_drops_them(
    empty_database,  # noqa: F811
):
    app = _app(empty_database)
    with app.app_context():
        upgrade(revision="0024")
        with db.engine.begin() as conn:
            conn.execute(table("sites", *map(column, SITE)).insert().values(SITE))
        upgrade(revision="0025")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM form_stats")).scalar() == 0
            conn.execute(STATS.insert().values(ROW))
            read = "SELECT site_id, form_key, views, asks FROM form_stats"
            assert [tuple(r) for r in conn.execute(text(read))] == [(1, "blog", 0, 0)]
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(STATS.insert().values({**ROW, "id": 2, "views": 3}))  # same form, day
        with db.engine.connect() as conn:
            (key,) = inspect(conn).get_foreign_keys("form_stats")
        assert (key["referred_table"], key["options"].get("ondelete")) == ("sites", "CASCADE")
        db.session.remove()

        downgrade(revision="0024")
        with db.engine.connect() as conn:
            assert "form_stats" not in inspect(conn).get_table_names()
            keys = conn.execute(text("SELECT key, config_version FROM sites")).all()
        assert [tuple(k) for k in keys] == [("acme", 4)]
        db.engine.dispose()
