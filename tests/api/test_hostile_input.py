"""Input crafted to break the server: never a 500, never a write, never another site's visitor."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import EngagementEvent, Visitor
from tests.api.support import error_of, row_counts
from tests.factories import ORIGIN, Widget, acme_config, make_site

ASK = "/api/v1/sites/acme/forms/blog/ask"
EVENTS = "/api/v1/sites/acme/events"
UNSTORABLE = ["\x00", "\ud800", "a\udc00b"]


def test_json_nested_beyond_the_parser_depth_is_400(client, site):
    body = '{"page":' + "[" * 1100 + "]" * 1100 + "}"
    response = client.post(ASK, data=body, content_type="application/json")
    assert response.status_code == 400
    assert error_of(response) == {"code": "bad_request", "message": "The body is not valid JSON."}


@pytest.mark.parametrize("text", UNSTORABLE)
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (ASK, {"visitor": "{}"}, "visitor"),
        (EVENTS, {"kind": "page_view", "url": "{}"}, "url"),
        (EVENTS, {"kind": "page_view", "content": "{}"}, "content"),
        (EVENTS, {"kind": "page_view", "id": "{}"}, "id"),
    ],
)
def test_text_no_column_can_hold_is_422(client, site, path, body, field, text):
    before = row_counts()
    payload = json.dumps({k: v.replace("{}", text) for k, v in body.items()})
    response = client.post(path, data=payload, content_type="application/json")
    assert response.status_code == 422
    assert error_of(response)["fields"] == {field: ["Contains characters that are not allowed."]}
    assert row_counts() == before


@pytest.mark.parametrize("text", UNSTORABLE)
def test_unstorable_idempotency_key_and_answer_key_are_422(widget_asked, text):
    before = row_counts()
    response = widget_asked.submit({"email": "a@b.example"}, idempotency_key=f"k{text}")
    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "idempotency_key": ["Contains characters that are not allowed."]
    }
    response = widget_asked.submit({f"e{text}": "x"})
    assert response.status_code == 422
    assert row_counts() == before


@pytest.fixture
def widget_asked(client, site) -> Widget:
    widget = Widget(client)
    widget.ask()
    return widget


@pytest.mark.parametrize("site_key", ["acme%00", "acme%ED%A0%80", "%00"])
def test_an_unstorable_site_key_in_the_url_is_404(client, site, site_key):
    response = client.post(f"/api/v1/sites/{site_key}/events", json={"kind": "page_view"})
    assert response.status_code == 404
    preflight = client.options(
        f"/api/v1/sites/{site_key}/events",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 404


def test_a_genuine_visitor_token_of_another_site_starts_a_new_visitor(client, site):
    other = acme_config()
    other["site"] = {**other["site"], "key": "other"}
    make_site(other)
    there = Widget(client, site="other")
    there.ask()
    assert (
        there.submit({"email": "x@zorblax.example", "first_name": "X", "company": "Y"}).status_code
        == 200
    )
    here = Widget(client)
    here.visitor = there.visitor  # validly signed, but for site "other"
    assert here.ask() == ["email", "first_name", "company"]
    assert here.visitor != there.visitor
    here.event()
    assert db.session.scalar(select(func.count()).select_from(Visitor)) == 2


def test_an_ask_token_of_another_form_is_422(client, site, app):
    config = acme_config()
    config["forms"].append({"key": "other", "title": "Other"})
    make_site(config)
    w = Widget(client, form="other")
    w.ask()
    token = w.ask_token
    w.form = "blog"
    w.ask()
    w.ask_token = token
    response = w.submit({"email": "a@zorblax.example"})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"ask_token": ["Invalid or tampered token."]}


def test_replaying_one_ask_token_counts_one_form_submit(widget_asked):
    for _ in range(3):
        assert widget_asked.submit({"email": "r@zorblax.example"}).status_code == 200
    kinds = db.session.scalars(select(EngagementEvent.kind)).all()
    assert kinds == ["form_submit"]


def test_the_sites_configured_stage_outranks_the_pages_claim(client, app):
    config = acme_config(engagement={"webinar": {"weight": 5, "stage": "mid"}})
    make_site(config)
    w = Widget(client)
    w.event("webinar", "late")
    w.event("page_view", "late")  # page_view has no configured stage: the page's counts
    stages = db.session.execute(
        select(EngagementEvent.kind, EngagementEvent.stage).order_by(EngagementEvent.id)
    ).all()
    assert [tuple(s) for s in stages] == [("webinar", "mid"), ("page_view", "late")]


def test_preflight_answers_only_the_public_paths(client, site):
    headers = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    assert client.options(ASK, headers=headers).status_code == 204
    response = client.options("/api/v1/sites/acme/contacts/export", headers=headers)
    assert "Access-Control-Allow-Origin" not in response.headers


def test_writes_for_a_visitor_lock_its_row_first(app, client, site):
    """Merges and concurrent events of one browser serialise on the visitor row (PostgreSQL)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite has a single writer")
    statements: list[str] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def capture(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    w = Widget(client)
    w.ask()
    statements.clear()
    w.event()
    w.submit({"email": "lock@zorblax.example"})
    locks = [s for s in statements if s.startswith("SELECT visitors.") and s.endswith("FOR UPDATE")]
    assert len(locks) == 2
    event.remove(db.engine, "before_cursor_execute", capture)


@pytest.fixture
def app_settings(request):
    if "small_body" in request.keywords:
        return {"MAX_CONTENT_LENGTH": 1024}
    return {}


@pytest.mark.small_body
def test_the_413_message_states_the_configured_limit(client, site):
    response = client.post(ASK, json={"visitor": "x" * 2000})
    assert response.status_code == 413
    assert error_of(response)["message"] == "The request body is larger than the limit of 1 KB."
