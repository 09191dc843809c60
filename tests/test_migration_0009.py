"""Migration 0009 on existing data: every browser's link becomes claimed, except the browser that
created its identified contact (verified by ``upgrade``); values and history given by such a
browser are verified; account values keep sparing colleagues; each site gets a link key and
every identified contact its email digest."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_migrate import upgrade
from sqlalchemy import text

from app.domain.identity import email_digest
from app.extensions import db
from tests.test_migrations import _app, empty_database  # noqa: F401 - the fixture

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)

ROWS = [
    "INSERT INTO sites (id, key, name, origins, skip_cooldown, followup_hours, engagement,"
    " config_version, created_at, updated_at) VALUES (1, 'acme', 'Acme', '[]', 3, 48, '{}', 1,"
    " :t0, :t0)",
    "INSERT INTO tiers (id, site_id, key, rank, min_score) VALUES (1, 1, 'basics', 1, 0)",
    "INSERT INTO fields (id, site_id, tier_id, key, label, kind, position, priority, required,"
    " scope, identity) VALUES (1, 1, 1, 'first_name', 'First name', 'text', 0, 100, :no,"
    " 'contact', :no)",
    "INSERT INTO accounts (id, site_id, domain, created_at) VALUES (1, 1, 'acme.example', :t0)",
    # Ada's contact, made by her browser (1); a second browser (2) merged in later; an
    # anonymous contact with its own browser (3).
    "INSERT INTO contacts (id, site_id, email, account_id, created_at, updated_at)"
    " VALUES (1, 1, 'ada@acme.example', 1, :t0, :t1)",
    "INSERT INTO contacts (id, site_id, created_at, updated_at) VALUES (2, 1, :t1, :t1)",
    "INSERT INTO visitors (id, site_id, public_id, contact_id, created_at, last_seen_at)"
    " VALUES (1, 1, 'v1', 1, :t0, :t0), (2, 1, 'v2', 1, :t1, :t1), (3, 1, 'v3', 2, :t1, :t1)",
    "INSERT INTO profile_values (id, contact_id, field_id, value, updated_at, visitor_id)"
    " VALUES (1, 1, 1, '\"Ada\"', :t0, 1)",
    "INSERT INTO submissions (id, site_id, contact_id, field_id, form_key, value, created_at,"
    " visitor_id) VALUES (1, 1, 1, 1, 'blog', '\"Ada\"', :t0, 1),"
    " (2, 1, 1, 1, 'blog', '\"Mal\"', :t1, 2)",
    "INSERT INTO account_values (id, account_id, field_id, value, updated_at, contact_id)"
    " VALUES (1, 1, 1, '\"x\"', :t0, 1)",
    "INSERT INTO skips (id, contact_id, field_id, form_key, skipped_at) VALUES (1, 1, 1, 'blog', :t0)",
]


def test_an_upgrade_marks_links_and_values_by_who_created_the_contact(empty_database):  # noqa: F811
    app = _app(empty_database)
    with app.app_context():
        upgrade(revision="0008")
        with db.engine.begin() as conn:
            for statement in ROWS:
                conn.execute(text(statement), {"t0": T0, "t1": T1, "no": False})
        upgrade()
        with db.engine.connect() as conn:

            def rows(query: str) -> list[tuple]:
                return [tuple(row) for row in conn.execute(text(query))]

            visitors = rows("SELECT id, trust, verified_by FROM visitors ORDER BY id")
            values = rows("SELECT id, source, verified FROM profile_values")
            history = rows("SELECT id, applied, verified, source FROM submissions ORDER BY id")
            trusted = rows("SELECT trusted FROM account_values")
            skips = rows("SELECT visitor_id FROM skips")
            [(link_key,)] = rows("SELECT link_key FROM sites")
            digests = rows("SELECT id, email_digest FROM contacts ORDER BY id")
            overwrite = rows("SELECT overwrite FROM fields")
        db.engine.dispose()

    assert visitors == [(1, "verified", "upgrade"), (2, "claimed", None), (3, "claimed", None)]
    assert [(i, s, bool(v)) for i, s, v in values] == [(1, "browser", True)]
    assert [(i, bool(a), bool(v), s) for i, a, v, s in history] == [
        (1, True, True, "browser"),
        (2, True, False, "browser"),
    ]
    assert [bool(t) for (t,) in trusted] == [True]
    assert skips == [(None,)]
    assert len(link_key) == 43
    assert digests == [(1, email_digest(link_key, "ada@acme.example")), (2, None)]
    assert overwrite == [("verified",)]
