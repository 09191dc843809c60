"""The dashboard's headline numbers: page views, and per form its views, its asks, the questions
asked, answered and skipped, the submits stored and the answer rate, exact on both engines."""

from __future__ import annotations

import pytest

from app.services.insights import FormHeadline, Headlines, site_headlines
from tests.console import table_rows
from tests.factories import Widget, acme_config, make_site


@pytest.fixture
def traffic(client, two_forms, clock):
    """Ten days ago: a visitor read two pages (one sent twice), the first with both forms on
    it, the second with the blog form, and answered two of the blog form's three questions;
    another was shown the short form and skipped both. Today: the first came back to a page
    with the blog form and answered two of its next three questions."""
    ada = Widget(client)
    ada.event(id="p1", forms=["blog", "short"])
    ada.event(id="p2", forms=["blog"])
    ada.event(id="p2", forms=["blog"])  # the same event again: counted once
    assert ada.ask() == ["email", "first_name", "company"]
    assert (
        ada.submit(
            {"email": "ada@acme.example", "first_name": "Ada"}, skipped=["company"]
        ).status_code
        == 200
    )
    bob = Widget(client, form="short")
    assert bob.ask() == ["first_name", "company"]
    assert bob.submit({}, skipped=["first_name", "company"]).status_code == 200
    clock.advance(days=10)
    ada.event(id="p3", forms=["blog"])
    assert ada.ask() == ["zip", "company_size", "industry"]  # her score unlocked a tier
    assert (
        ada.submit({"zip": "10115", "company_size": "1-10"}, skipped=["industry"]).status_code
        == 200
    )
    return clock


@pytest.mark.parametrize(
    ("days", "totals", "blog", "short"),
    [
        # (page views, asked, submissions, answer rate); per form (views, asks, asked,
        # answered, skipped, submissions, answer rate)
        (30, (3, 8, 2, 50.0), (3, 2, 6, 4, 2, 2, 66.7), (1, 1, 2, 0, 2, 0, 0.0)),
        # the older ones left out
        (7, (1, 3, 1, 66.7), (1, 1, 3, 2, 1, 1, 66.7), (0, 0, 0, 0, 0, 0, None)),
    ],
)
def test_the_headline_numbers_of_a_period(traffic, days, totals, blog, short):
    assert site_headlines("acme", days, traffic()) == Headlines(
        days,
        *totals,
        forms=(
            FormHeadline("blog", "Stay in the loop", *blog),
            FormHeadline("short", "Quick one", *short),
        ),
    )


def test_a_removed_forms_numbers_follow_the_sites_forms(traffic):
    config = acme_config()
    make_site(config)  # the short form is removed
    assert site_headlines("acme", 30, traffic()).forms == (
        FormHeadline("blog", "Stay in the loop", 3, 2, 6, 4, 2, 2, 66.7),
        FormHeadline("short", "short (removed)", 1, 1, 2, 0, 2, 0, 0.0),
    )


def test_the_dashboard_shows_the_headlines_with_full_labels(client, traffic, signed_in):
    signed_in("analyst", "ann@acme.example")
    html = client.get("/admin/sites/acme/dashboard").get_data(as_text=True)
    tiles = [
        "<div><dt>Page views</dt><dd>3</dd></div>",
        "<div><dt>Questions asked</dt><dd>8</dd></div>",
        "<div><dt>Submissions</dt><dd>2</dd></div>",
        "<div><dt>Answer rate</dt><dd>50%</dd></div>",
    ]
    for tile in tiles:
        assert tile in html
    headlines = html[html.index('id="headlines"') : html.index("</table>")]
    assert [row for row in table_rows(headlines + "</table>")] == [
        ["3", "2", "6", "4", "2", "2", "66.7"],
        ["1", "1", "2", "0", "2", "0", "0"],
    ]
    assert '<th scope="row">Stay in the loop <code>blog</code></th>' in html
    assert (
        '<th scope="col">Form</th><th scope="col">Views</th><th scope="col">Asks</th>'
        '<th scope="col">Questions asked</th>'
    ) in html
    week = client.get("/admin/sites/acme/dashboard?days=7").get_data(as_text=True)
    assert '<h2 id="headlines-title">Last 7 days</h2>' in week
    assert "<div><dt>Answer rate</dt><dd>66.7%</dd></div>" in week
    assert '<td class="num">—</td></tr>' in week  # the short form asked nothing this week


def test_an_unknown_site_has_no_headlines(client, two_forms, signed_in):
    signed_in("analyst", "ann@acme.example")
    assert client.get("/admin/sites/nope/dashboard").status_code == 404
