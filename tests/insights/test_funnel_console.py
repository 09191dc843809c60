"""The funnel report page and its CSV downloads: exact numbers over a known history, zeros
for a period without data, who may open it, and escaping (data: tests/insights/funnel_data.py)."""

from __future__ import annotations

import pytest

from app.admin.access import CONSOLE_CSP
from tests.console import table_rows
from tests.factories import make_site
from tests.insights.funnel_data import History, at, funnel_config, known_history

TABLES = {
    "weeks": """\
Week,Contacts,Leads,MQLs,Accepted,Opportunities,Won,Contact→Lead (%),Lead→MQL (%),MQL→Accepted (%),Accepted→Opportunity (%),Opportunity→Won (%)
2026-02-23,3,3,3,1,1,1,100,100,33.3,100,100
2026-03-02,1,1,0,0,0,1,100,0,,,
""",
    "medians": """\
Week,Contact→Lead (median days),Lead→MQL (median days),MQL→Accepted (median days),Accepted→Opportunity (median days),Opportunity→Won (median days),Contact→Lead (contacts),Lead→MQL (contacts),MQL→Accepted (contacts),Accepted→Opportunity (contacts),Opportunity→Won (contacts)
2026-02-23,0.2,1,1,1,2,3,3,1,1,1
2026-03-02,0,,,,,1,0,0,0,0
All weeks,0.1,1,1,1,2,4,3,1,1,1
""",
    "forms": """\
Form,Contacts,Leads,MQLs,Accepted,Opportunities,Won,Contact→Lead (%),Lead→MQL (%),MQL→Accepted (%),Accepted→Opportunity (%),Opportunity→Won (%)
blog,1,1,1,0,0,0,100,100,0,,
demo,1,1,1,0,0,0,100,100,0,,
(no form),2,2,1,1,1,2,100,50,100,100,200
""",
    "rules": """\
Rule,MQLs,Accepted,Opportunities,Won,MQL→Accepted (%),Accepted→Opportunity (%),Opportunity→Won (%)
mql: Engagement score ≥ 10,3,1,1,1,33.3,100,100
sal: Engagement score ≥ 1000000,0,0,0,0,,,
opportunity: Engagement score ≥ 1000000,0,0,0,0,,,
customer: Engagement score ≥ 1000000,0,0,0,0,,,
""",
    "sla": """\
Week,Handed off,With a window,Touched in time,In time (%),Touched,Median hours to first touch,Breaches
2026-02-23,3,3,1,33.3,2,39,2
2026-03-02,0,0,0,,0,,0
""",
    "recycled": """\
Week,Recycled,With a window,Touched in time,In time (%),Touched,Median hours to first touch,Breaches
2026-02-23,1,1,1,100,1,24,0
2026-03-02,0,0,0,,0,,0
""",
    "reasons": """\
Week,Rejected,Lost,Rejected: bad_fit,Rejected: no_budget,Rejected: not_ready,Lost: price,Lost: competitor,Rejected: (no reason)
2026-02-23,1,1,0,0,0,0,1,1
2026-03-02,1,0,1,0,0,0,0,0
""",
    "reason-forms": """\
Form,Rejected,Lost,Rejected: bad_fit,Rejected: no_budget,Rejected: not_ready,Lost: price,Lost: competitor,Rejected: (no reason)
blog,2,1,1,0,0,0,1,1
demo,0,0,0,0,0,0,0,0
(no form),0,0,0,0,0,0,0,0
""",
    "influenced": """\
Currency,Won,Won amount,Influenced,Influenced amount,Influenced (%)
EUR,1,1200.50,1,1200.50,100
USD,1,50.00,0,0.00,0
""",
    "answers": """\
Field,Answer,Handed off,Accepted,Acceptance (%)
Company size,1-10,0,0,
Company size,11-50,2,1,50
Company size,200 or more,0,0,
Company size,(no answer),1,0,0
Decision maker?,Yes,1,0,0
Decision maker?,No,1,0,0
Decision maker?,(no answer),1,1,100
""",
}  # fmt: skip
TITLES = {
    "weeks": "Funnel by week of first contact",
    "medians": "Median days between steps, by week of first contact",
    "forms": "Funnel by source form",
    "rules": "MQLs by the rule that qualified them",
    "sla": "Hand-off SLA (sales)",
    "recycled": "Recycled leads&#39; SLA (marketing)",
    "reasons": "Rejection and loss reasons by week",
    "reason-forms": "Rejection and loss reasons by source form",
    "influenced": "Deals influenced",
    "answers": "Which answers predict acceptance, hand-offs of the",
}
SCRIPT = "=1+2 <script>alert(1)</script>"


def csv_text(client, name: str, days: int = 7) -> str:
    response = client.get(f"/admin/sites/acme/funnel/{name}.csv?days={days}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return response.get_data(as_text=True).replace("\r\n", "\n")


@pytest.mark.parametrize("name", TABLES)
def test_each_table_counts_the_known_history_exactly(app, signed_in, client, name):
    known_history()
    signed_in("analyst")
    assert csv_text(client, name) == TABLES[name]


def test_the_csv_is_named_after_the_site_table_and_day(app, signed_in, client):
    known_history()
    signed_in("analyst")
    response = client.get("/admin/sites/acme/funnel/sla.csv?days=7")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="acme-funnel-sla-2026-03-02.csv"'
    )


def test_the_page_shows_every_table_with_a_drawing_and_a_csv_link(app, signed_in, client):
    known_history()
    signed_in("marketer")
    response = client.get("/admin/sites/acme/funnel?days=7")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONSOLE_CSP
    assert html.count("<svg ") == len(TABLES)
    for name, title in TITLES.items():
        assert f'<section class="card dashboard-chart" id="chart-{name}">' in html
        assert f"<h2>{title}" in html
        assert f'href="/admin/sites/acme/funnel/{name}.csv?days=7" download>CSV</a>' in html
    assert 'href="/admin/sites/acme/funnel?days=7" aria-current="page"' in html
    assert " style=" not in html
    assert "<g><title>Opportunity→Won</title>" in html  # the period's medians, drawn
    assert "All weeks · Longest bar: 2</text>" in html
    assert "<g><title>Decision maker? · Yes</title>" in html
    rows = table_rows(html)
    assert ["2026-02-23", "3", "3", "3", "1", "1", "1", "100", "100", "33.3", "100", "100"] in rows
    assert ["EUR", "1", "1200.50", "1", "1200.50", "100"] in rows


def test_the_period_defaults_to_90_days(app, signed_in, client):
    known_history()
    signed_in("analyst")
    for query in ("", "?days=8", "?days=x"):
        html = client.get(f"/admin/sites/acme/funnel{query}").get_data(as_text=True)
        assert "<h2>Funnel by week of first contact, last 90 days</h2>" in html
        assert 'href="/admin/sites/acme/funnel?days=90" aria-current="page"' in html


ZEROS = {
    "weeks": """\
Week,Contacts,Leads,MQLs,Accepted,Opportunities,Won,Contact→Lead (%),Lead→MQL (%),MQL→Accepted (%),Accepted→Opportunity (%),Opportunity→Won (%)
2027-02-22,0,0,0,0,0,0,,,,,
2027-03-01,0,0,0,0,0,0,,,,,
""",
    "sla": """\
Week,Handed off,With a window,Touched in time,In time (%),Touched,Median hours to first touch,Breaches
2027-02-22,0,0,0,,0,,0
2027-03-01,0,0,0,,0,,0
""",
    "reason-forms": """\
Form,Rejected,Lost,Rejected: bad_fit,Rejected: no_budget,Rejected: not_ready,Lost: price,Lost: competitor
blog,0,0,0,0,0,0,0
demo,0,0,0,0,0,0,0
(no form),0,0,0,0,0,0,0
""",
    "influenced": """\
Currency,Won,Won amount,Influenced,Influenced amount,Influenced (%)
—,0,0.00,0,0.00,
""",
    "answers": """\
Field,Answer,Handed off,Accepted,Acceptance (%)
Company size,1-10,0,0,
Company size,11-50,0,0,
Company size,200 or more,0,0,
Company size,(no answer),0,0,
Decision maker?,Yes,0,0,
Decision maker?,No,0,0,
Decision maker?,(no answer),0,0,
""",
}  # fmt: skip


@pytest.mark.parametrize("name", ZEROS)
def test_a_period_after_the_data_gives_labelled_zeros(app, signed_in, client, clock, name):
    known_history()
    clock.advance(days=365)  # Tuesday 2027-03-02: weeks of 2027-02-22 and 2027-03-01
    signed_in("analyst")
    assert client.get("/admin/sites/acme/funnel?days=7").status_code == 200
    assert csv_text(client, name) == ZEROS[name]


def test_a_site_without_data_gives_zeros_for_every_table(app, signed_in, client):
    make_site(funnel_config())
    signed_in("analyst")
    response = client.get("/admin/sites/acme/funnel")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("<svg ") == len(TABLES)
    weeks = csv_text(client, "weeks", 90).splitlines()
    assert len(weeks) == 1 + 14  # 90 days from a Monday back touch 14 weeks
    assert weeks[1] == "2025-12-01,0,0,0,0,0,0,,,,,"
    assert csv_text(client, "rules", 90).splitlines()[1] == "mql: Engagement score ≥ 10,0,0,0,0,,,"


@pytest.mark.parametrize("role", ["analyst", "marketer", "admin", "sales"])
def test_both_teams_open_the_report(app, signed_in, client, role):
    make_site(funnel_config())
    signed_in(role)
    assert client.get("/admin/sites/acme/funnel").status_code == 200
    assert client.get("/admin/sites/acme/funnel/answers.csv").status_code == 200


def test_signed_out_is_sent_to_sign_in(app, client):
    make_site(funnel_config())
    for path in ("/admin/sites/acme/funnel", "/admin/sites/acme/funnel/weeks.csv"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.location.startswith("/admin/login?next=")


def test_unknown_sites_and_tables_are_not_found(app, signed_in, client):
    make_site(funnel_config())
    signed_in("analyst")
    assert client.get("/admin/sites/nope/funnel").status_code == 404
    assert client.get("/admin/sites/nope/funnel/weeks.csv").status_code == 404
    assert client.get("/admin/sites/acme/funnel/nope.csv").status_code == 404


def test_labels_are_text_on_the_page_and_not_formulas_in_the_csv(app, signed_in, client):
    known_history(funnel_config(decision_label=SCRIPT))
    signed_in("analyst")
    html = client.get("/admin/sites/acme/funnel?days=7").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    escaped = "=1+2 &lt;script&gt;alert(1)&lt;/script&gt;"
    assert f"<td>{escaped}</td>" in html  # the table
    assert f"<title>{escaped} · Yes</title>" in html  # the drawing
    answers = csv_text(client, "answers").splitlines()
    assert answers[5] == "'=1+2 <script>alert(1)</script>,Yes,1,0,0"


def test_answers_after_the_opportunity_or_from_another_account_do_not_influence(
    app, signed_in, client
):
    h = History(funnel_config())
    corp, other = h.account("corp.example"), h.account("other.example")
    ada = h.contact("ada@corp.example", at(24, 6), corp)
    bob = h.contact("bob@corp.example", at(24, 6), corp)
    eve = h.contact("eve@other.example", at(24, 6), other)
    h.answer(eve, "blog", "decision_maker", True, at(24, 7))  # another account, before
    h.outcome(ada, "opportunity", at(25, 10))
    h.answer(bob, "blog", "decision_maker", True, at(25, 11))  # her colleague, after
    h.outcome(ada, "won", at(26, 10), amount_cents=999, currency="EUR")
    signed_in("analyst")
    assert csv_text(client, "influenced").splitlines()[1:] == ["EUR,1,9.99,0,0.00,0"]


def test_each_deal_is_judged_by_its_own_opportunity_not_another_contacts(app, signed_in, client):
    h = History(funnel_config())
    cy = h.contact("cy@else.example", at(24, 6))
    dee = h.contact("dee@other.example", at(24, 6))
    h.outcome(cy, "opportunity", at(25, 10))
    h.answer(cy, "blog", "decision_maker", True, at(26, 8))  # after his opportunity
    h.answer(dee, "demo", "decision_maker", False, at(27, 9))  # before hers, a day later
    h.outcome(dee, "opportunity", at(27, 10))
    h.outcome(cy, "won", at(28, 10), amount_cents=1000, currency="EUR")
    h.outcome(dee, "won", at(28, 12), amount_cents=2500, currency="EUR")
    signed_in("analyst")
    assert csv_text(client, "influenced").splitlines()[1:] == ["EUR,2,35.00,1,25.00,50"]
