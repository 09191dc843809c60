"""Helpers the browser tests share: a host-allowed site, waiting for a widget's load, and the
pictures the docs show."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.servers import HostSite
from tests.factories import PASSWORD, acme_config, make_site


def configure(host: HostSite, fields: list | None = None, forms: list | None = None) -> None:
    """Import the acme site, allowed on the host's origin, with other fields or forms."""
    config = acme_config()
    config["site"] = {**config["site"], "origins": [host.origin]}
    if fields is not None:
        config["fields"] = fields
    if forms is not None:
        config["forms"] = forms
    make_site(config)


def is_ask(form: str) -> Callable[[Any], bool]:
    return lambda r: r.url.endswith(f"/forms/{form}/ask")


def is_event(kind: str) -> Callable[[Any], bool]:
    return lambda r: r.url.endswith("/events") and f'"kind":"{kind}"' in (r.request.post_data or "")


# Records every form the widget has rendered (its trickle:ready event), from the page's start.
_READY_LOG = """
if (!window.__trickleReady) {
  window.__trickleReady = [];
  document.addEventListener('trickle:ready', (e) => window.__trickleReady.push(e.detail.form));
}
"""


def load(page: Page, url: str, form: str = "blog") -> None:
    """Open ``url`` and wait until its page_view is stored, ``form`` has been asked, and the
    widget has rendered the answer (the response arriving is not yet the form on screen)."""
    page.add_init_script(_READY_LOG)
    with (
        page.expect_response(is_event("page_view")) as event,
        page.expect_response(is_ask(form)) as ask,
    ):
        page.goto(url)
    assert event.value.status == 202
    assert ask.value.status == 200
    page.wait_for_function("(form) => window.__trickleReady.includes(form)", arg=form)


def sign_in(page, url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(url + "/admin/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url + "/admin/")


def picture(page: Page, path: Path, full_page: bool = True) -> None:
    """Save what ``page`` shows to ``path`` (build/e2e/) when ``make screenshots`` asks for the
    docs' pictures (E2E_SCREENSHOTS=1, scripts/screenshots.py); an ordinary run skips the PNG
    encoding of full pages, which is a good part of a console test's browser time."""
    if os.environ.get("E2E_SCREENSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=full_page)
