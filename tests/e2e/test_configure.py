"""Configure in real Chromium: create a tier and a field, add them to a form, see the live preview."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import Contact, Visitor
from app.services.accounts import create_user
from app.services.siteconfig import export_site_config
from tests.e2e.pages import picture, sign_in
from tests.e2e.servers import ARTIFACTS
from tests.factories import PASSWORD, acme_config, make_site

LABEL = "<b>Your role</b>"  # markup in a label is text, in the console and in the widget


def test_create_a_tier_and_a_field_add_them_to_a_form_and_preview_it(browser, trickle, app):
    config = acme_config()
    config["forms"][0]["tiers"] = ["basics"]
    make_site(config)
    create_user("mia@acme.example", "marketer", PASSWORD)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, trickle.url, "mia@acme.example")

    page.get_by_role("link", name="Questions").first.click()
    page.get_by_role("link", name="New tier").click()
    page.get_by_label("Key").fill("Intent!")
    page.get_by_label("Label").fill("Buying intent")
    page.get_by_label("Rank").fill("0")
    page.get_by_role("button", name="Save tier").click()
    expect(page.get_by_label("Key")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#key-error")).to_have_text(
        "Use lower-case letters, digits and _, starting with a letter (at most 64)."
    )
    page.get_by_label("Key").fill("intent")
    page.get_by_role("button", name="Save tier").click()
    expect(page.get_by_text('Tier "intent" saved.')).to_be_visible()

    page.locator("#tier-intent").get_by_role("link", name="Add a field here").click()
    page.get_by_label("Key").fill("role")
    page.get_by_label("Question").fill(LABEL)
    expect(page.get_by_label("Tier")).to_have_value("intent")
    page.get_by_role("button", name="Save field").click()
    expect(page.get_by_text('Field "role" saved.')).to_be_visible()
    expect(page.locator("#field-role")).to_contain_text(LABEL)
    picture(page, ARTIFACTS / "console-questions.png")

    page.get_by_role("navigation", name="Site").get_by_role("link", name="Forms").click()
    page.get_by_role("link", name="Stay in the loop").click()
    preview = page.frame_locator('iframe[name="preview"]')
    expect(preview.get_by_label("Work email")).to_be_visible()
    expect(preview.get_by_role("textbox", name=LABEL)).to_have_count(0)  # not in the form yet

    page.get_by_role("group", name="Whole tiers").get_by_label("Buying intent").check()
    page.get_by_role("button", name="Save form").click()
    expect(page.get_by_text('Form "blog" saved.')).to_be_visible()
    expect(
        preview.get_by_role("textbox", name=LABEL)
    ).to_be_visible()  # asked first: its tier ranks 0
    assert export_site_config("acme")["forms"][0]["tiers"] == ["intent", "basics"]
    picture(page, ARTIFACTS / "console-form.png")

    preview.get_by_role("textbox", name=LABEL).fill("CTO")
    preview.get_by_label("Work email").fill("not-an-email")
    preview.get_by_role("button", name="Subscribe").click()
    expect(preview.get_by_label("Work email")).to_have_attribute("aria-invalid", "true")
    preview.get_by_label("Work email").fill("kim@zorblax.example")
    preview.get_by_role("button", name="Subscribe").click()
    expect(preview.get_by_role("status")).to_have_text("Thanks!")

    for model in (Contact, Visitor):  # a preview stores nothing
        assert db.session.scalar(select(func.count()).select_from(model)) == 0
    assert errors == []
    page.context.close()
