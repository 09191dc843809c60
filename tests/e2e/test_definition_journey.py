"""The definition both teams sign, in real Chromium (issue 21): a marketer proposes a stricter MQL
rule, reads its what-if, a sales user approves it, the worker re-qualifies the site's contacts
and the funnel shows the new rule at work."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from app.services.accounts import create_user
from app.services.people import requalify_due_sites
from app.services.sales import run_next_whatif
from app.services.siteconfig import dump_config
from tests.e2e.pages import picture
from tests.e2e.servers import ARTIFACTS
from tests.factories import PASSWORD
from tests.sales.support import engage, moves, sales_config, sales_site, stricter

MARKETER, REP = "mia@acme.example", "sam@acme.example"
OLD_RULE, NEW_RULE = "mql: Engagement score ≥ 10", "mql: Engagement score ≥ 15"


def approving(config: dict) -> dict:
    """``config`` with approvals on, as the product ships (the test factory turns them off)."""
    config["site"]["definition_approval"] = True
    return config


def sign_in(browser: Browser, url: str, email: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(url + "/admin/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


def post_outcome(client, token: str, email: str, kind: str, at, **extra) -> None:
    body = {
        "kind": kind,
        "occurred_at": at.isoformat(),
        "by": REP,
        "idempotency_key": f"{email}-{kind}",
        **extra,
    }
    response = client.post(
        f"/api/v1/sites/acme/contacts/by-email/{email}/outcomes",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_json()


def rows_of(page: Page, table: str) -> list[list[str]]:
    return page.locator(f"{table} tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))"
    )


def test_a_stricter_mql_rule_is_proposed_simulated_approved_and_applied(
    browser, trickle, app, clock
):
    token = sales_site(clock(), approving(sales_config()))
    create_user(MARKETER, "marketer", PASSWORD)
    create_user(REP, "sales", PASSWORD)
    api = app.test_client()
    # ada: email and two webinars (12 points), bo: three (17); both handed off under mql ≥ 10.
    engage(app.test_client(), "ada@corp.example", 2)
    engage(app.test_client(), "bo@corp.example", 3)
    engage(app.test_client(), "cy@corp.example", 0)  # a lead
    clock.advance(hours=2)
    post_outcome(api, token, "ada@corp.example", "rejected", clock(), reason="bad_fit")
    post_outcome(api, token, "bo@corp.example", "accepted", clock())
    clock.advance(days=1)

    # The marketer uploads the stricter definition: it waits for sales.
    marketer = sign_in(browser, trickle.url, MARKETER)
    marketer.goto(trickle.url + "/admin/sites/acme/config")
    marketer.get_by_label("Config file").set_input_files(
        {
            "name": "acme.yaml",
            "mimeType": "application/yaml",
            "buffer": dump_config(approving(stricter(15)), "yaml").encode(),
        }
    )
    marketer.get_by_role("button", name="Upload and import").click()
    expect(marketer.get_by_text("waiting for approval by sales (proposal 1")).to_be_visible()
    proposal = marketer.locator("#proposal-1")
    expect(proposal).to_contain_text("Proposed by mia@acme.example")
    expect(proposal).to_contain_text("min_score: 15")
    expect(proposal.get_by_role("button", name="Approve")).to_have_count(0)

    # ... and runs its what-if over the last 90 days; the worker replays the history.
    proposal.get_by_role("button", name="Run the what-if").click()
    expect(marketer.get_by_text("Waiting for the worker")).to_be_visible()
    assert run_next_whatif(clock()) == 1
    marketer.get_by_role("link", name="Reload").click()
    expect(marketer.get_by_text("3 contacts were active")).to_be_visible()
    assert rows_of(marketer, "table.whatif-groups") == [
        ["Handed off", "2", "1"],
        ["Accepted", "1", "1"],
        ["Won", "0", "0"],
        ["Rejected: bad_fit", "1", "0"],
    ]
    expect(marketer.get_by_text("Would enter: 0 · would leave: 1")).to_be_visible()
    expect(marketer.get_by_role("link", name="ada@corp.example")).to_be_visible()
    picture(marketer, ARTIFACTS / "console-whatif.png")

    # A sales user approves it with a comment: version 2 is live, re-qualification queued.
    rep = sign_in(browser, trickle.url, REP)
    rep.goto(trickle.url + "/admin/sites/acme/config")
    decision = rep.locator("#proposal-1")
    decision.get_by_label("Comment").fill("Agreed in Monday's pipeline review")
    decision.get_by_role("button", name="Approve").click()
    expect(rep.get_by_text("Approved: config version 2 is live.")).to_be_visible()
    expect(rep.locator("#requalification")).to_contain_text(
        "Re-qualification for version 2 is queued"
    )
    expect(rep.get_by_text("approved by sam@acme.example (Agreed in Monday's")).to_be_visible()

    # The worker re-judges the three contacts: nobody moves back, so nobody moves.
    assert [(r.done, r.total, r.moved) for r in requalify_due_sites(clock())] == [(3, 3, 0)]
    rep.reload()
    expect(rep.locator("#requalification")).to_contain_text(
        "Re-qualified for version 2: 0 contacts moved of 3"
    )

    # A new visitor reaches the stricter rule: the funnel shows both rules at work.
    clock.advance(hours=1)
    engage(app.test_client(), "dee@corp.example", 3)
    assert moves()[-1] == ("lead", "mql", {"stage": "mql", "when": {"min_score": 15}})
    rep.goto(trickle.url + "/admin/sites/acme/funnel")
    rules = rep.locator("#chart-rules")
    rules.get_by_text("Table").click()
    never = [
        [f"{stage}: Engagement score ≥ 1000000", "0", "0", "0", "0", "—", "—", "—"]
        for stage in ("sal", "opportunity", "customer")  # stages only outcomes move to
    ]
    assert rows_of(rep, "#chart-rules table") == [
        [NEW_RULE, "1", "0", "0", "0", "0", "—", "—"],
        *never,
        [OLD_RULE, "2", "1", "0", "0", "50", "0", "—"],
    ]
    picture(rep, ARTIFACTS / "console-funnel.png")
    marketer.context.close()
    rep.context.close()
