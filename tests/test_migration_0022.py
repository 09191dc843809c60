"""Migration 0022 on existing data: the funnel report's indexes (contacts by site and creation;
a contact's stage moves by stage, its outcomes by kind, each with its time) replace or join the
ones before; the downgrade puts those back and every row stays."""

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
MOVE = {"id": 3, "site_id": 1, "contact_id": 7, "to_stage": "mql", "changed_at": T0}
OUTCOME = {
    **{"id": 5, "site_id": 1, "contact_id": 7, "kind": "accepted", "by": "rep"},
    **{"idempotency_key": "k1", "occurred_at": T0, "recorded_at": T0},
}
ROWS = {"contacts": CONTACT, "stage_changes": MOVE, "sales_outcomes": OUTCOME}
BEFORE = {
    "contacts": {"ix_contacts_site_id": ["site_id"]},
    "stage_changes": {"ix_stage_changes_contact_id": ["contact_id"]},
    "sales_outcomes": {"ix_sales_outcomes_contact_occurred": ["contact_id", "occurred_at"]},
}
ADDED = {
    "contacts": {"ix_contacts_site_created": ["site_id", "created_at"]},
    "stage_changes": {"ix_stage_changes_contact_stage": ["contact_id", "to_stage", "changed_at"]},
    "sales_outcomes": {"ix_sales_outcomes_contact_kind": ["contact_id", "kind", "occurred_at"]},
}
READ = (
    "SELECT c.id, s.to_stage, o.kind FROM contacts c JOIN stage_changes s ON s.contact_id = c.id"
    " JOIN sales_outcomes o ON o.contact_id = c.id"
)


def _indexes(conn, name: str) -> dict[str, list[str]]:
    return {i["name"]: i["column_names"] for i in inspect(conn).get_indexes(name)}


def _wanted(conn, *shares: dict) -> None:
    for name in ROWS:
        found = _indexes(conn, name)
        for share in shares:
            assert {k: found.get(k) for k in share[name]} == share[name], name


def test_an_upgrade_adds_the_funnel_indexes_and_a_downgrade_puts_the_old_ones_back(
    empty_database,  # noqa: F811
):
    app = _app(empty_database)
    with app.app_context():
        upgrade(revision="0020")
        with db.engine.begin() as conn:
            conn.execute(table("sites", *map(column, SITE)).insert().values(SITE))
            for name, row in ROWS.items():
                conn.execute(table(name, *map(column, row)).insert().values(row))
            _wanted(conn, BEFORE)
        upgrade(revision="0022")
        with db.engine.connect() as conn:
            _wanted(conn, ADDED)
            assert "ix_stage_changes_contact_id" not in _indexes(conn, "stage_changes")
            assert "ix_contacts_site_id" in _indexes(conn, "contacts")
            assert "ix_sales_outcomes_contact_occurred" in _indexes(conn, "sales_outcomes")
            assert [tuple(r) for r in conn.execute(text(READ))] == [(7, "mql", "accepted")]
        db.session.remove()

        downgrade(revision="0020")
        with db.engine.connect() as conn:
            _wanted(conn, BEFORE)
            for name, share in ADDED.items():
                assert not set(share) & set(_indexes(conn, name))
            assert [tuple(r) for r in conn.execute(text(READ))] == [(7, "mql", "accepted")]
        db.engine.dispose()
