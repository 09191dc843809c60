"""CORS: a site's own origins get exact-echo headers; any other origin is refused, and can read
only that refusal (no data), so the widget can tell the page's developer the fix."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Visitor
from tests.factories import ORIGIN

ASK = "/api/v1/sites/acme/forms/blog/ask"


def test_an_allowed_origin_is_echoed_with_vary(client, site):
    response = client.post(ASK, json={}, headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_errors_for_an_allowed_origin_carry_cors_headers_so_the_widget_can_read_them(client, site):
    response = client.post(ASK, json={"bogus": 1}, headers={"Origin": ORIGIN})
    assert response.status_code == 422
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_preflight_for_an_allowed_origin(client, site):
    response = client.options(
        ASK,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 204
    assert {
        k: response.headers[k]
        for k in (
            "Access-Control-Allow-Origin",
            "Access-Control-Allow-Methods",
            "Access-Control-Allow-Headers",
            "Access-Control-Max-Age",
            "Vary",
        )
    } == {
        "Access-Control-Allow-Origin": ORIGIN,
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "7200",
        "Vary": "Origin",
    }


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://www.acme.example.evil.example",
        "http://www.acme.example",
        "https://www.acme.example:8443",
        "null",
    ],
)
def test_another_origin_is_refused_readably_and_nothing_is_written(client, site, origin):
    preflight = client.options(
        ASK, headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
    )
    assert (preflight.status_code, preflight.get_data()) == (204, b"")
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    response = client.post(ASK, json={}, headers={"Origin": origin})
    assert response.status_code == 403
    assert response.get_json() == {
        "error": {
            "code": "origin_not_allowed",
            "message": f"Origin {origin} is not allowed for site acme. Add it to the site's"
            " origins: Allowed origins on http://localhost/admin/sites/acme/settings, or"
            " site.origins in the config file.",
        },
        "form": {
            "language": "en",
            "dir": "ltr",
            "strings": {"unavailable": "This form is unavailable right now."},
        },
    }
    # Readable by that origin: the refusal, and the words the widget shows instead of the form.
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Vary"] == "Origin"
    assert db.session.scalar(select(func.count()).select_from(Visitor)) == 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/forms/blog/submit", {"visitor": "v", "ask_token": "t", "answers": {"email": "a@b.co"}}),
        ("/events", {"kind": "page_view"}),
        ("/identify", {"email": "ann@acme.example", "hash": "x"}),
        ("/consents/withdraw", {"visitor": "v", "fields": ["newsletter"]}),
    ],
)
def test_a_refused_origin_reads_only_the_refusal_on_every_endpoint(client, site, path, body):
    response = client.post(
        f"/api/v1/sites/acme{path}", json=body, headers={"Origin": "https://x.example"}
    )
    assert response.status_code == 403
    assert list(response.get_json()) == ["error"]
    assert response.get_json()["error"]["code"] == "origin_not_allowed"
    assert db.session.scalar(select(func.count()).select_from(Visitor)) == 0


def test_an_unknown_site_stays_unreadable_from_another_origin(client, site):
    response = client.post(
        "/api/v1/sites/nope/forms/blog/ask", json={}, headers={"Origin": "https://x.example"}
    )
    assert response.status_code == 404
    assert "Access-Control-Allow-Origin" not in response.headers


def test_events_follow_the_same_origin_rules(client, site):
    ok = client.post(
        "/api/v1/sites/acme/events", json={"kind": "page_view"}, headers={"Origin": ORIGIN}
    )
    assert ok.status_code == 202
    assert ok.headers["Access-Control-Allow-Origin"] == ORIGIN
    refused = client.post(
        "/api/v1/sites/acme/events",
        json={"kind": "page_view"},
        headers={"Origin": "https://x.example"},
    )
    assert refused.status_code == 403


def test_a_request_without_origin_gets_no_cors_headers(client, site):
    response = client.post(ASK, json={})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_same_origin_request_needs_no_listed_origin(client, site):
    response = client.post(ASK, json={}, headers={"Origin": "http://localhost"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
