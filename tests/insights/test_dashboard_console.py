"""The dashboard page and its CSV downloads: who may see them, what they show, and escaping."""

from __future__ import annotations

import re

import pytest

from app.admin.access import CONSOLE_CSP
from app.services.accounts import create_user
from tests.console import sign_in
from tests.factories import ORIGIN, PASSWORD, Widget, make_site

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
CHARTS = ["completeness", "questions", "scores", "stages", "submissions"]
TITLES = [
    "Profile completeness by tier",
    "Questions shown, answered and skipped, last 30 days",
    "Engagement score distribution",
    "Contacts by lifecycle stage, last 30 days",
    "Submissions per day, last 30 days",
]


def config() -> dict:
    """A small site whose marketer-written labels are hostile to HTML and to spreadsheets."""
    text = {"kind": "text", "tier": "basics"}
    return {
        "site": {"key": "acme", "name": "Acme", "origins": [ORIGIN]},
        "engagement": {"page_view": 1, "form_submit": 2},
        "tiers": [{"key": "basics", "rank": 1, "label": SCRIPT}],
        "fields": [
            {"key": "email", "label": "Work email", "kind": "email", "tier": "basics",
             "identity": True, "required": True},
            {"key": "note", "label": SCRIPT, "priority": 10, **text},
            {"key": "sum", "label": "=1+2", "priority": 20, **text},
            {"key": "plus", "label": "+1", **text},
            {"key": "minus", "label": "-2+3", **text},
            {"key": "at", "label": "@SUM(A1)", **text},
        ],
        "forms": [{"key": "blog", "title": "Blog", "max_questions": 3}],
        "stages": [{"key": "lead", "when": {"fields_known": ["email"]}}],
    }  # fmt: skip


@pytest.fixture
def site(app):
    return make_site(config())


@pytest.fixture
def answered(client, site):
    """One visitor was shown three questions, answered two and skipped one."""
    widget = Widget(client)
    assert widget.ask() == ["email", "note", "sum"]
    widget.submit({"email": "ada@acme.example", "note": "hi"}, skipped=["sum"])


def test_an_analyst_sees_every_chart_with_a_table_and_a_csv_link(client, analyst, answered):
    response = client.get("/admin/sites/acme/dashboard")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONSOLE_CSP
    assert html.count("<svg ") == 5
    for name, title in zip(CHARTS, TITLES, strict=True):
        assert f'<section class="card dashboard-chart" id="chart-{name}">' in html
        assert f"<h2>{title}</h2>" in html
        assert f'role="img" aria-label="{title}"><title>{title}</title>' in html
        assert f'href="/admin/sites/acme/dashboard/{name}.csv?days=30" download>CSV</a>' in html
    assert html.count("<details>\n    <summary>Table</summary>") == 5
    assert " style=" not in html  # the CSP would block it


def test_the_period_is_one_of_the_offered_windows(client, analyst):
    html = client.get("/admin/sites/acme/dashboard?days=7").get_data(as_text=True)
    assert "Submissions per day, last 7 days" in html
    assert 'href="/admin/sites/acme/dashboard?days=7" aria-current="page"' in html
    assert 'href="/admin/sites/acme/dashboard/stages.csv?days=7"' in html
    odd = client.get("/admin/sites/acme/dashboard?days=8").get_data(as_text=True)
    assert "Submissions per day, last 30 days" in odd


def test_labels_are_only_ever_shown_escaped(client, analyst, answered):
    html = client.get("/admin/sites/acme/dashboard").get_data(as_text=True)
    assert SCRIPT not in html
    assert html.count("<script") == 1  # the console's own admin.js
    # The tier label: in the completeness bar's tooltip, its text, and the table; the field
    # label: in the questions bar's tooltip ("blog · ..."), its text, whole (over 30
    # characters it goes on a second line), and the table.
    assert html.count(ESCAPED) == 6
    assert f"<g><title>{ESCAPED}</title>" in html
    assert f'class="chart-label" text-anchor="end">{ESCAPED}</text>' in html
    assert f"<g><title>blog · {ESCAPED}</title>" in html
    lines = re.search(
        r'y="(\d+\.\d)" class="chart-label" text-anchor="end">blog ·</text>'
        r'<text x="222.0" y="(\d+\.\d)" class="chart-label" text-anchor="end">'
        + re.escape(ESCAPED),
        html,
    )
    assert float(lines[2]) - float(lines[1]) == 14  # one line under the other
    assert html.count(f"<td>{ESCAPED}</td>") == 2


def test_the_csv_is_the_table_with_formulas_neutralised(client, analyst, answered):
    response = client.get("/admin/sites/acme/dashboard/questions.csv?days=7")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="acme-questions-2026-03-02.csv"'
    )
    assert response.get_data(as_text=True) == (
        "Form,Question,Field,Shown,Answered,Skipped,Answer rate (%)\r\n"
        "blog,Work email,email,1,1,0,100\r\n"
        f"blog,{SCRIPT},note,1,1,0,100\r\n"
        "blog,'=1+2,sum,1,0,1,0\r\n"
        "blog,'+1,plus,0,0,0,\r\n"
        "blog,'-2+3,minus,0,0,0,\r\n"
        "blog,'@SUM(A1),at,0,0,0,\r\n"
    )


def test_every_chart_downloads(client, analyst, answered):
    completeness = client.get("/admin/sites/acme/dashboard/completeness.csv")
    assert completeness.get_data(as_text=True) == (
        f"Tier,Fields,Answers known (%),Complete contacts,Complete (%)\r\n{SCRIPT},6,33.3,0,0\r\n"
    )
    scores = client.get("/admin/sites/acme/dashboard/scores.csv").get_data(as_text=True)
    assert scores.splitlines()[:3] == ["Score,Contacts", "under 1,0", "1 to under 5,1"]
    stages = client.get("/admin/sites/acme/dashboard/stages.csv?days=7").get_data(as_text=True)
    assert stages.splitlines() == ["Day,Contacts,lead"] + [
        f"2026-02-{day},0,0" for day in range(24, 29)
    ] + ["2026-03-01,0,0", "2026-03-02,1,1"]  # the submit moved the contact to lead
    submissions = client.get("/admin/sites/acme/dashboard/submissions.csv?days=365")
    lines = submissions.get_data(as_text=True).splitlines()
    assert (len(lines), lines[0], lines[-1]) == (
        366,
        "Day,Answers accepted,Contacts",
        "2026-03-02,2,1",
    )


@pytest.mark.parametrize(
    "path",
    [
        "/admin/sites/nope/dashboard",
        "/admin/sites/nope/dashboard/scores.csv",
        "/admin/sites/acme/dashboard/nope.csv",
        "/admin/sites/acme/dashboard/scores.json",
    ],
)
def test_an_unknown_site_or_chart_is_404(client, analyst, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "path", ["/admin/sites/acme/dashboard", "/admin/sites/acme/dashboard/scores.csv"]
)
def test_signing_in_is_required(client, site, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/admin/login?next=%2Fadmin%2Fsites%2Facme%2Fdashboard")


@pytest.mark.parametrize("role", ["marketer", "admin"])
def test_higher_roles_see_it_too(client, site, role):
    create_user("mia@acme.example", role, PASSWORD)
    sign_in(client, "mia@acme.example")
    assert client.get("/admin/sites/acme/dashboard").status_code == 200
