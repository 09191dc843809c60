"""The console's what-if pages: a proposed config uploaded, run by the worker, its result shown;
bad files refused with nothing asked for; who may ask and who may read."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import WhatIfRun
from app.services.sales import run_next_whatif
from app.services.siteconfig import dump_config
from tests.console import csrf_token, table_rows
from tests.sales.support import engage, sales_site, stricter

PAGE = "/admin/sites/acme/whatif"


def upload(client, text: str, days: str = "7"):
    data = {
        "csrf_token": csrf_token(client, PAGE),
        "days": days,
        "file": (io.BytesIO(text.encode()), "proposal.yaml"),
    }
    return client.post(PAGE, data=data, content_type="multipart/form-data")


@pytest.fixture
def marketer(app, clock, signed_in):
    sales_site(clock())
    engage(app.test_client(), "bo@b.example", 2)
    clock.advance(hours=1)
    return signed_in("marketer", "mo@acme.example")


def test_a_proposal_is_run_and_its_result_shown(marketer, clock):
    response = upload(marketer, dump_config(stricter(15), "yaml"))
    assert (response.status_code, response.location) == (302, "/admin/sites/acme/whatif/1")
    waiting = marketer.get(response.location).get_data(as_text=True)
    assert "Waiting for the worker…" in waiting
    assert run_next_whatif(clock()) == 1
    html = marketer.get(response.location).get_data(as_text=True)
    assert "1 contacts were active between 2026-02-23 and 2026-03-02" in html
    weeks, groups = table_rows(html)[:2], table_rows(html)[2:]
    assert [row[:3] for row in weeks] == [["2026-02-23", "0", "0"], ["2026-03-02", "1", "0"]]
    assert groups == [["1", "0"], ["0", "0"], ["0", "0"]]  # handed off, accepted, won
    assert '<th scope="row">Handed off</th><td class="num">1</td><td class="num">0</td>' in html
    assert "Would enter: 0 · would leave: 1" in html
    assert '<a href="/admin/sites/acme/contacts/1">bo@b.example</a>' in html


@pytest.mark.parametrize(
    ("text", "days", "problem"),
    [
        ("stages: [", "7", "&lt;file&gt;"),
        ("site: {key: acme}\n", "7", "site.name"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_asked(marketer, text, days, problem):
    response = upload(marketer, text, days)
    assert response.status_code == 422
    assert f"<code>{problem}</code>" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(WhatIfRun)) == 0


def test_a_window_out_of_range_is_refused(marketer):
    response = upload(marketer, dump_config(stricter(15), "yaml"), days="0")
    assert response.status_code == 422
    assert "Enter 1 to 3660." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(WhatIfRun)) == 0


def test_analysts_read_but_do_not_ask_and_sales_may_ask(app, clock, signed_in, client):
    sales_site(clock())
    analyst = signed_in("analyst", "an@acme.example")
    assert analyst.get(PAGE).status_code == 200
    assert "Run the what-if" not in analyst.get(PAGE).get_data(as_text=True)
    assert upload(analyst, dump_config(stricter(15), "yaml")).status_code == 403
    rep = signed_in("sales", "rep@acme.example")
    assert upload(rep, dump_config(stricter(15), "yaml")).status_code == 302
    assert rep.get("/admin/sites/acme/whatif/99").status_code == 404
    assert rep.get("/admin/sites/nope/whatif").status_code == 404


def test_a_pending_proposal_gets_its_what_if_from_the_history_page(app, clock, client):
    from app.services.siteconfig import DefinitionPending, import_site_config
    from tests.console import sign_in
    from tests.siteconfig.support import MARKETER, SALES_REP, make_approving_site, with_mql_at

    make_approving_site()  # mql at 15
    engage(app.test_client(), "bo@b.example", 3)  # 17: mql, not at 20
    clock.advance(hours=1)
    with pytest.raises(DefinitionPending):
        import_site_config(with_mql_at(20), author=MARKETER)
    sign_in(client, SALES_REP)
    history = client.get("/admin/sites/acme/config").get_data(as_text=True)
    assert 'action="/admin/sites/acme/whatif/proposal/1"' in history
    token = csrf_token(client, "/admin/sites/acme/config")
    response = client.post(
        "/admin/sites/acme/whatif/proposal/1", data={"csrf_token": token, "days": "7"}
    )
    assert (response.status_code, response.location) == (302, "/admin/sites/acme/whatif/1")
    assert run_next_whatif(clock()) == 1
    html = client.get(response.location).get_data(as_text=True)
    assert "Would enter: 0 · would leave: 1" in html
    missing = client.post(
        "/admin/sites/acme/whatif/proposal/9", data={"csrf_token": token, "days": "7"}
    )
    assert missing.status_code == 404


def test_the_command_replays_a_pending_proposal_by_its_number(app, clock, runner):
    from app.services.siteconfig import DefinitionPending, import_site_config
    from tests.siteconfig.support import MARKETER, make_approving_site, with_mql_at

    make_approving_site()
    engage(app.test_client(), "bo@b.example", 3)
    clock.advance(hours=1)
    with pytest.raises(DefinitionPending):
        import_site_config(with_mql_at(20), author=MARKETER)
    result = runner.invoke(args=["config", "simulate", "1", "--days", "7"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-2:] == [
        "Would enter the queue: 0; would leave it: 1",
        "  leaving: #1 bo@b.example",
    ]
    assert runner.invoke(args=["config", "simulate", "9"]).exit_code == 1
    assert runner.invoke(args=["config", "simulate", "1", "--file", "x.yaml"]).exit_code == 2
    assert runner.invoke(args=["config", "simulate", "acme"]).exit_code == 2
