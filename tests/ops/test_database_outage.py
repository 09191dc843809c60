"""With the database unreachable, every request says so: 503, Retry-After and (for the API) the
JSON envelope, never a 500 that reads like a bad request (issue 18.5). The widget retries on
any 5xx and keeps the visitor's answers (tests/e2e/test_widget.py covers its retry)."""

from __future__ import annotations

import pytest

from app import create_app
from tests.console import csrf_token
from tests.databases import settings_for

UNREACHABLE = {
    "sqlite": "sqlite:////nonexistent-directory/trickle.db",
    "postgres": "postgresql+psycopg://postgres@127.0.0.1:1/trickle?connect_timeout=1",
}
ENVELOPE = {
    "error": {
        "code": "unavailable",
        "message": "The service cannot reach its database right now; try again shortly.",
    }
}


@pytest.fixture(params=sorted(UNREACHABLE))
def down(request):
    return create_app(settings_for(UNREACHABLE[request.param])).test_client()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/sites/acme/forms/blog/ask", {}),
        (
            "post",
            "/api/v1/sites/acme/forms/blog/submit",
            {"visitor": "v", "ask_token": "t", "answers": {}},
        ),
        ("post", "/api/v1/sites/acme/events", {"kind": "page_view"}),
        ("post", "/api/v1/sites/acme/identify", {"link": "x.1.y"}),
        ("get", "/api/v1/sites/acme/contacts/export", None),
    ],
)
def test_the_api_answers_503_with_retry_after(down, method, path, body):
    headers = {"Authorization": "Bearer trk_" + "a" * 43} if "export" in path else {}
    response = getattr(down, method)(path, json=body, headers=headers)
    assert (response.status_code, response.headers["Retry-After"]) == (503, "30")
    assert response.get_json() == ENVELOPE


def test_signing_in_answers_a_503_page(down):
    token = csrf_token(down, "/admin/login")  # the form itself needs no database
    response = down.post(
        "/admin/login", data={"csrf_token": token, "email": "ann@acme.example", "password": "x"}
    )
    assert (response.status_code, response.headers["Retry-After"]) == (503, "30")
    assert "Trickle cannot reach its database right now." in response.get_data(as_text=True)


def test_health_still_tells_the_database_is_down(down):
    response = down.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"
