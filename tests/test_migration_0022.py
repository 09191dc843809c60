"""Migration 0022 on existing data: contacts get the (site_id, created_at) index, which the
funnel report's cohorts read by; the downgrade drops it and keeps the contacts."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_migrate import downgrade, upgrade
from sqlalchemy import column, inspect, table, text

from app.extensions import db
from tests.test_migrations import _app, empty_database  # noqa: F401 - the fixture

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SITE = {
    **{"id": 1, "key": "acme", "name": "Acme", "origins": "[]", "engagement": "{}"},
    **{"skip_cooldown": 3, "followup_hours": 24, "config_version": 4, "link_key": "k"},
    **{"created_at": T0, "updated_at": T0},
}
CONTACT = {"id": 7, "site_id": 1, "email": "ada@corp.example", "created_at": T0, "updated_at": T0}


def _indexes(conn) -> dict[str, list[str]]:
    return {i["name"]: i["column_names"] for i in inspect(conn).get_indexes("contacts")}


def test_an_upgrade_indexes_contacts_by_site_and_creation_and_a_downgrade_drops_it(
    empty_database,  # noqa: F811
):
    app = _app(empty_database)
    with app.app_context():
        upgrade(revision="0020")
        with db.engine.begin() as conn:
            conn.execute(table("sites", *map(column, SITE)).insert().values(SITE))
            conn.execute(table("contacts", *map(column, CONTACT)).insert().values(CONTACT))
            assert "ix_contacts_site_created" not in _indexes(conn)
        upgrade(revision="0022")
        with db.engine.connect() as conn:
            assert _indexes(conn)["ix_contacts_site_created"] == ["site_id", "created_at"]
            rows = conn.execute(text("SELECT id, email FROM contacts")).all()
        assert [tuple(r) for r in rows] == [(7, "ada@corp.example")]
        db.session.remove()

        downgrade(revision="0020")
        with db.engine.connect() as conn:
            indexes = _indexes(conn)
            rows = conn.execute(text("SELECT id, email FROM contacts")).all()
        assert "ix_contacts_site_created" not in indexes
        assert "ix_contacts_site_id" in indexes
        assert [tuple(r) for r in rows] == [(7, "ada@corp.example")]
        db.engine.dispose()
