"""The console in real Chromium: sign in, see the sites, copy an embed snippet."""

from __future__ import annotations

from playwright.sync_api import expect

from app.services.accounts import create_user
from tests.e2e.pages import picture, sign_in
from tests.e2e.servers import ARTIFACTS
from tests.factories import PASSWORD, make_site


def test_sign_in_and_see_the_sites(browser, trickle, app):
    make_site()
    create_user("mia@acme.example", "marketer", PASSWORD)
    context = browser.new_context(viewport={"width": 1200, "height": 720})
    page = context.new_page()
    page.goto(trickle.url + "/")
    expect(page).to_have_url(trickle.url + "/admin/login?next=%2Fadmin%2F")
    page.get_by_label("Email").fill("mia@acme.example")
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong email or password.")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(trickle.url + "/admin/")
    expect(page.get_by_role("heading", name="Acme Analytics acme")).to_be_visible()
    snippet = page.locator("#embed-acme-blog")
    expect(snippet).to_have_text(
        f'<script async src="{trickle.url}/widget.js" data-site="acme" data-form="blog" '
        'data-stage="early"></script>'
    )
    picture(page, ARTIFACTS / "console-home.png")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(trickle.url + "/admin/")
    expect(page).to_have_url(trickle.url + "/admin/login?next=%2Fadmin%2F")
    context.close()


def test_find_a_contact_read_its_provenance_and_explain_it(browser, trickle, app, client):
    from tests.factories import Widget

    make_site()
    create_user("ana@acme.example", "analyst", PASSWORD)
    visitor = Widget(client)
    visitor.ask()
    visitor.submit({"email": "kim@zorblax.example", "first_name": "Kim"}, skipped=["company"])
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    sign_in(page, trickle.url, "ana@acme.example")

    page.get_by_role("link", name="Contacts (1)").click()
    page.get_by_label("Search by email or contact id").fill("zorblax")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="kim@zorblax.example").click()
    expect(page.get_by_role("heading", name="kim@zorblax.example")).to_be_visible()
    values = page.locator("section", has=page.get_by_role("heading", name="Current values"))
    expect(values).to_contain_text("First name")
    expect(values).to_contain_text("Kim")
    expect(values).to_contain_text("blog")
    skipped = page.locator("section", has=page.get_by_role("heading", name="Skipped questions"))
    expect(skipped).to_contain_text("Company")
    picture(page, ARTIFACTS / "console-contact.png")

    page.get_by_role("link", name="Explain which questions this contact is asked").click()
    page.get_by_role("button", name="Explain").click()
    reasons = page.locator("table").last
    expect(reasons.locator("tr", has_text="First name")).to_contain_text("Already answered")
    expect(reasons.locator("tr", has_text="Company size")).to_contain_text(
        "Locked: needs a score of 5 (has 2)."
    )
    picture(page, ARTIFACTS / "console-explain.png")
    page.context.close()


def test_an_admin_reads_a_destination(browser, trickle, app):
    from tests.factories import acme_config

    config = acme_config()
    config["destinations"] = [
        {
            "key": "crm",
            "url": "https://crm.example/hooks",
            "events": ["contact.updated", "contact.stage_changed"],
            "mapping": {"company_size": "NumberOfEmployees"},
        }
    ]
    make_site(config)
    create_user("ada@acme.example", "admin", PASSWORD)
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    sign_in(page, trickle.url, "ada@acme.example")
    page.goto(trickle.url + "/admin/sites/acme/destinations")
    page.get_by_role("link", name="crm").click()

    expect(page.get_by_role("heading", name="Destination crm active")).to_be_visible()
    expect(page.get_by_text("https://crm.example/hooks")).to_be_visible()
    expect(page.get_by_text("company_size → NumberOfEmployees")).to_be_visible()
    picture(page, ARTIFACTS / "console-destination.png")
    page.context.close()
