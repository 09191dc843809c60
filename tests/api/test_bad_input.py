"""Every bad input gets a clear error in the JSON envelope and changes nothing."""

from __future__ import annotations

import pytest

from app.services.asking import PreviewVisitor, preview_token
from tests.api.support import error_of, row_counts
from tests.factories import Widget


@pytest.fixture
def widget(client, site) -> Widget:
    widget = Widget(client)
    assert widget.ask() == ["email", "first_name", "company"]
    return widget


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/v1/sites/nope/forms/blog/ask", 'No site "nope".'),
        ("/api/v1/sites/acme/forms/nope/ask", 'No form "nope" on site "acme".'),
        ("/api/v1/sites/nope/events", 'No site "nope".'),
    ],
)
def test_unknown_site_or_form_is_404(client, site, path, message):
    before = row_counts()
    response = client.post(path, json={"kind": "page_view"} if "events" in path else {})
    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "message": message}
    assert row_counts() == before


def test_unknown_body_keys_are_422(client, site):
    response = client.post("/api/v1/sites/acme/forms/blog/ask", json={"visitor": None, "foo": 1})
    assert response.status_code == 422
    assert error_of(response) == {
        "code": "invalid",
        "message": "Invalid body: foo.",
        "fields": {"foo": ["Unknown field."]},
    }


def test_nested_unknown_and_invalid_keys_name_their_path(client, site):
    response = client.post(
        "/api/v1/sites/acme/forms/blog/ask", json={"page": {"stage": "soon", "x": 1}}
    )
    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "page.stage": ["Must be one of: early, mid, late."],
        "page.x": ["Unknown field."],
    }


def test_an_answer_for_a_question_not_offered_is_422_naming_it(widget):
    before = row_counts()
    response = widget.submit({"email": "a@zorblax.example", "budget": "> 100k", "zip": "1"})
    assert response.status_code == 422
    assert error_of(response) == {
        "code": "invalid",
        "message": "Some answers were not accepted: budget, zip.",
        "fields": {
            "budget": ["This question was not asked."],
            "zip": ["This question was not asked."],
        },
    }
    assert row_counts() == before


@pytest.mark.parametrize(
    ("answers", "fields"),
    [
        ({"email": "not-an-email"}, {"email": ["Enter a valid email address."]}),
        (
            {"email": "a@b.example", "first_name": "x" * 81},
            {"first_name": ["Must be at most 80 characters."]},
        ),
        ({"email": "a@b.example", "first_name": 7}, {"first_name": ["Enter text."]}),
        ({"first_name": "Ann"}, {"email": ["This question is required."]}),
        ({"email": "  "}, {"email": ["This question is required."]}),
    ],
)
def test_invalid_answers_are_422_per_field(widget, answers, fields):
    before = row_counts()
    response = widget.submit(answers)
    assert response.status_code == 422
    assert error_of(response)["fields"] == fields
    assert row_counts() == before


def test_invalid_number_and_option_are_422(client, site):
    w = Widget(client)
    w.ask()
    w.submit({"email": "n@zorblax.example", "first_name": "N", "company": "Z"})
    for _ in range(6):
        w.event()
    assert w.ask() == ["zip", "company_size", "industry"]
    before = row_counts()
    response = w.submit({"company_size": "huge", "industry": ["Retail"]})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "company_size": ["Choose one of the offered options."],
        "industry": ["Choose one of the offered options."],
    }
    assert row_counts() == before
    w.submit({"zip": "1", "company_size": "1-10", "industry": "Retail"})
    assert w.ask() == ["job_title", "employees"]
    response = w.submit({"employees": "many"})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"employees": ["Enter a number."]}


def test_a_body_that_is_not_json_is_415_and_broken_json_400(client, site):
    before = row_counts()
    url = "/api/v1/sites/acme/forms/blog/ask"
    response = client.post(url, data="visitor=1", content_type="text/plain")
    assert response.status_code == 415
    assert error_of(response) == {
        "code": "unsupported_media_type",
        "message": "Send the body as JSON with Content-Type: application/json.",
    }
    response = client.post(url, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response) == {"code": "bad_request", "message": "The body is not valid JSON."}
    response = client.post(url, json=[1, 2])
    assert response.status_code == 422
    assert error_of(response) == {"code": "invalid", "message": "The body must be a JSON object."}
    assert row_counts() == before


def test_a_body_over_64_kb_is_413(widget):
    before = row_counts()
    response = widget.submit({"email": "a@b.example", "first_name": "x" * (64 * 1024)})
    assert response.status_code == 413
    assert error_of(response) == {
        "code": "body_too_large",
        "message": "The request body is larger than the limit of 64 KB.",
    }
    assert row_counts() == before


def test_an_expired_ask_token_is_409(widget, clock):
    clock.advance(hours=24, seconds=1)
    before = row_counts()
    response = widget.submit({"email": "a@zorblax.example"})
    assert response.status_code == 409
    assert error_of(response) == {
        "code": "ask_expired",
        "message": "These questions have expired; ask again.",
    }
    assert row_counts() == before


def test_an_ask_token_just_inside_24_hours_is_accepted(widget, clock):
    clock.advance(hours=24)
    assert widget.submit({"email": "a@zorblax.example"}).status_code == 200


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), id="signature"),
        pytest.param(lambda t: "x" + t, id="payload"),
        pytest.param(lambda t: "garbage", id="garbage"),
    ],
)
def test_a_tampered_ask_token_is_422(widget, tamper):
    widget.ask_token = tamper(widget.ask_token)
    before = row_counts()
    response = widget.submit({"email": "a@zorblax.example"})
    assert response.status_code == 422
    assert error_of(response) == {
        "code": "invalid",
        "message": "The ask_token is not valid for this visitor and form.",
        "fields": {"ask_token": ["Invalid or tampered token."]},
    }
    assert row_counts() == before


def test_an_ask_token_of_another_visitor_is_422(client, site, widget):
    other = Widget(client)
    other.ask()
    widget.ask_token = other.ask_token
    response = widget.submit({"email": "a@zorblax.example"})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"ask_token": ["Invalid or tampered token."]}


def test_a_forged_visitor_token_is_treated_as_a_new_visitor(client, site):
    known = Widget(client)
    known.ask()
    known.submit({"email": "known@zorblax.example", "first_name": "Kim", "company": "Z"})
    forged = Widget(client)
    forged.visitor = known.visitor[:-3] + "abc"
    assert forged.ask() == ["email", "first_name", "company"]
    assert forged.visitor != known.visitor
    other_site_token = Widget(client)
    other_site_token.visitor = "eyJzIjoib3RoZXIiLCJ2IjoiMTIzIn0.sig"
    assert other_site_token.ask() == ["email", "first_name", "company"]


def test_a_filled_honeypot_gets_200_and_stores_nothing(widget):
    before = row_counts()
    response = widget.submit({"email": "bot@spam.example"}, hp="http://spam.example")
    assert response.status_code == 200
    assert response.get_json() == {
        "visitor": widget.visitor,
        "complete": True,
        "message": "Thanks!",
    }
    assert row_counts() == before


def test_the_same_idempotency_key_twice_writes_once_and_answers_the_same(widget):
    first = widget.submit({"email": "idem@zorblax.example"}, idempotency_key="k-1")
    after_first = row_counts()
    second = widget.submit({"email": "idem@zorblax.example"}, idempotency_key="k-1")
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.get_json() == first.get_json()
    assert row_counts() == after_first
    assert after_first["submissions"] == 1
    assert after_first["engagement_events"] == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"kind": "teleport"},
            {
                "kind": [
                    'Unknown event kind "teleport"; this site counts: '
                    "content_download, email_click, form_submit, "
                    "page_view, video_play, webinar."
                ]
            },
        ),
        ({"kind": "page_view", "stage": "later"}, {"stage": ["Must be one of: early, mid, late."]}),
        ({"kind": "Page View"}, {"kind": ["Use a-z, 0-9 and _."]}),
        ({}, {"kind": ["Missing data for required field."]}),
        ({"kind": "page_view", "url": "x" * 2001}, {"url": ["Longer than maximum length 2000."]}),
        ({"kind": "page_view", "forms": "blog"}, {"forms": ["Not a valid list."]}),
        ({"kind": "page_view", "forms": ["blog", 7]}, {"forms.1": ["Not a valid string."]}),
        ({"kind": "page_view", "forms": [""]}, {"forms.0": ["Length must be between 1 and 64."]}),
        (
            {"kind": "page_view", "forms": ["blog", "f" * 65]},
            {"forms.1": ["Length must be between 1 and 64."]},
        ),
        (
            {"kind": "page_view", "forms": ["blog"] * 51},
            {"forms": ["Longer than maximum length 50."]},
        ),
        (
            {"kind": "content_download", "forms": ["blog"]},
            {"forms": ["Only a page_view names the forms on its page."]},
        ),
    ],
)
def test_bad_events_are_422(client, site, body, fields):
    before = row_counts()
    response = client.post("/api/v1/sites/acme/events", json=body)
    assert response.status_code == 422
    assert error_of(response)["fields"] == fields
    assert row_counts() == before


def test_an_event_id_sent_twice_counts_once(client, site):
    w = Widget(client)
    w.event("content_download", "mid", id="dl-1")
    w.event("content_download", "mid", id="dl-1")
    assert row_counts()["engagement_events"] == 1


def test_wrong_method_is_a_json_405(client, site):
    response = client.get("/api/v1/sites/acme/forms/blog/ask")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"kind": "page_view", "stage": "mid"}, 202),
        ({"kind": "Page View"}, 422),
        ({}, 422),
    ],
)
def test_a_preview_event_is_checked_like_a_real_one_then_dropped(client, site, clock, body, status):
    token = preview_token(PreviewVisitor("acme", "blog"), clock())
    before = row_counts()
    response = client.post(f"/api/v1/preview/{token}/api/v1/sites/acme/events", json=body)
    assert response.status_code == status
    assert row_counts() == before
