"""Views per form in real Chromium: a host page with two of the site's forms sends one page view
naming both, and the dashboard's per-form table shows one view and one ask for each, on a
desktop and on a phone, where the table scrolls inside its card, never the page."""

from __future__ import annotations

import json

from playwright.sync_api import Browser, expect

from app.services.accounts import create_user
from tests.e2e.pages import configure, is_ask, is_event, sign_in
from tests.e2e.servers import HostSite, LiveServer
from tests.factories import PASSWORD, acme_config

SHORT = {"key": "short", "title": "Quick intro", "fields": ["first_name", "company"]}
COLUMNS = [
    *("Form", "Views", "Asks", "Questions asked", "Answered", "Skipped", "Submissions"),
    "Answer rate (%)",
]


def test_a_page_with_two_forms_gives_each_one_view_on_the_dashboard(
    browser: Browser, trickle: LiveServer, host: HostSite, app
):
    configure(host, forms=[*acme_config()["forms"], SHORT])
    create_user("ann@acme.example", "analyst", PASSWORD)
    host.pages["/"] = f"""<!doctype html><html><head><title>Host</title></head><body>
<div data-trickle-form="blog"></div><div data-trickle-form="short"></div>
<script async src="{trickle.url}/widget.js" data-site="acme" data-form="blog"></script>
</body></html>"""
    visitor = browser.new_context()
    page = visitor.new_page()
    with (
        page.expect_response(is_ask("blog")) as blog,
        page.expect_response(is_ask("short")) as short,
        page.expect_response(is_event("page_view")) as view,
    ):
        page.goto(host.origin + "/")
    assert (blog.value.status, short.value.status, view.value.status) == (200, 200, 202)
    assert json.loads(view.value.request.post_data or "{}")["forms"] == ["blog", "short"]
    visitor.close()

    for viewport in ({"width": 1200, "height": 800}, {"width": 390, "height": 844}):
        console = browser.new_context(viewport=viewport)
        page = console.new_page()
        sign_in(page, trickle.url, "ann@acme.example")
        page.goto(trickle.url + "/admin/sites/acme/dashboard")
        table = page.locator("table.per-form")
        expect(table.locator("thead th")).to_have_text(COLUMNS)
        rows = table.locator("tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.locator("th")).to_have_text(["Stay in the loop blog", "Quick intro short"])
        # views, asks, questions asked, answered, skipped, submissions, answer rate (%)
        expect(rows.nth(0).locator("td")).to_have_text(["1", "1", "3", "0", "0", "0", "0"])
        expect(rows.nth(1).locator("td")).to_have_text(["1", "1", "2", "0", "0", "0", "0"])
        expect(page.locator(".tiles div").first).to_have_text("Page views 1", use_inner_text=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"]  # the page never scrolls sideways
        console.close()


def test_a_form_key_no_form_can_have_does_not_cost_the_page_view(
    browser: Browser, trickle: LiveServer, host: HostSite, app
):
    configure(host)
    typo = "b" * 65  # longer than any form key: its ask is a 404, the page view still counts
    host.pages["/"] = f"""<!doctype html><html><head><title>Host</title></head><body>
<div data-trickle-form="blog"></div><div data-trickle-form="{typo}"></div>
<script async src="{trickle.url}/widget.js" data-site="acme" data-form="blog"></script>
</body></html>"""
    page = browser.new_page()
    with page.expect_response(is_event("page_view")) as view:
        page.goto(host.origin + "/")
    assert view.value.status == 202
    assert json.loads(view.value.request.post_data or "{}")["forms"] == ["blog"]
    page.close()
