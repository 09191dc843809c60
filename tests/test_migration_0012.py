"""Migration 0012 on existing data: a form's consent line given as text becomes a consent field
(keyed ``<form>_consent``, a free key when that one is taken, in the site's first tier) that the
form names; a form without one, or already naming a field, is left as it was."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

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
]


def test_an_upgrade_makes_each_consent_text_a_consent_field(empty_database):  # noqa: F811
    app = _app(empty_database)
    params = {
        "t0": T0,
        "no": False,
        "blog": json.dumps({"text": "You may email me.", "required": False}),
        "demo": json.dumps({"text": LONG}),
    }
    with app.app_context():
        upgrade(revision="0011")
        with db.engine.begin() as conn:
            for statement in ROWS:
                conn.execute(text(statement), params)
        upgrade()
        with db.engine.connect() as conn:
            made = [
                (key, label, help_, kind, tier_id, position, bool(required))
                for key, label, help_, kind, tier_id, position, required in conn.execute(
                    text(
                        "SELECT key, label, help, kind, tier_id, position, required FROM fields"
                        " WHERE key != 'demo_consent' ORDER BY id"
                    )
                )
            ]
            lines = [
                json.loads(c) if isinstance(c, str) else c
                for (c,) in conn.execute(text("SELECT consent FROM forms ORDER BY id"))
            ]
        downgrade(revision="0011")
        with db.engine.connect() as conn:
            back = [
                json.loads(c) if isinstance(c, str) else c
                for (c,) in conn.execute(text("SELECT consent FROM forms ORDER BY id"))
            ]
        db.engine.dispose()

    assert made == [
        ("blog_consent", "You may email me.", None, "consent", 2, 1, False),
        ("demo_consent_2", "L" * 480, "H" * 100, "consent", 2, 2, True),
    ]
    assert lines == [{"field": "blog_consent"}, {"field": "demo_consent_2"}, None]
    assert back == [
        {"text": "You may email me.", "required": False},
        {"text": LONG, "required": True},
        None,
    ]
