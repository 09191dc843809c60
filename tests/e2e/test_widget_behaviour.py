"""The widget's documented behaviour in real Chromium: several forms, every field kind, the
track queue, server errors, retries and the complete state (docs/widget.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, Request, Route, expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import EngagementEvent, Field, ProfileValue, Submission
from tests.e2e.pages import configure, is_ask, is_event, load
from tests.e2e.servers import HostSite, LiveServer
from tests.factories import acme_config

SEND_FAILED = "Could not send your answers. Please try again."

QUEUE_SNIPPET = """<script>
window.Trickle=window.Trickle||function(){(Trickle.q=Trickle.q||[]).push(arguments)};
Trickle.track=Trickle.track||function(k,o){Trickle('track',k,o)};
</script>"""

LISTEN = """<script>
window.seen = [];
for (const name of ['trickle:ready', 'trickle:submitted', 'trickle:complete'])
  document.addEventListener(name, (e) => window.seen.push([name, e.detail]));
</script>"""


# ---- helpers ----


def host_page(
    trickle: LiveServer, body: str, script: str = 'data-form="blog" data-stage="early"'
) -> str:
    return f"""<!doctype html><html><head><title>Host</title></head><body>
{body}
<script async src="{trickle.url}/widget.js" data-site="acme" {script}></script>
</body></html>"""


def mount(form: str) -> str:
    return f'<div data-trickle-form="{form}"></div>'


def submit_url(trickle: LiveServer, form: str = "blog") -> str:
    return f"{trickle.url}/api/v1/sites/acme/forms/{form}/submit"


def cors(host: HostSite) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": host.origin, "Vary": "Origin"}


def rows(statement: Any) -> list[Any]:
    """Rows as the server committed them (the test's session never holds a transaction)."""
    try:
        return list(db.session.execute(statement).all())
    finally:
        db.session.rollback()


def stored_values() -> dict[str, Any]:
    """Every stored profile value by field key (each test has a single contact)."""
    query = select(Field.key, ProfileValue.value).join(Field, Field.id == ProfileValue.field_id)
    return dict(rows(query))


def count(model: Any, **where: Any) -> int:
    return rows(select(func.count()).select_from(model).filter_by(**where))[0][0]


def fill_blog(page: Page) -> None:
    page.get_by_role("textbox", name="Work email", exact=True).fill("ann@zorblax.example")
    page.get_by_label("First name", exact=True).fill("Ann")
    page.get_by_label("Company", exact=True).fill("Zorblax")


BLOG_VALUES = {"email": "ann@zorblax.example", "first_name": "Ann", "company": "Zorblax"}


def assert_blog_stored_once() -> None:
    assert stored_values() == BLOG_VALUES
    assert count(Submission) == len(BLOG_VALUES)  # one history row per value: one submit
    assert count(EngagementEvent, kind="form_submit") == 1


# ---- 1. several forms on one page ----


SECOND_TAG = 'data-form="short"></script>\n<script async src="{url}/widget.js" data-site="acme"'


@pytest.mark.parametrize("tags", [1, 2], ids=["one-script-tag", "a-tag-per-form"])
def test_two_mounts_render_their_own_forms_with_one_page_view(page, trickle, host, app, tags):
    short = {
        "key": "short",
        "title": "Quick intro",
        "fields": ["first_name", "company"],
        "submit_label": "Send",
    }
    configure(host, forms=[*acme_config()["forms"], short])
    script = 'data-form="blog" data-stage="early"'
    if tags == 2:  # the same script again, for the other form
        script = SECOND_TAG.format(url=trickle.url) + " " + script
    host.pages["/"] = host_page(trickle, mount("blog") + mount("short"), script)
    events: list[str] = []
    page.on("request", lambda r: events.append(r.url) if r.url.endswith("/events") else None)
    with (
        page.expect_response(is_ask("blog")) as blog,
        page.expect_response(is_ask("short")) as short_ask,
        page.expect_response(is_event("page_view")) as view,
    ):
        page.goto(host.origin + "/")
    assert (blog.value.status, short_ask.value.status, view.value.status) == (200, 200, 202)

    blog_mount = page.locator('[data-trickle-form="blog"]')
    short_mount = page.locator('[data-trickle-form="short"]')
    expect(page.locator("trickle-form")).to_have_count(2)
    expect(blog_mount.locator("h2")).to_have_text("Stay in the loop")
    expect(short_mount.locator("h2")).to_have_text("Quick intro")
    expect(blog_mount.locator(".question .question-head > :first-child")).to_have_text(
        ["Work email", "First name", "Company"]
    )
    expect(short_mount.locator(".question .question-head > :first-child")).to_have_text(
        ["First name", "Company"]
    )
    expect(blog_mount.get_by_role("button", name="Subscribe")).to_be_visible()
    expect(short_mount.get_by_role("button", name="Send")).to_be_visible()
    # Every request of the load is issued by then (the rest wait on the first response).
    assert len(events) == 1
    assert count(EngagementEvent) == count(EngagementEvent, kind="page_view") == 1
    assert page.page_errors == []


# ---- 2. every field kind ----

KIND_FIELDS: list[dict[str, Any]] = [  # in asking order: the identity field comes first
    {
        "key": "email",
        "label": "Work email",
        "kind": "email",
        "priority": 3,
        "identity": True,
        "required": True,
    },
    {"key": "nickname", "label": "Nickname", "kind": "text", "priority": 1},
    {"key": "bio", "label": "About you", "kind": "textarea", "priority": 2},
    {"key": "phone", "label": "Phone", "kind": "phone", "priority": 4},
    {"key": "website", "label": "Website", "kind": "url", "priority": 5},
    {"key": "employees", "label": "Employees", "kind": "number", "priority": 6},
    {
        "key": "plan",
        "label": "Plan",
        "kind": "select",
        "priority": 7,
        "options": ["Free", "Pro", {"value": "ent", "label": "Enterprise"}],
    },
    {
        "key": "country",
        "label": "Country",
        "kind": "select",
        "priority": 8,
        "options": [
            {"value": "at", "label": "Austria"},
            {"value": "be", "label": "Belgium"},
            {"value": "de", "label": "Germany"},
            {"value": "dk", "label": "Denmark"},
            {"value": "fr", "label": "France"},
            {"value": "nl", "label": "Netherlands"},
        ],
    },
    {
        "key": "interests",
        "label": "Interests",
        "kind": "multiselect",
        "priority": 9,
        "options": ["Analytics", "Forms", "Email", "Ads"],
    },
    {"key": "newsletter", "label": "Send me the newsletter?", "kind": "boolean", "priority": 10},
    {"key": "contact_ok", "label": "You may contact me", "kind": "consent", "priority": 11},
]


def test_every_field_kind_renders_and_stores_typed_values(page, trickle, host, app):
    fields = [{**f, "tier": "basics"} for f in KIND_FIELDS]
    form = {
        "key": "kinds",
        "title": "All about you",
        "max_questions": 10,
        "fields": [f["key"] for f in fields],
        "submit_label": "Save",
        "thank_you": "Saved.",
    }
    configure(host, fields=fields, forms=[form])
    host.pages["/"] = host_page(trickle, mount("kinds"), 'data-form="kinds"')
    load(page, host.origin + "/", "kinds")

    text = page.get_by_role("textbox", name="Nickname", exact=True)
    textarea = page.get_by_role("textbox", name="About you", exact=True)
    email = page.get_by_role("textbox", name="Work email", exact=True)
    phone = page.get_by_role("textbox", name="Phone", exact=True)
    url = page.get_by_role("textbox", name="Website", exact=True)
    number = page.get_by_role("textbox", name="Employees", exact=True)
    plan = page.get_by_role("radiogroup", name="Plan", exact=True)
    country = page.get_by_role("combobox", name="Country", exact=True)
    interests = page.get_by_role("group", name="Interests", exact=True)
    newsletter = page.get_by_role("radiogroup", name="Send me the newsletter?", exact=True)

    # Ten questions (max_questions), in priority order; the consent comes next visit.
    expect(page.locator("trickle-form .question .question-head > :first-child")).to_have_text(
        [f["label"] for f in KIND_FIELDS[:10]]
    )
    expect(textarea).to_have_js_property("tagName", "TEXTAREA")
    expect(email).to_have_attribute("type", "email")
    expect(email).to_have_attribute("aria-required", "true")
    expect(phone).to_have_attribute("type", "tel")
    expect(url).to_have_attribute("type", "url")
    expect(number).to_have_attribute("type", "text")
    expect(number).to_have_attribute("inputmode", "decimal")
    expect(plan.get_by_role("radio")).to_have_count(3)
    expect(country.locator("option")).to_have_text(
        ["Choose\u2026", "Austria", "Belgium", "Germany", "Denmark", "France", "Netherlands"]
    )
    expect(interests.get_by_role("checkbox")).to_have_count(4)
    expect(newsletter.get_by_role("radio")).to_have_count(2)

    text.fill("  Annie  ")
    textarea.fill("Line one\nLine two")
    email.fill("Ann@Zorblax.Example")
    phone.fill("+49 30 1234567")
    url.fill("https://zorblax.example/about")
    number.fill("1250")
    plan.get_by_label("Enterprise", exact=True).check()
    country.select_option(label="Germany")
    interests.get_by_label("Email", exact=True).check()  # out of option order on purpose
    interests.get_by_label("Analytics", exact=True).check()
    newsletter.get_by_label("No", exact=True).check()
    with page.expect_response(submit_url(trickle, "kinds")) as sent:
        page.get_by_role("button", name="Save").click()
    assert sent.value.status == 200
    expect(page.get_by_role("status")).to_have_text("Saved.")

    load(page, host.origin + "/", "kinds")
    expect(page.locator("trickle-form .question .question-head > :first-child")).to_have_text(
        ["You may contact me"]
    )
    consent = page.get_by_role("checkbox", name="You may contact me", exact=True)
    expect(consent).not_to_be_checked()  # never pre-ticked
    consent.check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    assert stored_values()["contact_ok"] is True

    # Withdrawn from the host page as easily as it was given.
    assert page.evaluate("Trickle.withdrawConsent(['contact_ok'])") is True
    assert stored_values()["contact_ok"] is False
    assert page.evaluate("Trickle.withdrawConsent(['nickname'])") is False  # not a consent: 422
    page.evaluate("Trickle.withdrawConsent(['contact_ok'])")  # already withdrawn: no change

    stored = stored_values()
    assert stored == {
        "nickname": "Annie",
        "bio": "Line one\nLine two",
        "email": "ann@zorblax.example",
        "phone": "+49 30 1234567",
        "website": "https://zorblax.example/about",
        "employees": 1250,
        "plan": "ent",
        "country": "de",
        "interests": ["Analytics", "Email"],
        "newsletter": False,
        "contact_ok": False,
    }
    assert {key: type(value).__name__ for key, value in stored.items()} == {
        "nickname": "str",
        "bio": "str",
        "email": "str",
        "phone": "str",
        "website": "str",
        "employees": "int",
        "plan": "str",
        "country": "str",
        "interests": "list",
        "newsletter": "bool",
        "contact_ok": "bool",
    }
    assert page.page_errors == []


# ---- 3. Trickle.track queued before the script loads ----


def test_track_queued_before_load_is_sent_once(page, trickle, host, app):
    configure(host)
    early_call = "<script>Trickle.track('content_download', {content: 'Guide', id: 'dl-1', stage: 'mid'});</script>"
    host.pages["/"] = host_page(trickle, QUEUE_SNIPPET + early_call, script="")
    with (
        page.expect_response(is_event("page_view")) as view,
        page.expect_response(is_event("content_download")) as download,
    ):
        page.goto(host.origin + "/")
    assert (view.value.status, download.value.status) == (202, 202)
    assert page.evaluate("Trickle.version") == "1.0.0"

    query = select(
        EngagementEvent.kind,
        EngagementEvent.content,
        EngagementEvent.external_id,
        EngagementEvent.stage,
        EngagementEvent.contact_id,
    ).order_by(EngagementEvent.kind)
    events = rows(query)
    assert [tuple(e)[:4] for e in events] == [
        ("content_download", "Guide", "dl-1", "mid"),
        ("page_view", None, None, "early"),
    ]
    assert events[0].contact_id == events[1].contact_id  # both on the one new visitor

    with page.expect_response(is_event("content_download")) as again:
        page.evaluate(
            "Trickle.track('content_download', {content: 'Guide', id: 'dl-1', stage: 'mid'})"
        )
    assert again.value.status == 202
    assert count(EngagementEvent, kind="content_download") == 1
    assert count(EngagementEvent) == 2
    assert page.page_errors == []


# ---- 4. server 422 messages next to their field ----


def test_server_422_message_is_shown_at_its_field(page, trickle, host, app):
    configure(host)
    host.pages["/"] = host_page(trickle, mount("blog"))
    calls: list[Request] = []

    def reject(route: Route) -> None:
        calls.append(route.request)
        route.fulfill(
            status=422,
            headers=cors(host),
            content_type="application/json",
            json={
                "error": {
                    "code": "invalid",
                    "message": "Some answers were not accepted: first_name.",
                    "fields": {"first_name": ["Nope, not that name."]},
                }
            },
        )

    page.route(submit_url(trickle), reject)
    load(page, host.origin + "/")
    fill_blog(page)
    with page.expect_response(submit_url(trickle)):
        page.get_by_role("button", name="Subscribe").click()

    first_name = page.get_by_label("First name", exact=True)
    expect(first_name).to_have_attribute("aria-invalid", "true")
    expect(first_name).to_be_focused()
    described = first_name.get_attribute("aria-describedby")
    assert described
    expect(page.locator(f"trickle-form #{described}")).to_have_text("Nope, not that name.")
    email = page.get_by_role("textbox", name="Work email", exact=True)
    expect(email).not_to_have_attribute("aria-invalid", "true")
    expect(email).to_have_value("ann@zorblax.example")
    expect(page.get_by_role("button", name="Subscribe")).to_be_enabled()
    expect(page.locator("trickle-form [role=status]")).to_have_text("")
    assert len(calls) == 1  # a 422 is not retried
    assert stored_values() == {}
    assert page.page_errors == []


# ---- 5. 409 ask_expired: ask again, send again ----


def test_ask_expired_asks_again_and_resends_once(page, trickle, host, app):
    configure(host)
    host.pages["/"] = host_page(trickle, mount("blog"))
    bodies: list[dict] = []
    calls: list[str] = []

    def log(request: Request) -> None:
        if "/forms/blog/" in request.url and request.method == "POST":
            calls.append(request.url.rsplit("/", 1)[1])

    page.on("request", log)

    def expire_first(route: Route) -> None:
        bodies.append(route.request.post_data_json)
        if len(bodies) > 1:
            return route.continue_()
        route.fulfill(
            status=409,
            headers=cors(host),
            content_type="application/json",
            json={"error": {"code": "ask_expired", "message": "Ask again."}},
        )

    page.route(submit_url(trickle), expire_first)
    load(page, host.origin + "/")
    fill_blog(page)
    with page.expect_response(lambda r: r.url == submit_url(trickle) and r.status == 200):
        page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("status")).to_have_text("Thanks!")

    assert calls == ["ask", "submit", "ask", "submit"]  # asked again once, then sent again
    assert len(bodies) == 2
    assert bodies[1]["answers"] == bodies[0]["answers"] == BLOG_VALUES
    assert_blog_stored_once()
    assert page.page_errors == []


# ---- 6. a network failure is retried with the same idempotency key ----


@pytest.mark.parametrize("reached_server", [False, True], ids=["lost-request", "lost-reply"])
def test_a_failed_send_is_retried_with_the_same_key(page, trickle, host, app, reached_server):
    configure(host)
    host.pages["/"] = host_page(trickle, mount("blog"))
    bodies: list[dict] = []

    def fail_first(route: Route) -> None:
        bodies.append(route.request.post_data_json)
        if len(bodies) > 1:
            return route.continue_()
        if reached_server:
            route.fetch()  # the server stores the answers, then the reply is lost
        route.abort()

    page.route(submit_url(trickle), fail_first)
    load(page, host.origin + "/")
    fill_blog(page)
    with page.expect_response(lambda r: r.url == submit_url(trickle) and r.status == 200):
        page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("status")).to_have_text("Thanks!")

    assert len(bodies) == 2
    assert bodies[0]["idempotency_key"]
    assert bodies[1]["idempotency_key"] == bodies[0]["idempotency_key"]
    assert bodies[1] == bodies[0]
    assert_blog_stored_once()
    assert page.page_errors == []


def test_a_503_while_the_database_is_down_is_retried_with_the_answers(page, trickle, host, app):
    """Issue 18.5: the server answers 503 (database unreachable); the widget keeps the answers
    and sends them again, as for a network error."""
    configure(host)
    host.pages["/"] = host_page(trickle, mount("blog"))
    bodies: list[dict] = []

    def down_once(route: Route) -> None:
        bodies.append(route.request.post_data_json)
        if len(bodies) > 1:
            return route.continue_()
        envelope = {"error": {"code": "unavailable", "message": "The database is down."}}
        route.fulfill(status=503, headers={"Retry-After": "30"}, json=envelope)

    page.route(submit_url(trickle), down_once)
    load(page, host.origin + "/")
    fill_blog(page)
    with page.expect_response(lambda r: r.url == submit_url(trickle) and r.status == 200):
        page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("status")).to_have_text("Thanks!")

    assert len(bodies) == 2 and bodies[1] == bodies[0]
    assert_blog_stored_once()
    assert page.page_errors == []


# ---- 7. every try fails ----


def run_clock_until(page: Page, done: Callable[[], bool], within_s: float = 15) -> None:
    """Advance the page's fake clock in small steps until ``done()`` (no real waiting)."""
    deadline = time.monotonic() + within_s
    while not done():
        assert time.monotonic() < deadline, "the page never got there"
        page.clock.run_for(250)


def test_when_every_try_fails_the_answers_stay_and_a_message_shows(page, trickle, host, app):
    configure(host)
    host.pages["/"] = host_page(trickle, mount("blog"))
    tries: list[str] = []

    def always_abort(route: Route) -> None:
        tries.append(route.request.post_data_json["idempotency_key"])
        route.abort()

    page.route(submit_url(trickle), always_abort)
    page.clock.install()
    load(page, host.origin + "/")
    fill_blog(page)
    page.get_by_role("button", name="Subscribe").click()
    status = page.locator("trickle-form [role=status]")
    run_clock_until(page, lambda: status.text_content() == SEND_FAILED)

    expect(page.get_by_role("status")).to_have_text(SEND_FAILED)
    assert len(tries) == 4  # the first try and 3 retries
    assert len(set(tries)) == 1
    expect(page.get_by_role("textbox", name="Work email", exact=True)).to_have_value(
        "ann@zorblax.example"
    )
    expect(page.get_by_label("First name", exact=True)).to_have_value("Ann")
    expect(page.get_by_label("Company", exact=True)).to_have_value("Zorblax")
    expect(page.get_by_role("button", name="Subscribe")).to_be_enabled()
    assert stored_values() == {}
    assert page.page_errors == []


# ---- 8. nothing left to ask ----


@pytest.mark.parametrize(
    "complete_message", [None, "You're all set."], ids=["no-message", "message"]
)
def test_a_visitor_with_nothing_left_to_answer(page, trickle, host, app, complete_message):
    form = {"key": "quick", "title": "One question", "fields": ["first_name"]}
    if complete_message:
        form["complete_message"] = complete_message
    configure(host, forms=[form])
    host.pages["/"] = LISTEN + host_page(trickle, mount("quick"), 'data-form="quick"')
    load(page, host.origin + "/", "quick")
    page.get_by_label("First name", exact=True).fill("Ann")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_have_text("Thank you!")
    assert page.evaluate("window.seen") == [
        ["trickle:ready", {"form": "quick", "complete": False}],
        ["trickle:submitted", {"form": "quick", "keys": ["first_name"], "skipped": []}],
        ["trickle:complete", {"form": "quick"}],
    ]

    load(page, host.origin + "/", "quick")  # the next visit: nothing left to ask
    page.wait_for_function("window.seen.length >= 2")
    assert page.evaluate("window.seen") == [
        ["trickle:ready", {"form": "quick", "complete": True}],
        ["trickle:complete", {"form": "quick"}],
    ]
    area = page.locator('[data-trickle-form="quick"]')
    expect(page.locator("trickle-form form")).to_have_count(0)
    expect(page.get_by_role("textbox")).to_have_count(0)
    if complete_message is None:
        expect(area).to_have_text("")
        expect(area).to_be_hidden()  # no text and no empty card: it takes no room
        expect(page.get_by_role("status")).to_have_count(0)
    else:
        expect(page.get_by_role("status")).to_have_text(complete_message)
        expect(area).to_have_text(complete_message)
        expect(area).to_be_visible()
    assert page.page_errors == []
