"""The console for people, in real Chromium (issue 22, item 8): the contact page folds each
field's provenance, a keyboard user skips the navigation, and every page fits a phone's width."""

from __future__ import annotations

from playwright.sync_api import expect

from app.services.accounts import create_user
from tests.e2e.pages import picture, sign_in
from tests.e2e.servers import ARTIFACTS
from tests.factories import PASSWORD, Widget, acme_config, make_site

PHONE = {"width": 375, "height": 740}
PAGES = [
    "/admin/",
    "/admin/sites/acme/contacts",
    "/admin/sites/acme/contacts/1",
    "/admin/sites/acme/dashboard",
    "/admin/sites/acme/funnel",
    "/admin/sites/acme/config",
    "/admin/sites/acme/config/1",
    "/admin/sites/acme/questions",
    "/admin/sites/acme/export",
    "/admin/account",
]


def a_known_contact(app) -> None:
    stages = [
        {"key": "lead", "when": {"fields_known": ["email"]}},
        {"key": "mql", "when": {"min_score": 8, "fields_known": ["company"]}},
    ]
    make_site(acme_config(stages=stages))
    widget = Widget(app.test_client())
    widget.event("page_view", url="https://www.acme.example/blog/a-very-long-address-" + "x" * 60)
    widget.ask()
    answers = {"email": "ada@acme-corporation.example", "first_name": "Ada", "company": "Acme"}
    assert widget.submit(answers).status_code == 200
    widget.event("webinar")


def test_the_contact_page_folds_provenance_and_reads_the_rule_in_words(browser, trickle, app):
    a_known_contact(app)
    create_user("ann@acme.example", "analyst", PASSWORD)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, trickle.url, "ann@acme.example")
    page.goto(trickle.url + "/admin/sites/acme/contacts/1")

    company = page.locator("#provenance-company")
    expect(company.locator("table")).to_be_hidden()
    expect(company.locator("summary")).to_contain_text("Company company · 1 answer, latest “Acme”")
    company.locator("summary").click()
    expect(company.locator("tbody tr")).to_have_count(1)
    expect(page.locator("table.stage-moves tbody tr").last).to_contain_text(
        "Engagement score ≥ 8Known: Company"
    )
    picture(page, ARTIFACTS / "console-contact-person.png")


def test_a_keyboard_user_skips_to_the_content(browser, trickle, app):
    make_site()
    create_user("ann@acme.example", "analyst", PASSWORD)
    page = browser.new_context().new_page()
    sign_in(page, trickle.url, "ann@acme.example")
    page.goto(trickle.url + "/admin/sites/acme/contacts")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is in the content, past the navigation
    assert page.evaluate("document.activeElement.closest('main') !== null") is True


def test_every_console_page_fits_a_phone(browser, trickle, app):
    a_known_contact(app)
    create_user("mia@acme.example", "marketer", PASSWORD)
    page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    sign_in(page, trickle.url, "mia@acme.example")

    too_wide = {}
    for path in PAGES:
        response = page.goto(trickle.url + path)
        assert response.status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[path] = width
    assert too_wide == {}
    page.goto(trickle.url + "/admin/sites/acme/contacts/1")
    picture(page, ARTIFACTS / "console-contact-phone.png")
