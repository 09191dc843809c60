"""Migration 0017 on existing data: every contact on its site's hand-off stage gets an open
hand-off to sales, begun at its last move there, due ``followup_hours`` later, touched and
closed by the outcomes since (an outcome from before the move is not a touch); contacts on
other stages get none. The downgrade drops the table and ``contacts.engaged_at``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app.extensions import db
from tests.test_migrations import _app, empty_database  # noqa: F401 - the fixture

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ROWS = [
    "INSERT INTO sites (id, key, name, origins, skip_cooldown, followup_hours, engagement,"
    " config_version, created_at, updated_at, link_key) VALUES (1, 'acme', 'Acme', '[]', 3, 24,"
    " '{}', 1, :t0, :t0, 'k')",
    'INSERT INTO lifecycle_stages (site_id, key, position, "when", handoff) VALUES'
    " (1, 'lead', 0, '{}', :no), (1, 'mql', 1, '{}', :yes), (1, 'sal', 2, '{}', :no)",
    "INSERT INTO contacts (id, site_id, email, lifecycle_stage, created_at, updated_at) VALUES"
    " (1, 1, 'a@x.example', 'mql', :t0, :t0), (2, 1, 'b@x.example', 'mql', :t0, :t0),"
    " (3, 1, 'c@x.example', 'lead', :t0, :t0), (4, 1, 'd@x.example', 'mql', :t0, :t0)",
    # Contact 1 reached mql twice (the last at t2); 2 at t1; 4 at t3.
    "INSERT INTO stage_changes (site_id, contact_id, from_stage, to_stage, changed_at) VALUES"
    " (1, 1, 'lead', 'mql', :t0), (1, 1, 'lead', 'mql', :t2), (1, 2, 'lead', 'mql', :t1),"
    " (1, 3, NULL, 'lead', :t1), (1, 4, 'lead', 'mql', :t3)",
    # Contact 1: contacted at t1 (before its last move: not a touch), at t3, accepted at t4.
    # Contact 4: an opportunity at t4 (closes, not a touch).
    'INSERT INTO sales_outcomes (site_id, contact_id, kind, "by", idempotency_key,'
    " occurred_at, recorded_at) VALUES"
    " (1, 1, 'contacted', 'rep', 'k1', :t1, :t1), (1, 1, 'contacted', 'rep', 'k2', :t3, :t3),"
    " (1, 1, 'accepted', 'rep2', 'k3', :t4, :t4), (1, 4, 'opportunity', 'rep', 'k4', :t4, :t4)",
]


def test_an_upgrade_opens_a_hand_off_for_contacts_on_the_hand_off_stage(
    empty_database,  # noqa: F811
):
    app = _app(empty_database)
    times = {f"t{n}": T0 + timedelta(hours=n) for n in range(5)}
    params = {"t0": T0, "no": False, "yes": True, **times}
    with app.app_context():
        upgrade(revision="0016")
        with db.engine.begin() as conn:
            for statement in ROWS:
                conn.execute(text(statement), params)
        upgrade(revision="0017")
        with db.engine.begin() as conn:
            rows = conn.execute(
                text(
                    "SELECT contact_id, team, stage, started_at, due_at, touched_at, touched_by,"
                    " touch_kind, breached_at, closed_at, closed_by FROM handoffs"
                    " ORDER BY contact_id"
                )
            ).all()
        found = [tuple(_utc(value) for value in row) for row in rows]
        t = times
        day = timedelta(hours=24)
        assert found == [
            (1, "sales", "mql", t["t2"], t["t2"] + day, t["t3"], "rep", "contacted", None,
             t["t4"], "accepted"),
            (2, "sales", "mql", t["t1"], t["t1"] + day, None, None, None, None, None, None),
            (4, "sales", "mql", t["t3"], t["t3"] + day, None, None, None, None, t["t4"],
             "opportunity"),
        ]  # fmt: skip
        db.session.remove()

        downgrade(revision="0016")
        with db.engine.connect() as conn:
            inspector = inspect(conn)
            assert "handoffs" not in inspector.get_table_names()
            columns = {c["name"] for c in inspector.get_columns("contacts")}
        assert "engaged_at" not in columns
        db.engine.dispose()


def _utc(value):
    """SQLite answers times as naive text; PostgreSQL as aware datetimes."""
    if isinstance(value, str) and value[:2] == "20":
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value
