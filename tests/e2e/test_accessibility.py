"""An axe-core audit in real Chromium (issue 22): every console page, the demo pages and the
widget on a light and a dark host page have no serious or critical violation.

axe-core is the npm package pinned in tests/e2e/axe/package.json (`make test` installs it),
injected into each page; it reads open shadow roots, so the widget's form is audited too.
Every GET page of the console is audited: the test walks the app's URL map, so a new page is
audited as soon as it exists (a page whose path it cannot fill fails the test, naming it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from app.services.accounts import create_user
from app.services.sales import request_whatif, run_next_whatif
from tests.e2e.pages import configure, load, sign_in
from tests.factories import PASSWORD
from tests.sales.support import engage, sales_config, sales_site, stricter

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
# Path parameters of the console's pages, filled from the data the test makes.
VALUES: dict[str, Any] = {
    "site": "acme",
    "contact_id": 1,
    "version": 1,
    "user_id": 1,
    "run_id": 1,
    "chart": None,  # a CSV download, not a page
}
KEYS = {
    "admin.field": "email",
    "admin.form": "blog",
    "admin.form_preview": "blog",
    "admin.tier": "basics",
}
DOWNLOADS = ("admin.download_config", "admin.export_download", "admin.switch_site")
RUN_AXE = """async (blocking) => {
  document.querySelectorAll('details').forEach((d) => { d.open = true; });  // folded text too
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter((v) => blocking.includes(v.impact))
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
}"""


@pytest.fixture(autouse=True)
def _axe_installed() -> None:
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed ({AXE}): `make test` runs npm ci for it")


def violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE, list(BLOCKING))


def console_paths(app) -> list[str]:
    """Every GET page of the console, its path filled; an unfillable one fails the test."""
    paths = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("admin.") or "GET" not in rule.methods:
            continue
        if rule.endpoint in DOWNLOADS or rule.rule.endswith(".csv"):
            continue
        values = dict(VALUES)
        if "key" in rule.arguments:
            values["key"] = KEYS.get(rule.endpoint, "crm")
        missing = [name for name in rule.arguments if name not in values]
        assert missing == [], f"the audit cannot fill {missing} of {rule.rule}"
        path = rule.build(values, append_unknown=False)[1]
        paths.append(path)
    return paths


def a_site_with_people(app, clock) -> None:
    """Acme with stages, sales outcomes, a destination, handed-off contacts, a pending
    proposal and its what-if: every console page has something to show."""
    config = sales_config()
    config["destinations"] = [
        {"key": "crm", "url": "https://crm.example/hook", "events": ["contact.updated"]}
    ]
    sales_site(clock(), config)
    engage(app.test_client(), "ada@corp.example", 3)
    engage(app.test_client(), "bo@corp.example", 0)
    create_user("ada@acme.example", "admin", PASSWORD)
    request_whatif("acme", stricter(15), 90, "ada@acme.example", clock())
    run_next_whatif(clock())


@pytest.fixture
def app_settings() -> dict[str, object]:
    return {"DEMO": True, "ALLOW_PRIVATE_TARGETS": True}  # the demo pages and inbox are on


def markup_only(app) -> None:
    if app.config["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("the pages' markup does not depend on the database: audited on SQLite")


def test_every_console_page_has_no_serious_violation(browser, trickle, app, clock):
    markup_only(app)
    a_site_with_people(app, clock)
    page = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True).new_page()
    page.goto(trickle.url + "/admin/login")
    found = {"/admin/login": violations(page)}
    sign_in(page, trickle.url, "ada@acme.example")

    for path in console_paths(app):
        response = page.goto(trickle.url + path)
        assert response.status == 200, f"{path}: {response.status}"
        found[path] = violations(page)

    assert {path: found for path, found in found.items() if found} == {}


def test_the_demo_pages_and_inbox(browser, trickle, app, runner):
    markup_only(app)
    result = runner.invoke(
        args=["demo", "--no-contacts", "--inbox-url", trickle.url + "/demo/inbox"]
    )
    assert result.exit_code == 0, result.output
    page = browser.new_context(bypass_csp=True).new_page()
    found = {}
    for path, form in (
        ("/demo/", "blog"),
        ("/demo/case-study", "case_study"),
        ("/demo/pricing", "pricing"),
    ):
        load(page, trickle.url + path, form)
        found[path] = violations(page)
    page.goto(trickle.url + "/demo/inbox")
    found["/demo/inbox"] = violations(page)

    assert {path: found for path, found in found.items() if found} == {}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_widget_on_a_light_and_a_dark_host_page(browser, trickle, host, page, scheme):
    configure(host)
    colours = {"light": ("#ffffff", "#1f2430"), "dark": ("#15171c", "#f1f3f5")}[scheme]
    host.pages["/blog"] = f"""<!doctype html><html lang="en"><head><title>Blog</title>
<meta name="color-scheme" content="{scheme}"></head>
<body style="background:{colours[0]};color:{colours[1]}"><main><h1>Blog</h1>
<div data-trickle-form="blog"></div>
<script async src="{trickle.url}/widget.js" data-site="acme" data-form="blog"
        data-stage="early"></script>
</main></body></html>"""
    page.emulate_media(color_scheme=scheme)
    load(page, host.origin + "/blog")

    assert violations(page) == []
