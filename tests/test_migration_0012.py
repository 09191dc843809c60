"""Migration 0012 on existing data: a form's consent line given as text becomes a consent field
(keyed ``<form>_consent``, a free key when that one is taken, in the site's first tier, not
pooled; archived with an archived form) that the form names; a form without one, or already
naming a field, is left as it was. The downgrade gives the text back and takes the fields away:
deleted, or archived when they hold values."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app.extensions import db
from tests.test_migrations import _app, empty_database  # noqa: F401 - the fixture

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LONG = "L" * 480 + "\n\n" + "H" * 100
ROWS = [
    "INSERT INTO sites (id, key, name, origins, skip_cooldown, followup_hours, engagement,"
    " config_version, created_at, updated_at, link_key) VALUES (1, 'acme', 'Acme', '[]', 3, 48,"
    " '{}', 1, :t0, :t0, 'k')",
    "INSERT INTO tiers (id, site_id, key, rank, min_score) VALUES (1, 1, 'late', 5, 0),"
    " (2, 1, 'basics', 1, 0)",
    # No id given: PostgreSQL's sequence must hand out the next one to the migration.
    "INSERT INTO fields (site_id, tier_id, key, label, kind, position, priority, required,"
    " scope, identity, overwrite) VALUES (1, 1, 'demo_consent', 'Taken', 'text', 0, 100, :no,"
    " 'contact', :no, 'verified')",
    "INSERT INTO forms (id, site_id, key, position, title, max_questions, submit_label,"
    " thank_you, consent, always_ask) VALUES"
    " (1, 1, 'blog', 0, 'Blog', 3, 'Go', 'Thanks', :blog, '[]'),"
    " (2, 1, 'demo', 1, 'Demo', 3, 'Go', 'Thanks', :demo, '[]'),"
    " (3, 1, 'plain', 2, 'Plain', 3, 'Go', 'Thanks', NULL, '[]')",
    "INSERT INTO forms (id, site_id, key, position, title, max_questions, submit_label,"
    " thank_you, consent, always_ask, archived_at) VALUES"
    " (4, 1, 'old', 3, 'Old', 3, 'Go', 'Thanks', :old, '[]', :t0)",
]
# After the upgrade: someone gave demo's line; plain lists blog's line among its questions.
GIVEN = [
    "INSERT INTO contacts (id, site_id, created_at, updated_at) VALUES (1, 1, :t0, :t0)",
    "INSERT INTO profile_values (contact_id, field_id, value, updated_at) SELECT 1, id, 'true',"
    " :t0 FROM fields WHERE key = 'demo_consent_2'",
    "INSERT INTO form_fields (form_id, field_id, position) SELECT 3, id, 0 FROM fields"
    " WHERE key = 'blog_consent'",
]


def moment(value) -> datetime:
    """A stored time as an aware datetime (SQLite gives text without a zone)."""
    value = datetime.fromisoformat(value) if isinstance(value, str) else value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def consents(conn) -> list:
    return [
        json.loads(c) if isinstance(c, str) else c
        for (c,) in conn.execute(text("SELECT consent FROM forms ORDER BY id"))
    ]


def test_an_upgrade_makes_each_consent_text_a_consent_field(empty_database):  # noqa: F811
    app = _app(empty_database)
    params = {
        "t0": T0,
        "no": False,
        "blog": json.dumps({"text": "You may email me.", "required": False}),
        "demo": json.dumps({"text": LONG}),
        "old": json.dumps({"text": "Old line."}),
    }
    with app.app_context():
        upgrade(revision="0011")
        with db.engine.begin() as conn:
            for statement in ROWS:
                conn.execute(text(statement), params)
        upgrade()
        with db.engine.begin() as conn:
            made = [
                (key, label, help_, kind, tier_id, position, bool(required), bool(pooled))
                for key, label, help_, kind, tier_id, position, required, pooled in conn.execute(
                    text(
                        "SELECT key, label, help, kind, tier_id, position, required, pooled"
                        " FROM fields WHERE key != 'demo_consent' ORDER BY id"
                    )
                )
            ]
            archived = [
                (key, moment(archived_at))
                for key, archived_at in conn.execute(
                    text("SELECT key, archived_at FROM fields WHERE archived_at IS NOT NULL")
                )
            ]
            lines = consents(conn)
            for statement in GIVEN:
                conn.execute(text(statement), params)
        downgrade(revision="0011")
        with db.engine.connect() as conn:
            back = consents(conn)
            left = [
                (key, archived_at is not None)
                for key, archived_at in conn.execute(
                    text("SELECT key, archived_at FROM fields ORDER BY id")
                )
            ]
            links = conn.execute(text("SELECT count(*) FROM form_fields")).scalar()
            values = conn.execute(text("SELECT count(*) FROM profile_values")).scalar()
            columns = {c["name"] for c in inspect(conn).get_columns("fields")}
        db.engine.dispose()

    assert made == [
        ("blog_consent", "You may email me.", None, "consent", 2, 1, False, False),
        ("demo_consent_2", "L" * 480, "H" * 100, "consent", 2, 2, True, False),
        ("old_consent", "Old line.", None, "consent", 2, 3, True, False),
    ]
    assert archived == [("old_consent", T0)]  # when its form was archived
    assert lines == [
        {"field": "blog_consent"},
        {"field": "demo_consent_2"},
        None,
        {"field": "old_consent"},
    ]
    assert back == [
        {"text": "You may email me.", "required": False},
        {"text": LONG, "required": True},
        None,
        {"text": "Old line.", "required": True},
    ]
    # Lines nothing refers to are gone; the one someone gave is archived, with its value.
    assert left == [("demo_consent", False), ("demo_consent_2", True)]
    assert (links, values) == (0, 1)
    assert "pooled" not in columns
