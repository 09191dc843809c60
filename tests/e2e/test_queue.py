"""The sales console in real Chromium: a rep signs in to the hand-off queue, reads a brief and
rejects a lead with a reason."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import SalesOutcome
from app.services.accounts import create_user
from tests.e2e.pages import picture
from tests.e2e.servers import ARTIFACTS
from tests.factories import PASSWORD, make_site
from tests.sales.support import add_contact, add_handoff, sales_config


def test_a_rep_reads_a_brief_and_rejects_a_lead(browser, trickle, app, clock):
    make_site(sales_config())
    now = clock()
    ada = add_contact("acme", "ada@corp.example")
    add_handoff(ada, now - timedelta(hours=50), now - timedelta(hours=2))
    bob = add_contact("acme", "bob@corp.example")
    add_handoff(bob, now - timedelta(hours=1), now + timedelta(hours=47))
    create_user("rep@acme.example", "sales", PASSWORD)
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()

    page.goto(trickle.url + "/admin/login")
    page.get_by_label("Email").fill("rep@acme.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(trickle.url + "/admin/sites/acme/queue")
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("ada@corp.example")
    expect(rows.first).to_contain_text("overdue by 2 h")
    picture(page, ARTIFACTS / "console-queue.png")

    page.get_by_role("link", name="ada@corp.example").click()
    expect(page.get_by_role("heading", name="ada@corp.example")).to_be_visible()
    expect(page.locator("#sla")).to_contain_text("overdue by 2 h")
    picture(page, ARTIFACTS / "console-brief.png")
    page.get_by_role("link", name="Back to the queue").click()
    expect(page).to_have_url(trickle.url + "/admin/sites/acme/queue")

    reject = page.locator("tr", has_text="ada@corp.example").locator("details", has_text="Reject…")
    reject.get_by_text("Reject…").click()
    reject.get_by_label("Reason").select_option("no_budget")
    reject.get_by_label("Note").fill("Revisit in Q3")
    reject.get_by_role("button", name="Reject").click()
    expect(page.get_by_text("Rejected ada@corp.example (no_budget).")).to_be_visible()

    db.session.expire_all()
    recorded = db.session.scalars(select(SalesOutcome)).all()
    assert [(o.contact_id, o.kind, o.reason, o.note, o.by) for o in recorded] == [
        (ada, "rejected", "no_budget", "Revisit in Q3", "rep@acme.example")
    ]
    page.context.close()
