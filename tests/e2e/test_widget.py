"""The widget in real Chromium, on host pages of another origin, against a live Trickle."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import ConsentRecord
from tests.e2e.pages import configure, load, picture
from tests.e2e.servers import ARTIFACTS, HostSite, LiveServer
from tests.factories import acme_config, make_site


def host_page(
    trickle: LiveServer, form: str = "blog", stage: str = "early", extra: str = ""
) -> str:
    return f"""<!doctype html><html><head><title>Host</title></head><body>
<h1 id="headline">Acme blog</h1>
<div data-trickle-form="{form}"></div>
<script async src="{trickle.url}/widget.js" data-site="acme" data-form="{form}"
        data-stage="{stage}"></script>
{extra}
<p id="after">The host page goes on.</p></body></html>"""


@pytest.fixture
def app_settings() -> dict[str, object]:
    return {"DEMO": True}  # the demo page's screenshot (README) needs /demo/


@pytest.fixture
def acme(app, host: HostSite):
    configure(host)


def labels(page: Page) -> list[str]:
    """The questions shown, by label, a required one marked with a trailing " *"."""
    return page.evaluate(
        """() => [...document.querySelector('trickle-form').shadowRoot.querySelectorAll('.question')]
          .filter((q) => !q.hidden)
          .map((q) => {
            const label = q.querySelector('.question-head > :first-child');
            const required = q.querySelector('[aria-required="true"], [required]') !== null;
            const text = label.textContent.replace(/\\s*\\*\\s*$/, '').trim();
            return required ? text + ' *' : text;
          })"""
    )


def test_a_visitors_journey_across_visits(browser, trickle, host, acme):
    host.pages["/blog"] = host_page(trickle)
    host.pages["/pricing"] = host_page(trickle, stage="late")
    page = browser.new_page()
    load(page, host.origin + "/blog")
    assert labels(page) == ["Work email *", "First name", "Company"]
    page.get_by_role("textbox", name="Work email", exact=True).fill("ann@zorblax.example")
    page.get_by_label("First name", exact=True).fill("Ann")
    page.get_by_label("Company", exact=True).fill("Zorblax")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("status")).to_have_text("Thanks!")

    load(page, host.origin + "/blog")  # the next visit asks the rest of the basics
    assert labels(page) == ["ZIP code"]
    page.get_by_label("ZIP code", exact=True).fill("10115")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("status")).to_have_text("Thanks!")

    load(page, host.origin + "/blog")  # early-stage visits unlock firmographics, not more
    assert labels(page) == ["Company size", "Industry", "Job title"]
    page.get_by_label("More than 200", exact=True).check()
    page.get_by_label("Software", exact=True).check()
    page.get_by_label("Job title", exact=True).fill("CTO")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("status")).to_have_text("Thanks!")
    load(page, host.origin + "/blog")
    assert labels(page) == ["Employees"]  # score 10, but no late-stage event yet

    load(page, host.origin + "/pricing")
    load(page, host.origin + "/pricing")  # the late-stage view counted: qualification opens
    assert labels(page) == [
        "Employees",
        "Do you sign off on purchases?",
        "When do you plan to buy?",
    ]

    other = browser.new_context().new_page()  # another browser that only types her email
    load(other, host.origin + "/blog")
    assert labels(other) == ["Work email *", "First name", "Company"]
    other.get_by_role("textbox", name="Work email", exact=True).fill("ANN@zorblax.example")
    other.get_by_role("button", name="Subscribe").click()
    expect(other.get_by_role("status")).to_have_text("Thanks!")
    load(other, host.origin + "/pricing")
    # Claimed, not verified: asked as if the profile held only its own answers (a verified
    # second device is in test_identify.py).
    assert labels(other) == ["First name", "Company", "ZIP code"]
    other.context.close()
    page.close()


def test_keyboard_only_completion(page, trickle, host, acme):
    host.pages["/"] = host_page(trickle)
    load(page, host.origin + "/")
    email = page.get_by_role("textbox", name="Work email", exact=True)
    expect(email).not_to_be_focused()  # the widget never steals focus on load
    page.keyboard.press("Tab")
    expect(email).to_be_focused()
    page.keyboard.press("Enter")  # submit empty: the error is announced and focused
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_be_focused()
    described = email.get_attribute("aria-describedby")
    expect(page.locator(f"trickle-form #{described}")).to_have_text("This question is required.")
    page.keyboard.type("not-an-email")
    page.keyboard.press("Enter")
    expect(page.locator(f"trickle-form #{described}")).to_have_text("Enter a valid email address.")
    page.keyboard.press("Control+A")
    page.keyboard.type("kim@zorblax.example")
    page.keyboard.press("Tab")
    expect(page.get_by_label("First name", exact=True)).to_be_focused()
    page.keyboard.press("Tab")  # the optional first name's Skip button, after its field
    expect(page.get_by_role("button", name="Skip First name")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Company", exact=True)).to_be_focused()
    page.keyboard.type("Zorblax")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Thanks!")
    expect(page.get_by_role("status")).to_be_focused()
    assert page.page_errors == []


XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def test_labels_and_options_holding_markup_render_as_text(page, trickle, host, app):
    config = acme_config()
    config["site"] = {**config["site"], "origins": [host.origin]}
    config["fields"][1] = {**config["fields"][1], "label": XSS, "help": XSS}
    config["forms"][0] = {
        **config["forms"][0],
        "title": XSS,
        "fields": ["email", "first_name", "company_size"],
    }
    config["fields"][4] = {
        **config["fields"][4],
        "tier": "basics",
        "options": ["1-10", {"value": "x", "label": XSS}],
    }
    make_site(config)
    host.pages["/"] = host_page(trickle)
    load(page, host.origin + "/")
    expect(page.locator("trickle-form h2")).to_have_text(XSS)
    expect(page.get_by_text(XSS, exact=True)).to_have_count(4)  # title, label, help, option
    assert page.evaluate("window.__xss") is None
    assert (
        page.evaluate(
            "document.querySelector('trickle-form').shadowRoot.querySelectorAll('img, script').length"
        )
        == 0
    )
    assert page.page_errors == []


HOSTILE = """<style>
* { all: unset !important; }
div, p, button, form, input, label { color: red !important; font-size: 40px !important;
  background: yellow !important; display: inline !important; border: 9px solid lime !important; }
</style>"""

PROBE = """<button id="hb">Host button</button>"""


def widget_styles(page: Page) -> dict:
    return page.evaluate(
        """() => {
      const root = document.querySelector('trickle-form').shadowRoot;
      const pick = (el, ...keys) => Object.fromEntries(keys.map(k => [k, getComputedStyle(el)[k]]));
      return {
        host: pick(document.querySelector('trickle-form'), 'display'),
        button: pick(root.querySelector('button.submit'), 'color', 'backgroundColor', 'fontSize', 'display'),
        input: pick(root.querySelector('input'), 'fontSize', 'borderTopWidth', 'display'),
      };
    }"""
    )


def test_a_hostile_stylesheet_does_not_change_the_widget_and_nothing_leaks_out(
    browser, trickle, host, acme
):
    host.pages["/plain"] = host_page(trickle, extra=PROBE)
    host.pages["/hostile"] = HOSTILE + host_page(trickle)
    host.pages["/bare"] = f"<!doctype html><html><body>{PROBE}</body></html>"
    plain = browser.new_page()
    load(plain, host.origin + "/plain")
    hostile = browser.new_page()
    load(hostile, host.origin + "/hostile")
    assert widget_styles(hostile) == widget_styles(plain)
    assert widget_styles(plain)["button"]["display"] == "inline-block"
    bare = browser.new_page()
    bare.goto(host.origin + "/bare")
    probe = "() => { const s = getComputedStyle(document.getElementById('hb')); return [s.font, s.color, s.padding, s.backgroundColor]; }"
    assert plain.evaluate(probe) == bare.evaluate(probe)
    for p in (plain, hostile, bare):
        p.close()


def test_the_script_included_twice_makes_one_widget_per_mount(page, trickle, host, acme):
    tag = f'<script async src="{trickle.url}/widget.js" data-site="acme" data-form="blog" data-stage="early"></script>'
    host.pages["/"] = host_page(trickle, extra=tag)
    asks = []
    page.on("request", lambda r: asks.append(r.url) if r.url.endswith("/ask") else None)
    load(page, host.origin + "/")
    page.wait_for_function("window.Trickle && window.Trickle.version")
    expect(page.locator("trickle-form")).to_have_count(1)
    expect(page.get_by_role("textbox", name="Work email", exact=True)).to_have_count(1)
    assert len(asks) == 1
    assert page.page_errors == []


def test_the_api_down_shows_a_short_message_and_leaves_the_host_alone(page, trickle, host, acme):
    down = host_page(trickle).replace(
        'data-site="acme"', 'data-site="acme" data-api="http://127.0.0.1:9"'
    )
    host.pages["/"] = down + "<script>document.getElementById('after').dataset.ran = 'yes'</script>"
    page.goto(host.origin + "/")
    expect(page.locator("trickle-form")).to_have_text("This form is unavailable right now.")
    expect(page.locator("#after")).to_have_attribute("data-ran", "yes")
    expect(page.locator("#headline")).to_have_text("Acme blog")
    assert page.page_errors == []


BLOCK_STORAGE = """Object.defineProperty(window, 'localStorage', {
  get() { throw new DOMException('The operation is insecure.', 'SecurityError'); }
});"""


def test_blocked_storage_still_records_the_page_view_and_asks(page, trickle, host, acme):
    page.add_init_script(BLOCK_STORAGE)
    host.pages["/"] = host_page(trickle)
    load(page, host.origin + "/")
    expect(page.get_by_role("textbox", name="Work email", exact=True)).to_be_visible()
    page.get_by_role("textbox", name="Work email", exact=True).fill("nostorage@zorblax.example")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("status")).to_have_text("Thanks!")
    assert page.page_errors == []


def test_host_events_carry_keys_never_values(page, trickle, host, acme):
    listen = """<script>
window.seen = [];
for (const name of ['trickle:ready', 'trickle:submitted', 'trickle:complete'])
  document.addEventListener(name, (e) => window.seen.push([name, e.detail]));
</script>"""
    host.pages["/"] = listen + host_page(trickle)
    load(page, host.origin + "/")
    page.get_by_role("textbox", name="Work email", exact=True).fill("ev@zorblax.example")
    page.get_by_label("First name", exact=True).fill("Eve")
    page.get_by_role("button", name="Skip Company").click()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("status")).to_have_text("Thanks!")
    seen = page.evaluate("window.seen")
    assert seen[0] == ["trickle:ready", {"form": "blog", "complete": False}]
    assert seen[1] == [
        "trickle:submitted",
        {"form": "blog", "keys": ["email", "first_name"], "skipped": ["company"]},
    ]
    assert "ev@zorblax.example" not in str(seen) and "Eve" not in str(seen)


def test_narrow_screens_fit_without_horizontal_scroll(browser, trickle, host, acme):
    host.pages["/"] = host_page(trickle)
    page = browser.new_page(viewport={"width": 320, "height": 640})
    load(page, host.origin + "/")
    expect(page.get_by_role("textbox", name="Work email", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.close()


def test_the_demo_page_screenshot(browser, trickle, app):
    from app.cli import DEMO_CONFIG
    from app.services.siteconfig import import_site_config, read_config_file

    import_site_config(read_config_file(str(DEMO_CONFIG)))
    page = browser.new_page(viewport={"width": 1100, "height": 760})
    with page.expect_response(lambda r: r.url.endswith("/ask")):
        page.goto(trickle.url + "/demo/")
    expect(page.get_by_role("textbox", name="Work email", exact=True)).to_be_visible()
    picture(page, ARTIFACTS / "widget-demo.png", full_page=False)
    assert re.match(r"Stay in the loop", page.locator("trickle-form h2").inner_text())
    page.close()


def test_a_ticked_consent_line_is_sent_and_recorded(browser, trickle, host, app):
    """The form's consent line is the last question: ticked, it reaches the server and is
    kept with the words shown."""
    consent = {"key": "news_ok", "label": "Email me news", "kind": "consent", "tier": "basics"}
    form = {**acme_config()["forms"][0], "max_questions": 2, "consent": {"field": "news_ok"}}
    configure(host, fields=[*acme_config()["fields"], consent], forms=[form])
    host.pages["/blog"] = host_page(trickle)
    page = browser.new_page()
    load(page, host.origin + "/blog")
    assert labels(page) == ["Work email *", "First name", "Email me news"]
    page.get_by_role("textbox", name="Work email", exact=True).fill("ann@zorblax.example")
    page.get_by_role("checkbox", name="Email me news", exact=True).check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("status")).to_have_text("Thanks!")
    try:  # as the server committed it: the test's session holds no transaction
        given = db.session.execute(select(ConsentRecord.granted, ConsentRecord.text)).all()
    finally:
        db.session.rollback()
    assert [tuple(row) for row in given] == [(True, "Email me news")]
