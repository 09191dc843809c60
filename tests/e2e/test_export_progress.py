"""Exports in real Chromium: the page is busy while a download runs, counts its rows, saves
the file when complete; the date pickers refuse a day after today."""

from __future__ import annotations

from playwright.sync_api import expect

from app.services.accounts import create_user
from tests.e2e.pages import sign_in
from tests.factories import PASSWORD, Widget, make_site


def test_a_download_shows_its_progress_and_saves_the_file(browser, trickle, app, client):
    make_site()
    for n in range(3):
        visitor = Widget(client)
        visitor.ask()
        visitor.submit({"email": f"v{n}@zorblax.example", "first_name": 'Vi, "the 1st"\nline'})
    create_user("ann@acme.example", "analyst", PASSWORD)
    page = browser.new_context(accept_downloads=True).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, trickle.url, "ann@acme.example")
    page.goto(trickle.url + "/admin/sites/acme/export")
    contacts = page.locator("form[data-export]").first
    status = contacts.get_by_role("status")

    held = []
    page.route("**/export/contacts?*", lambda route: held.append(route))
    contacts.get_by_role("button", name="Download contacts").click()
    page.wait_for_function("() => document.querySelector('form[data-export]').ariaBusy == 'true'")
    expect(contacts.get_by_role("button", name="Exporting…")).to_be_disabled()
    expect(status).to_have_text("Exporting… 0 rows so far.")
    expect(contacts.get_by_role("button", name="Stop")).to_be_visible()
    assert len(held) == 1
    with page.expect_download() as download:
        held[0].continue_()
    assert download.value.suggested_filename == "acme-contacts-20260302-090000.csv"
    # Three rows, whose quoted values hold commas, quotes and a line break.
    expect(status).to_have_text("Done: 3 rows, 1 KB, saved as acme-contacts-20260302-090000.csv.")
    expect(contacts.get_by_role("button", name="Download contacts")).to_be_enabled()
    expect(contacts.get_by_role("button", name="Stop")).to_be_hidden()
    assert contacts.get_attribute("aria-busy") == "false"

    since = page.get_by_label("Updated since")
    since.fill("2026-03-03")  # after today (the test clock's 2026-03-02): the picker refuses it
    assert since.evaluate("(input) => input.validity.rangeOverflow") is True
    assert errors == []
    page.context.close()
