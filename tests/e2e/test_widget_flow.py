"""The widget's flow in real Chromium: a dependent question revealed in the same form, what a
form does on completion, and a page whose origin the site does not allow (docs/widget.md)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.cli import DEMO_CONFIG
from app.extensions import db
from app.models import Field, ProfileValue
from app.services.siteconfig import import_site_config, read_config_file
from tests.e2e.pages import is_ask, load
from tests.e2e.servers import HostSite, LiveServer
from tests.factories import acme_config, make_site


@pytest.fixture
def app_settings() -> dict[str, object]:
    return {"DEMO": True}  # the demo's case study page and its PDF


QUOTE = {"key": "quote", "title": "Get a quote", "tiers": ["qualification"], "max_questions": 2}


def site_on(host: HostSite, *forms: dict[str, Any]) -> None:
    """The acme site allowed on the host's origin, its qualification tier open to everyone."""
    config = acme_config()
    config["site"] = {**config["site"], "origins": [host.origin]}
    config["tiers"][2] = {"key": "qualification", "rank": 3, "min_score": 0}
    config["forms"] = [*config["forms"], *forms]
    make_site(config)


def embed(trickle: LiveServer, form: str) -> str:
    return f"""<!doctype html><html><head><title>Host</title></head><body>
<script async src="{trickle.url}/widget.js" data-site="acme" data-form="{form}"></script>
</body></html>"""


def stored_values() -> dict[str, Any]:
    """Every stored profile value by field key, as the server committed them."""
    query = select(Field.key, ProfileValue.value).join(Field, Field.id == ProfileValue.field_id)
    try:
        return dict(db.session.execute(query).all())
    finally:
        db.session.rollback()


def labels(page: Page) -> Any:
    return page.locator(".question:visible .question-head > :first-child")


# ---- 1. a dependent question in the same form ----


def test_yes_reveals_the_budget_question_in_the_same_form(page, trickle, host, app):
    site_on(host, QUOTE)
    host.pages["/"] = embed(trickle, "quote")
    load(page, host.origin + "/", "quote")
    # budget waits for a Yes; the form shows at most two questions.
    expect(labels(page)).to_have_text(["Do you sign off on purchases?", "When do you plan to buy?"])

    page.get_by_role("radio", name="Yes").check()
    expect(labels(page)).to_have_text(["Do you sign off on purchases?", "Budget this year"])
    page.get_by_role("radio", name="No").check()
    expect(labels(page)).to_have_text(["Do you sign off on purchases?", "When do you plan to buy?"])
    page.get_by_role("radio", name="Now").check()  # answered, then it steps back for budget

    page.get_by_role("radio", name="Yes").check()
    page.get_by_role("radio", name="> 100k").check()
    with page.expect_request(lambda r: r.url.endswith("/forms/quote/submit")) as sent:
        page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_have_text("Thank you!")
    assert sent.value.post_data_json["answers"] == {"decision_maker": True, "budget": "> 100k"}
    assert stored_values() == {"decision_maker": True, "budget": "> 100k"}
    assert page.page_errors == []


def test_a_skipped_parent_keeps_its_dependent_hidden(page, trickle, host, app):
    site_on(host, {**QUOTE, "max_questions": 3})
    host.pages["/"] = embed(trickle, "quote")
    load(page, host.origin + "/", "quote")
    page.get_by_role("radio", name="Yes").check()
    expect(labels(page)).to_have_text(
        ["Do you sign off on purchases?", "Budget this year", "When do you plan to buy?"]
    )
    page.get_by_role("button", name="Skip Do you sign off on purchases?").click()
    expect(labels(page)).to_have_text(["When do you plan to buy?"])
    with page.expect_request(lambda r: r.url.endswith("/forms/quote/submit")) as sent:
        page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_have_text("Thank you!")
    assert sent.value.post_data_json["skipped"] == ["decision_maker"]
    assert sent.value.post_data_json["answers"] == {}


# ---- 2. what a form does once the visitor is done ----


def one_question(on_complete: dict[str, str], **form: Any) -> dict[str, Any]:
    """A form asking only the first name, then ``on_complete``."""
    base = {"key": "hello", "title": "Say hello", "fields": ["first_name"], "thank_you": "Thanks!"}
    return {**base, "on_complete": on_complete, **form}


def answer(page: Page) -> None:
    page.get_by_label("First name", exact=True).fill("Ann")
    page.get_by_role("button", name="Submit").click()


def test_a_download_starts_after_the_submit_and_on_each_return(page, trickle, host, app):
    on_complete = {"download": "/files/guide.pdf", "label": "Download the guide"}
    site_on(host, one_question(on_complete, complete_message="You are all set."))
    host.pages["/"] = embed(trickle, "hello")
    host.pages["/files/guide.pdf"] = "%PDF-1.4 the guide"
    load(page, host.origin + "/", "hello")
    with page.expect_download() as download:
        answer(page)
    assert download.value.suggested_filename == "guide.pdf"
    assert download.value.url == host.origin + "/files/guide.pdf"
    expect(page.get_by_role("status")).to_have_text("Thanks!")
    link = page.get_by_role("link", name="Download the guide")
    expect(link).to_have_attribute("href", "/files/guide.pdf")
    assert stored_values() == {"first_name": "Ann"}

    with page.expect_download() as again:  # nothing left to ask: the file comes at once
        load(page, host.origin + "/", "hello")
    assert again.value.suggested_filename == "guide.pdf"
    expect(page.get_by_role("status")).to_have_text("You are all set.")
    expect(link).to_have_attribute("href", "/files/guide.pdf")
    assert page.page_errors == []


def test_a_page_opens_after_the_submit_and_a_returning_visitor_gets_its_link(
    page, trickle, host, app
):
    site_on(host, one_question({"open": host.origin + "/next"}))
    host.pages["/"] = embed(trickle, "hello")
    host.pages["/next"] = "<!doctype html><title>Next step</title><h1>Your next step</h1>"
    load(page, host.origin + "/", "hello")
    answer(page)
    expect(page).to_have_url(host.origin + "/next")
    assert stored_values() == {"first_name": "Ann"}

    load(page, host.origin + "/", "hello")  # never sent away on load: the link instead
    link = page.get_by_role("link", name="Open")
    expect(link).to_have_attribute("href", host.origin + "/next")
    assert page.url == host.origin + "/"


def test_a_message_shows_after_the_submit_and_on_return(page, trickle, host, app):
    site_on(host, one_question({"message": "Your guide is on its way."}))
    host.pages["/"] = embed(trickle, "hello")
    load(page, host.origin + "/", "hello")
    answer(page)
    expect(page.get_by_role("status")).to_have_text("Thanks!")
    next_step = page.locator("trickle-form p", has_text="Your guide is on its way.")
    expect(next_step).to_have_count(1)
    load(page, host.origin + "/", "hello")
    expect(next_step).to_have_count(1)
    expect(page.get_by_role("link")).to_have_count(0)


def test_the_demo_case_study_really_downloads(page, trickle, app):
    import_site_config(read_config_file(str(DEMO_CONFIG)))
    load(page, trickle.url + "/demo/case-study", "case_study")
    page.get_by_role("textbox", name="Work email", exact=True).fill("ann@zorblax.example")
    with page.expect_download() as download:
        page.get_by_role("button", name="Get the case study").click()
    expect(page.get_by_role("status")).to_have_text("Thank you! The download starts now.")
    assert download.value.suggested_filename == "case-study.pdf"
    assert download.value.url == trickle.url + "/demo/files/case-study.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(8) == b"%PDF-1.4"
    expect(page.get_by_role("link", name="Download the case study")).to_be_visible()


# ---- 3. a page whose origin the site does not allow ----


def test_a_refused_origin_is_named_in_the_console_with_the_fix(page, trickle, host, app):
    config = acme_config()  # allows https://www.acme.example only
    make_site(config)
    host.pages["/"] = embed(trickle, "blog")
    logged: list[tuple[str, str]] = []
    page.on("console", lambda message: logged.append((message.type, message.text)))
    with (
        page.expect_response(is_ask("blog")) as ask,
        page.expect_response(lambda r: r.url.endswith("/events")) as event,
    ):
        page.goto(host.origin + "/")
    assert (ask.value.status, event.value.status) == (403, 403)
    expect(page.locator("trickle-form p[role=status]")).to_have_text(
        "This form is unavailable right now."
    )
    # The ask's and the page view's refusals: said once.
    assert [entry for entry in logged if entry[1].startswith("Trickle")] == [
        (
            "error",
            f"Trickle: Origin {host.origin} is not allowed for site acme. Add it to the site's"
            f" origins: Allowed origins on {trickle.url}/admin/sites/acme/settings, or"
            " site.origins in the config file.",
        )
    ]
    assert page.page_errors == []
