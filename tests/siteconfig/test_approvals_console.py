"""Approving a change to the definition in the console: the marketer's settings edit waits,
the config page shows it with its diff, sales approve or reject it there."""

from __future__ import annotations

import re
from html import unescape
from io import BytesIO

import pytest

from app.services.siteconfig import DefinitionPending, dump_config, import_site_config
from tests.console import csrf_token, post_form, sign_in
from tests.siteconfig.support import (
    MARKETER,
    SALES_REP,
    approving_config,
    config_version,
    make_approving_site,
    mql_score,
    proposal_states,
    with_mql_at,
)

SETTINGS = {
    "name": "Acme Analytics",
    "origins": "https://www.acme.example",
    "skip_cooldown": "3",
    "followup_hours": "24",
}
APPROVE = "/admin/sites/acme/config/proposals/1/approve"
REJECT = "/admin/sites/acme/config/proposals/1/reject"


@pytest.fixture
def acme(app, clock):
    return make_approving_site()


@pytest.fixture
def as_user(client, acme):
    """Sign ``client`` in as ``email`` (signing out whoever was): one client, because the
    test's app context keeps the signed-in user between requests."""

    def switch(email: str):
        if client.get("/admin/").status_code == 200:
            client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
        assert sign_in(client, email).status_code == 302
        return client

    return switch


@pytest.fixture
def marketer(as_user):
    return as_user(MARKETER)


@pytest.fixture
def sales(as_user):
    return as_user(SALES_REP)


def text(response) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


WEIGHTS = {"page_view": 1, "content_download": 3, "webinar": 5, "form_submit": 2}


def settings_rows() -> dict[str, str]:
    """The settings page as opened, with the follow-up window at 24 hours instead of 48."""
    rows = dict(SETTINGS)
    for i, (kind, weight) in enumerate(WEIGHTS.items()):
        rows[f"engagement-weights-{i}-kind"] = kind
        rows[f"engagement-weights-{i}-weight"] = str(weight)
    return rows


def test_a_marketers_settings_edit_waits_and_sales_approve_it(marketer, as_user):
    response = post_form(marketer, "/admin/sites/acme/settings", settings_rows())

    assert response.status_code == 302
    page = text(marketer.get(response.location))
    assert (
        "Not saved yet: the change to the definition is waiting for approval by sales "
        "(proposal 1, on the Config page)." in page
    )
    assert "Site settings saved." not in page
    assert config_version() == 1
    own = text(marketer.get("/admin/sites/acme/config"))
    assert "Proposed by mia@acme.example" in own
    assert "-followup_hours: 48 +followup_hours: 24" in own
    assert "You proposed it: a user of the other team approves it." in own
    assert "Approve" not in own

    sales = as_user(SALES_REP)
    page = sales.get("/admin/sites/acme/config").get_data(as_text=True)
    assert f'formaction="{APPROVE}"' in page
    response = post_form(sales, APPROVE, {"comment": "fine by us"}, "/admin/sites/acme/config")

    assert (response.status_code, response.location) == (302, "/admin/sites/acme/config")
    assert config_version() == 2
    history = text(sales.get("/admin/sites/acme/config"))
    assert "Approved: config version 2 is live." in history
    assert "proposed by mia@acme.example, approved by sam@acme.example (fine by us)" in history
    revision = text(sales.get("/admin/sites/acme/config/2"))
    assert "Proposed by mia@acme.example, approved by sam@acme.example (fine by us)" in revision
    assert proposal_states() == [(1, "approved", SALES_REP, 2)]


def test_approving_your_own_change_is_forbidden_and_changes_nothing(marketer):
    import_site_config_pending(MARKETER)

    response = post_form(marketer, APPROVE, {"comment": ""}, "/admin/sites/acme/config")

    assert response.status_code == 403
    assert "You proposed this change: a user of the other team approves it." in text(response)
    assert (config_version(), mql_score()) == (1, 15)
    assert proposal_states() == [(1, "pending", None, None)]


def test_a_stale_proposal_is_a_conflict(sales):
    import_site_config_pending(MARKETER)
    other = approving_config()
    other["forms"][0]["title"] = "Stay in touch"
    import_site_config(other, author=MARKETER)

    response = post_form(sales, APPROVE, {"comment": ""}, "/admin/sites/acme/config")

    assert response.status_code == 409
    assert "the site is at version 2 now" in text(response)
    assert (config_version(), mql_score()) == (2, 15)


def test_sales_reject_with_a_comment(sales):
    import_site_config_pending(MARKETER)

    blank = post_form(sales, REJECT, {"comment": ""}, "/admin/sites/acme/config")
    assert blank.status_code == 422
    assert "say why the change is rejected" in text(blank)
    response = post_form(sales, REJECT, {"comment": "keep 15"}, "/admin/sites/acme/config")

    assert response.status_code == 302
    page = text(sales.get("/admin/sites/acme/config"))
    assert "Rejected proposal 1." in page
    assert "rejected by sam@acme.example" in page
    assert proposal_states() == [(1, "rejected", SALES_REP, None)]
    assert (config_version(), mql_score()) == (1, 15)


def test_a_decision_without_the_csrf_token_is_refused(sales):
    import_site_config_pending(MARKETER)

    response = sales.post(APPROVE, data={"comment": "ok"})

    assert response.status_code == 400
    assert proposal_states() == [(1, "pending", None, None)]


def import_site_config_pending(author: str) -> None:
    with pytest.raises(DefinitionPending):
        import_site_config(with_mql_at(20), author=author)


def test_the_upload_of_a_definition_change_waits(marketer):
    token = csrf_token(marketer, "/admin/sites/acme/config")
    body = dump_config(with_mql_at(20), "yaml").encode()
    response = marketer.post(
        "/admin/sites/acme/config",
        data={"csrf_token": token, "file": (BytesIO(body), "acme.yaml")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    assert "waiting for approval by sales (proposal 1" in text(marketer.get(response.location))
    assert (config_version(), mql_score()) == (1, 15)


def test_the_other_team_sees_what_waits_for_them_on_the_sites_pages(as_user):
    import_site_config_pending(MARKETER)
    notice = (
        "Waiting for your approval: a change to the definition (proposal 1) by mia@acme.example"
    )

    assert notice in text(as_user(SALES_REP).get("/admin/sites/acme/queue"))
    assert notice not in text(as_user(MARKETER).get("/admin/sites/acme/questions"))
