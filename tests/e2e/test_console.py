"""The console in real Chromium: sign in, see the sites, copy an embed snippet."""

from __future__ import annotations

from playwright.sync_api import expect

from app.services.users import create_user
from tests.e2e.conftest import ARTIFACTS
from tests.factories import make_site

PASSWORD = "correct horse battery"


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
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-home.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(trickle.url + "/admin/")
    expect(page).to_have_url(trickle.url + "/admin/login?next=%2Fadmin%2F")
    context.close()
