"""Migration 0018 on existing data: identity secrets move to ``site_secrets`` as they were,
each site's inbound secret joins them (purpose ``inbound``), new secrets get fresh ids on both
engines; the downgrade puts both back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app.extensions import db
from app.services.siteconfig import IDENTITY, INBOUND, live_secrets, rotate_secret
from tests.test_migrations import _app, empty_database  # noqa: F401 - the fixture

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SITE = (
    "INSERT INTO sites (id, key, name, origins, skip_cooldown, followup_hours, engagement,"
    " config_version, created_at, updated_at, link_key, inbound_secret) VALUES"
    " (:id, :key, 'Acme', '[]', 3, 24, '{}', 1, :t0, :t0, 'k', :inbound)"
)
IDENTITY_ROWS = (
    "INSERT INTO identity_secrets (id, site_id, secret, created_at, created_by, expires_at)"
    " VALUES (1, 1, 'tis_old', :t0, 'ann', :t1), (2, 1, 'tis_new', :t0, NULL, NULL)"
)


def test_secrets_move_to_site_secrets_and_back(empty_database):  # noqa: F811
    app = _app(empty_database)
    params = {"t0": T0, "t1": T0 + timedelta(days=400)}
    with app.app_context():
        upgrade(revision="0017")
        with db.engine.begin() as conn:
            conn.execute(text(SITE), {**params, "id": 1, "key": "acme", "inbound": "whsec_in1"})
            conn.execute(text(SITE), {**params, "id": 2, "key": "beta", "inbound": None})
            conn.execute(text(IDENTITY_ROWS), params)
        upgrade(revision="0018")
        with db.engine.begin() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, site_id, purpose, secret, created_by FROM site_secrets ORDER BY id"
                )
            ).all()
        assert [tuple(row) for row in rows] == [
            (1, 1, "identity", "tis_old", "ann"),
            (2, 1, "identity", "tis_new", None),
            (3, 1, "inbound", "whsec_in1", None),
        ]
        now = T0 + timedelta(days=1)
        assert live_secrets(1, IDENTITY, now) == ["tis_new", "tis_old"]
        assert live_secrets(1, INBOUND, now) == ["whsec_in1"]
        fresh = rotate_secret("beta", INBOUND, "bo", now, 0)  # a new id after the copied ones
        assert live_secrets(2, INBOUND, now) == [fresh]
        db.session.remove()

        downgrade(revision="0017")
        with db.engine.begin() as conn:
            inbound = conn.execute(text("SELECT key, inbound_secret FROM sites ORDER BY id")).all()
            identity = conn.execute(
                text("SELECT id, secret FROM identity_secrets ORDER BY id")
            ).all()
            tables = inspect(conn).get_table_names()
        assert [tuple(row) for row in inbound] == [("acme", "whsec_in1"), ("beta", fresh)]
        assert [tuple(row) for row in identity] == [(1, "tis_old"), (2, "tis_new")]
        assert "site_secrets" not in tables
        db.engine.dispose()
