"""Claimed and verified browsers in real Chromium (docs/widget.md, "Identifying visitors"): a
second device proven by an identity hash, a signed link or Trickle.identify sees the person's
whole profile; anything that does not prove leaves it a stranger, and the form still works."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.domain.identity import identity_hash, mint_link_token
from app.extensions import db
from app.models import EngagementEvent
from app.services.people import mint_links, new_identity_secret
from app.services.siteconfig import site_snapshot
from tests.e2e.pages import configure, is_ask, load
from tests.e2e.servers import HostSite, LiveServer
from tests.factories import Widget

EMAIL = "ann@zorblax.example"
STRANGER = ["Work email", "First name", "Company"]  # what a new browser is asked
ANN_LEFT = ["ZIP code"]  # what Ann never answered (the first device gave the rest)
QUESTIONS = "trickle-form .question .question-head > :first-child"  # each question's label

QUEUE_SNIPPET = """<script>
window.Trickle=window.Trickle||function(){(Trickle.q=Trickle.q||[]).push(arguments)};
Trickle.identify=Trickle.identify||function(e,h,o){return new Promise(function(r){
  Trickle('identify',e,h,Object.assign({},o,{done:r}))})};
</script>"""


def host_page(trickle: LiveServer, attributes: str = "", before: str = "") -> str:
    return f"""<!doctype html><html><head><title>Host</title></head><body>
{before}
<div data-trickle-form="blog"></div>
<script async src="{trickle.url}/widget.js" data-site="acme" data-form="blog"
        data-stage="early" {attributes}></script>
</body></html>"""


@pytest.fixture
def secret(app, host: HostSite, clock) -> str:
    """The acme site, allowed on the host, with its identity secret."""
    configure(host)
    return new_identity_secret("acme", None, clock.now)


@pytest.fixture
def answered(client, trickle: LiveServer, host: HostSite, secret: str) -> None:
    """Ann answered the first three questions on her first device (through the API: the
    first device is not what these tests are about; tests/e2e/test_widget.py drives that)."""
    host.pages["/blog"] = host_page(trickle)
    first_device = Widget(client)
    assert first_device.ask() == ["email", "first_name", "company"]
    answers = {"email": EMAIL, "first_name": "Ann", "company": "Zorblax"}
    assert first_device.submit(answers).status_code == 200


@pytest.fixture
def device(browser: Browser) -> Iterator[Page]:
    """Another browser (a second device), with what it sent to the API (each request by its
    last path segment: identify, ask, events…), its console warnings and its page errors."""
    context = browser.new_context()
    page = context.new_page()
    sent: list[str] = []
    warnings: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: "/api/" in r.url and sent.append(r.url.rsplit("/", 1)[1]))
    page.on("console", lambda m: m.type == "warning" and warnings.append(m.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.sent, page.warnings, page.page_errors = sent, warnings, errors  # type: ignore[attr-defined]
    yield page
    context.close()


# ---- identity hash in the script tag ----


def test_a_second_device_with_the_identity_hash_sees_the_whole_profile(
    device, trickle, host, secret, answered
):
    proof = (
        f'data-email=" Ann@Zorblax.example " data-identity-hash="{identity_hash(secret, EMAIL)}"'
    )
    host.pages["/account"] = host_page(trickle, proof)
    load(device, host.origin + "/account")
    expect(device.locator(QUESTIONS)).to_have_text(ANN_LEFT)
    assert device.sent[:2] == ["identify", "ask"]  # proven before the first ask
    stored = device.evaluate("localStorage.getItem('trickle:identified:acme')")
    assert stored == identity_hash(secret, EMAIL)

    device.sent.clear()
    load(device, host.origin + "/account")  # the same pair again: not sent again
    # Still Ann (firmographics may follow, as this view may already count towards her score).
    expect(device.locator(QUESTIONS).first).to_have_text("ZIP code")
    assert "identify" not in device.sent
    assert device.warnings == device.page_errors == []


def test_a_wrong_identity_hash_leaves_the_second_device_a_stranger(
    device, trickle, host, secret, answered
):
    proof = f'data-email="{EMAIL}" data-identity-hash="{identity_hash("not the secret", EMAIL)}"'
    host.pages["/account"] = host_page(trickle, proof)
    with device.expect_response(lambda r: r.url.endswith("/identify")) as identify:
        load(device, host.origin + "/account")
    assert identify.value.json()["verified"] is False
    expect(device.locator(QUESTIONS)).to_have_text(STRANGER)
    assert device.warnings == device.page_errors == []


@pytest.mark.parametrize("failure", ["network", "422"])
def test_an_identify_failure_warns_and_the_form_still_shows(
    device, trickle, host, secret, answered, failure
):
    hash_ = identity_hash(secret, EMAIL)
    email = EMAIL if failure == "network" else "x"  # too short: the API answers 422
    host.pages["/account"] = host_page(
        trickle, f'data-email="{email}" data-identity-hash="{hash_}"'
    )
    if failure == "network":
        device.route(f"{trickle.url}/api/v1/sites/acme/identify", lambda route: route.abort())
    load(device, host.origin + "/account")
    expect(device.locator(QUESTIONS)).to_have_text(STRANGER)
    assert len(device.warnings) == 1
    assert device.warnings[0].startswith("Trickle: identify failed")
    assert device.page_errors == []
    assert device.evaluate("localStorage.getItem('trickle:identified:acme')") is None


# ---- signed links ----


def page_view_urls() -> list[str]:
    """The pages whose views were stored, as the server committed them."""
    query = select(EngagementEvent.url).filter_by(kind="page_view").order_by(EngagementEvent.id)
    try:
        return list(db.session.scalars(query))
    finally:
        db.session.rollback()


def test_a_signed_link_verifies_and_leaves_the_address_bar(device, trickle, host, clock, answered):
    token = mint_links("acme", [EMAIL], clock.now)[0].token
    with device.expect_request(is_ask("blog")) as ask:
        load(device, f"{host.origin}/blog?utm=x&trickle={token}#top")
    expect(device).to_have_url(f"{host.origin}/blog?utm=x#top")
    expect(device.locator(QUESTIONS)).to_have_text(ANN_LEFT)
    assert device.sent[:2] == ["identify", "ask"]
    assert ask.value.post_data_json["page"]["url"] == f"{host.origin}/blog?utm=x#top"
    assert page_view_urls() == [f"{host.origin}/blog?utm=x#top"]  # never with the token
    assert device.warnings == device.page_errors == []


@pytest.mark.parametrize("link", ["expired", "forged"])
def test_an_expired_or_forged_link_leaves_a_stranger_and_the_address_bar(
    device, trickle, host, clock, answered, link
):
    token = mint_links("acme", [EMAIL], clock.now, days=1)[0].token
    if link == "expired":
        clock.advance(days=1, seconds=1)
    else:  # the recipe followed with a guessed secret
        expires = int(clock.now.timestamp()) + 86400
        token = mint_link_token(site_snapshot("acme").link_key, "tis_guessed", EMAIL, expires)
    with device.expect_response(lambda r: r.url.endswith("/identify")) as identify:
        load(device, f"{host.origin}/blog?trickle={token}&utm=x#top")
    assert identify.value.json()["verified"] is False
    expect(device).to_have_url(f"{host.origin}/blog?utm=x#top")
    expect(device.locator(QUESTIONS)).to_have_text(STRANGER)
    assert device.warnings == device.page_errors == []


# ---- Trickle.identify ----


def test_trickle_identify_from_the_page_verifies_and_asks_again(
    device, trickle, host, secret, answered
):
    load(device, host.origin + "/blog")
    expect(device.locator(QUESTIONS)).to_have_text(STRANGER)
    wrong = device.evaluate("([e, h]) => Trickle.identify(e, h)", [EMAIL, "0" * 64])
    assert wrong == {"verified": False}
    expect(device.locator(QUESTIONS)).to_have_text(STRANGER)

    with device.expect_response(is_ask("blog")):
        verified = device.evaluate(
            "([e, h]) => Trickle.identify(e, h)", [EMAIL, identity_hash(secret, EMAIL)]
        )
    assert verified == {"verified": True}
    expect(device.locator(QUESTIONS)).to_have_text(ANN_LEFT)  # the form on screen was asked again
    assert device.sent[-2:] == ["identify", "ask"]
    assert device.warnings == device.page_errors == []


def test_trickle_identify_queued_before_load_goes_before_the_first_ask(
    device, trickle, host, secret, answered
):
    call = f"""<script>window.proof = Trickle.identify({EMAIL!r},
      {identity_hash(secret, EMAIL)!r});</script>"""
    host.pages["/account"] = host_page(trickle, before=QUEUE_SNIPPET + call)
    load(device, host.origin + "/account")
    expect(device.locator(QUESTIONS)).to_have_text(ANN_LEFT)
    assert device.sent[:2] == ["identify", "ask"]
    assert device.evaluate("window.proof") == {"verified": True}
    assert device.warnings == device.page_errors == []
