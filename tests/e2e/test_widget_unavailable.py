"""A form that cannot be shown says so in its language, in real Chromium (issue 22.6): the
server's refusal or failure names the form's language and unavailable text; when the network
itself fails, the widget uses what the last ask of that form said; with neither, English."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, Route, expect
from sqlalchemy.exc import OperationalError

from app.api import routes
from app.services.siteconfig import site_snapshot
from tests.e2e.pages import is_ask, load
from tests.e2e.servers import HostSite, LiveServer
from tests.factories import acme_config, make_site

STATUS = "trickle-form p[role=status]"
CARD = "trickle-form div[lang]"
GERMAN = "Dieses Formular ist gerade nicht verfügbar."
FRENCH = "Ce formulaire est indisponible pour le moment."


def embed(page: Page, trickle: LiveServer, host: HostSite, **site: Any) -> None:
    """Acme with ``site`` settings (allowed on the host unless ``origins`` says otherwise) and a
    page on the host embedding its blog form."""
    config = acme_config()
    config["site"].update({"origins": [host.origin], **site})
    make_site(config)
    host.pages["/"] = f"""<!doctype html><html><head><title>Host</title></head><body>
<div data-trickle-form="blog"></div>
<script async src="{trickle.url}/widget.js" data-site="acme" data-stage="early"></script>
</body></html>"""


def open_failing(page: Page, url: str, status: int) -> None:
    with page.expect_response(is_ask("blog")) as ask:
        page.goto(url)
    assert ask.value.status == status


def test_a_refused_origin_reads_the_refusal_in_hebrew_right_to_left(page, trickle, host):
    embed(page, trickle, host, origins=["https://www.acme.example"], language="he")
    open_failing(page, host.origin + "/", 403)
    expect(page.locator(STATUS)).to_have_text("הטופס אינו זמין כרגע.")
    expect(page.locator(CARD)).to_have_attribute("dir", "rtl")
    expect(page.locator(CARD)).to_have_attribute("lang", "he")
    assert page.page_errors == []


def test_a_server_failing_with_503_answers_in_german(page, trickle, host, monkeypatch):
    embed(page, trickle, host, language="de", strings={"unavailable": "Gerade geschlossen."})

    def failing(site_key: str, *args: object) -> None:
        site_snapshot(site_key)  # the config was read; then the database goes away
        raise OperationalError("SELECT", {}, ConnectionError("server closed the connection"))

    monkeypatch.setattr(routes, "ask_questions", failing)
    open_failing(page, host.origin + "/", 503)
    expect(page.locator(STATUS)).to_have_text("Gerade geschlossen.")  # the site's own words
    expect(page.locator(CARD)).to_have_attribute("lang", "de")
    assert page.page_errors == []


def test_the_network_failing_after_one_german_ask_still_speaks_german(page, trickle, host):
    embed(page, trickle, host, language="de")
    load(page, host.origin + "/")
    expect(page.get_by_role("button", name="First name überspringen")).to_be_visible()
    page.route("**/forms/blog/ask", lambda route: route.abort("internetdisconnected"))
    page.reload()
    expect(page.locator(STATUS)).to_have_text(GERMAN)
    expect(page.locator(CARD)).to_have_attribute("lang", "de")
    assert page.page_errors == []


def test_a_server_error_overrides_what_the_last_ask_said(page, trickle, host):
    """A failure the server names replaces the kept form: a page answered in German, then the
    site turned French and a proxy's HTML 502 before the app: French, from the refusal kept."""
    embed(page, trickle, host, language="de")
    load(page, host.origin + "/")
    embed(page, trickle, host, language="fr", origins=["https://www.acme.example"])
    open_failing(page, host.origin + "/", 403)
    expect(page.locator(STATUS)).to_have_text(FRENCH)

    def bad_gateway(route: Route) -> None:
        route.fulfill(status=502, body="<html>Bad gateway</html>", content_type="text/html")

    page.route("**/forms/blog/ask", bad_gateway)
    page.reload()
    expect(page.locator(STATUS)).to_have_text(FRENCH)
    expect(page.locator(CARD)).to_have_attribute("lang", "fr")
    assert page.page_errors == []


def test_with_nothing_said_before_the_network_failing_is_told_in_english(page, trickle, host):
    embed(page, trickle, host, language="de")
    page.route("**/forms/blog/ask", lambda route: route.abort("internetdisconnected"))
    page.goto(host.origin + "/")
    expect(page.locator(STATUS)).to_have_text("This form is unavailable right now.")
    expect(page.locator(CARD)).to_have_attribute("lang", "")
    assert page.page_errors == []


def test_a_kept_form_that_is_no_longer_json_is_told_in_english(page, trickle, host):
    """The kept form's key rewritten by another script of the page: still a message."""
    embed(page, trickle, host, language="de")
    load(page, host.origin + "/")
    page.evaluate("localStorage.setItem('trickle:acme/forms/blog/ask', '{not json')")
    page.route("**/forms/blog/ask", lambda route: route.abort("internetdisconnected"))
    page.reload()
    expect(page.locator(STATUS)).to_have_text("This form is unavailable right now.")
    assert page.page_errors == []
