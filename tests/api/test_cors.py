"""CORS: a site's own origins get exact-echo headers; any other origin is refused."""

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
def test_another_origin_is_refused_and_nothing_is_written(client, site, origin):
    response = client.post(ASK, json={}, headers={"Origin": origin})
    assert response.status_code == 403
    assert response.get_json() == {
        "error": {
            "code": "origin_not_allowed",
            "message": f"Origin {origin} is not allowed for site acme.",
        }
    }
    assert "Access-Control-Allow-Origin" not in response.headers
    assert db.session.scalar(select(func.count()).select_from(Visitor)) == 0
    preflight = client.options(
        ASK, headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers


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
