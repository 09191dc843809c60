"""The widget in the form's language and the site's theme, in real Chromium (issue 22.6, 22.7):
German, Japanese and right-to-left Arabic interface text from the ask, a config's replacement,
numbers written by Intl, the server's messages in the language; the button's text colour, dark
controls on a dark card, 16 px inputs, a 44 px Skip after its field, autocomplete tokens."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Page, Route, expect

from app.domain.translations import TRANSLATIONS
from tests.e2e.pages import load
from tests.e2e.servers import HostSite, LiveServer
from tests.factories import acme_config, make_site

CARD = "trickle-form div[lang]"  # the widget's card carries the form's language
COUNTRY = {
    "key": "country",
    "label": "Country",
    "kind": "select",
    "tier": "basics",
    "options": ["Austria", "Belgium", "France", "Germany", "Italy", "Spain"],  # 6: a select
}


def open_form(
    page: Page,
    trickle: LiveServer,
    host: HostSite,
    site: dict[str, Any] | None = None,
    form: dict[str, Any] | None = None,
    style: str = "",
) -> None:
    """Import Acme (allowed on the host, firmographics open to all) with ``site`` and ``form``
    settings added, open a page with its blog form in a mount styled ``style``, and wait."""
    config = acme_config()
    config["tiers"][1]["min_score"] = 0
    config["fields"].append(COUNTRY)
    config["site"].update({"origins": [host.origin], **(site or {})})
    config["forms"] = [{"key": "blog", "title": "Blog", "stage": "early", **(form or {})}]
    make_site(config)
    host.pages["/"] = f"""<!doctype html><html><head><title>Host</title></head><body>
<div data-trickle-form="blog" style="{style}"></div>
<script async src="{trickle.url}/widget.js" data-site="acme" data-stage="early"></script>
</body></html>"""
    load(page, host.origin + "/")


def test_a_german_form_speaks_german_from_the_button_to_the_servers_messages(page, trickle, host):
    open_form(page, trickle, host, {"language": "de"})
    expect(page.locator(CARD)).to_have_attribute("lang", "de")
    expect(page.locator(CARD)).to_have_attribute("dir", "ltr")
    submit = page.get_by_role("button", name="Absenden")
    expect(page.get_by_role("button", name="First name überspringen")).to_have_text("Überspringen")
    submit.click()  # nothing typed: the required email, checked in the browser
    email = page.get_by_role("textbox", name="Work email", exact=True)
    expect(page.locator("trickle-form .question").first).to_contain_text(
        "Bitte beantworten Sie diese Frage."
    )
    email.fill("ann@zorblax.example")
    page.get_by_label("First name", exact=True).fill("x" * 81)
    submit.click()
    expect(page.locator("trickle-form .question").nth(1)).to_contain_text("Höchstens 80 Zeichen.")

    # The server's own messages come in German too: this submit loses its email on the way.
    held: list[Route] = []
    page.route("**/forms/blog/submit", lambda route: held.append(route))
    page.get_by_label("First name", exact=True).fill("Ann")
    submit.click()
    expect(page.get_by_role("button", name="Wird gesendet\u2026")).to_be_disabled()
    body = held[0].request.post_data_json
    body["answers"]["email"] = ""
    held[0].continue_(post_data=json.dumps(body))
    page.unroute("**/forms/blog/submit")
    expect(page.locator("trickle-form .question").first).to_contain_text(
        "Bitte beantworten Sie diese Frage."
    )
    expect(email).to_be_focused()
    expect(page.get_by_role("button", name="Absenden")).to_be_enabled()
    assert page.page_errors == []


def test_a_japanese_form_writes_numbers_as_japanese_does(page, trickle, host):
    open_form(page, trickle, host, form={"fields": ["email", "employees"], "language": "ja"})
    expect(page.locator(CARD)).to_have_attribute("lang", "ja")
    page.get_by_label("Work email", exact=True).fill("ann@zorblax.example")
    page.get_by_label("Employees", exact=True).fill("1e16")
    page.get_by_role("button", name="送信").click()
    expect(page.locator("trickle-form .question").nth(1)).to_contain_text(
        "-1,000,000,000,000,000から1,000,000,000,000,000までの数値を入力してください。"
    )
    page.get_by_label("Employees", exact=True).fill("12")
    page.get_by_role("button", name="送信").click()
    expect(page.get_by_role("status")).to_have_text("ありがとうございました。")
    assert page.page_errors == []


def test_an_arabic_form_runs_right_to_left(page, trickle, host):
    open_form(page, trickle, host, {"language": "ar"})
    card = page.locator(CARD)
    expect(card).to_have_attribute("dir", "rtl")
    assert card.evaluate("(card) => getComputedStyle(card).direction") == "rtl"
    skip = page.get_by_role("button", name="تخطي: First name")
    expect(skip).to_have_text("تخطي")
    expect(page.get_by_role("button", name="إرسال")).to_be_visible()
    # Skip sits at the end of its line, which is the left in Arabic.
    field = page.get_by_label("First name", exact=True).bounding_box()
    assert skip.bounding_box()["x"] == field["x"]
    page.get_by_role("button", name="إرسال").click()
    expect(page.locator("trickle-form .question").first).to_contain_text("هذا السؤال مطلوب.")
    assert page.page_errors == []


def test_a_config_replaces_one_string(page, trickle, host):
    open_form(page, trickle, host, {"strings": {"skip": "Not now"}})
    expect(page.get_by_role("button", name="Skip First name")).to_have_text("Not now")
    expect(page.get_by_role("button", name="Submit")).to_be_visible()
    assert page.page_errors == []


def _style(page: Page, selector: str, name: str) -> str:
    return page.locator(selector).first.evaluate(f"(e) => getComputedStyle(e)['{name}']")


def test_inputs_skip_and_tab_order_are_made_for_fingers_and_keyboards(page, trickle, host):
    open_form(page, trickle, host, form={"fields": ["email", "first_name", "country"]})
    assert _style(page, "trickle-form input[type=email]", "fontSize") == "16px"
    assert _style(page, "trickle-form select", "fontSize") == "16px"
    skip = page.get_by_role("button", name="Skip First name")
    box = skip.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    page.get_by_label("Work email", exact=True).focus()
    page.keyboard.press("Tab")
    expect(page.get_by_label("First name", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()  # after its field
    page.keyboard.press("Tab")
    expect(page.get_by_label("Country", exact=True)).to_be_focused()
    assert page.page_errors == []


def test_autocomplete_tokens_come_from_the_fields_keys_and_kinds(page, trickle, host):
    fields = ["email", "first_name", "company", "zip", "job_title", "country", "employees"]
    open_form(page, trickle, host, form={"fields": fields, "max_questions": 7})
    tokens = page.locator("trickle-form .question :is(input, select)").evaluate_all(
        "(inputs) => inputs.map((i) => i.getAttribute('autocomplete'))"
    )
    assert tokens == [
        "email",
        "given-name",
        "organization",
        "postal-code",
        "country",
        "organization-title",
        None,  # employees: a number with no token of its own
    ]
    assert page.page_errors == []


def _button_colour(page: Page, colour: str) -> None:
    """Wait until the submit button's text is ``colour`` (a change of colour is a transition)."""
    page.wait_for_function(
        "(colour) => getComputedStyle(document.querySelector('trickle-form').shadowRoot"
        ".querySelector('.submit')).color == colour",
        arg=colour,
    )


def test_the_buttons_text_colour_is_a_variable_or_else_readable_on_the_accent(page, trickle, host):
    open_form(page, trickle, host)
    _button_colour(page, "lch(100 0 0)")  # white on the default, dark accent
    mount = page.locator("[data-trickle-form]")
    mount.evaluate("(m) => m.style.setProperty('--trickle-accent', '#ffd43b')")  # light yellow
    _button_colour(page, "lch(0 0 0)")  # black
    mount.evaluate("(m) => m.style.setProperty('--trickle-button-text', '#1a1a2e')")
    _button_colour(page, "rgb(26, 26, 46)")
    assert page.page_errors == []


def test_controls_follow_a_dark_card(page, trickle, host):
    dark = "--trickle-bg:#1f2430;--trickle-text:#f1f3f5"
    open_form(page, trickle, host, form={"fields": ["email", "country"]}, style=dark)
    assert _style(page, "trickle-form input[type=email]", "colorScheme") == "dark"
    assert _style(page, "trickle-form select", "colorScheme") == "dark"
    assert _style(page, "trickle-form input[type=email]", "backgroundColor") == "rgb(31, 36, 48)"
    assert page.page_errors == []


def test_every_language_reaches_the_widget(page, trickle, host):
    """Hebrew, the other right-to-left language, end to end: its submit label and direction."""
    open_form(page, trickle, host, {"language": "he"})
    expect(page.locator(CARD)).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("button", name=TRANSLATIONS["he"]["submit"])).to_be_visible()
    assert page.page_errors == []
