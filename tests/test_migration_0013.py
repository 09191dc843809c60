"""Migration 0013 on existing data: each contact's and browser's event counter is what its
events say (counted events for the contact, its own events on its contact for a browser), each
skip's counters are those up to the skip, and no tally is marked built (the worker sums them
with the site's weights). After the worker's rebuild, the scores are what the events say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app.extensions import db
from app.services.people import rebuild_stale_tallies
from tests.test_migrations import _app, empty_database  # noqa: F401 - the fixture

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ROWS = [
    "INSERT INTO sites (id, key, name, origins, skip_cooldown, followup_hours, engagement,"
    " config_version, created_at, updated_at, link_key) VALUES (1, 'acme', 'Acme', '[]', 3, 48,"
    ' \'{"page_view": {"weight": 1, "stage": null}, "webinar": {"weight": 5, "stage": "late"}}\','
    " 1, :t0, :t0, 'k')",
    "INSERT INTO tiers (id, site_id, key, rank, min_score) VALUES (1, 1, 'basics', 1, 0)",
    "INSERT INTO fields (id, site_id, tier_id, key, label, kind, position, priority, required,"
    " scope, identity, overwrite, pooled) VALUES (1, 1, 1, 'company', 'Company', 'text', 0, 100,"
    " :no, 'contact', :no, 'verified', :yes)",
    "INSERT INTO contacts (id, site_id, created_at, updated_at) VALUES (1, 1, :t0, :t0),"
    " (2, 1, :t0, :t0)",
    "INSERT INTO visitors (id, site_id, public_id, contact_id, created_at, last_seen_at)"
    " VALUES (1, 1, 'v1', 1, :t0, :t0), (2, 1, 'v2', 1, :t0, :t0), (3, 1, 'v3', 2, :t0, :t0)",
    # Contact 1: v1 sent a, b and an id-less view; v2 sent a (not counted) and c.
    "INSERT INTO engagement_events (site_id, contact_id, visitor_id, kind, stage, external_id,"
    " occurred_at, counted) VALUES"
    " (1, 1, 1, 'page_view', 'early', 'a', :t1, :yes),"
    " (1, 1, 1, 'webinar', 'late', 'b', :t2, :yes),"
    " (1, 1, 1, 'page_view', 'early', NULL, :t3, :yes),"
    " (1, 1, 2, 'page_view', 'early', 'a', :t3, :no),"
    " (1, 1, 2, 'page_view', 'mid', 'c', :t4, :yes)",
    # v1 skipped company after its second event; v2 after its first.
    "INSERT INTO skips (contact_id, field_id, form_key, skipped_at, visitor_id) VALUES"
    " (1, 1, 'blog', :t2, 1), (1, 1, 'blog', :t3, 2)",
]


def test_an_upgrade_counts_each_history_and_leaves_the_sums_to_the_worker(
    empty_database,  # noqa: F811
):
    app = _app(empty_database)
    times = {f"t{n}": T0 + timedelta(hours=n) for n in range(5)}
    params = {"t0": T0, "no": False, "yes": True, **times}
    with app.app_context():
        upgrade(revision="0012")
        with db.engine.begin() as conn:
            for statement in ROWS:
                conn.execute(text(statement), params)
        upgrade(revision="0013")
        with db.engine.begin() as conn:
            contacts = conn.execute(
                text("SELECT id, tally_seq, tally_basis FROM contacts ORDER BY id")
            ).all()
            visitors = conn.execute(text("SELECT id, tally_seq FROM visitors ORDER BY id")).all()
            skips = conn.execute(
                text("SELECT visitor_id, seq_at, own_seq_at FROM skips ORDER BY visitor_id")
            ).all()
            built = conn.execute(text("SELECT tally_basis FROM sites")).scalar()
        # Contact 1 counts a, b, the view and c (v2's a is not counted); contact 2 nothing.
        assert [tuple(row) for row in contacts] == [(1, 4, None), (2, 0, None)]
        assert [tuple(row) for row in visitors] == [(1, 3), (2, 2), (3, 0)]
        # At v1's skip (t2): a and b counted, v1 sent two; at v2's (t3): a, b, the view; v2 one.
        assert [tuple(row) for row in skips] == [(1, 2, 2), (2, 3, 1)]
        assert built is None

        upgrade()
        assert rebuild_stale_tallies() == 3  # contact 1 and its two browsers (2 has no events)
        with db.engine.begin() as conn:
            row = conn.execute(
                text(
                    "SELECT tally_early, tally_mid, tally_late, tally_seq, tally_total"
                    " FROM contacts WHERE id = 1"
                )
            ).one()
            assert tuple(row) == (2, 1, 1, 4, 8.0)  # a, the view, c, b: 1 + 1 + 1 + 5
        db.session.remove()

        downgrade(revision="0012")
        with db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("contacts")}
        assert not any(name.startswith("tally_") for name in columns)
        db.engine.dispose()
