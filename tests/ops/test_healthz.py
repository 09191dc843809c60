"""/healthz: 200 when the database answers, 503 with a short reason when it does not."""

from __future__ import annotations

import pytest

from app import create_app
from app.extensions import db
from tests.databases import settings_for


def test_healthz_is_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_liveness_stays_as_it_was(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-trickle-dir/trickle.db",  # a directory that is not there
        "postgresql+psycopg://postgres@127.0.0.1:1/trickle?connect_timeout=2",  # nobody listens
    ],
    ids=["sqlite", "postgres"],
)
def test_healthz_is_503_without_a_stack_trace_when_the_database_is_unreachable(url, caplog):
    app = create_app(settings_for(url))
    try:
        response = app.test_client().get("/healthz")
    finally:
        with app.app_context():
            db.engine.dispose()
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "OperationalError"}
    assert b"Traceback" not in response.data
    assert "Set-Cookie" not in response.headers
    warnings = [r for r in caplog.records if r.name == "app.ops.views"]
    assert [r.levelname for r in warnings] == ["WARNING"]
    assert warnings[0].getMessage().startswith("health check: the database did not answer:")
