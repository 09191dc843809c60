"""Migration 0020 on existing data: sites get the re-qualification columns with nothing to do
(``requalify_version`` null, counters 0); the downgrade drops them and keeps the sites."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_migrate import downgrade, upgrade
from sqlalchemy import column, inspect, table, text

from app.extensions import db
from tests.test_migrations import _app, empty_database  # noqa: F401 - the fixture

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
# The site as migration 0018 left the table (the columns without a default).
SITE = {
    **{"id": 1, "key": "acme", "name": "Acme", "origins": "[]", "engagement": "{}"},
    **{"skip_cooldown": 3, "followup_hours": 24, "config_version": 4, "link_key": "k"},
    **{"created_at": T0, "updated_at": T0},
}
READ = (
    "SELECT key, requalify_version, requalify_cursor, requalify_upto, requalify_total,"
    " requalify_done, requalify_moved, requalify_started_at, requalify_finished_at FROM sites"
)


def test_an_upgrade_gives_sites_nothing_to_requalify_and_a_downgrade_drops_the_columns(
    empty_database,  # noqa: F811
):
    app = _app(empty_database)
    with app.app_context():
        upgrade(revision="0018")
        with db.engine.begin() as conn:
            conn.execute(table("sites", *map(column, SITE)).insert().values(SITE))
        upgrade(revision="0020")
        with db.engine.begin() as conn:
            row = conn.execute(text(READ)).one()
        assert tuple(row) == ("acme", None, None, None, None, 0, 0, None, None)
        db.session.remove()

        downgrade(revision="0021")
        with db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("sites")}
            keys = conn.execute(text("SELECT key, config_version FROM sites")).all()
        assert not {name for name in columns if name.startswith("requalify")}
        assert [tuple(k) for k in keys] == [("acme", 4)]
        db.engine.dispose()
