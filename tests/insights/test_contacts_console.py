"""The contacts pages: a searchable, paginated list and one contact with where each value came from."""

from __future__ import annotations

import re

import pytest

from app.services.accounts import create_user
from tests.console import sign_in, table_rows
from tests.factories import PASSWORD, Widget, acme_config, make_site, verified

BLOG_FIRST_ASK = ["email", "first_name", "company"]


def page(client, path: str, **query) -> str:
    response = client.get(path, query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def identify(client, email: str, first_name: str = "Ada", company: str = "Acme") -> Widget:
    """A visitor who reads one page, then gives email, first name and company on the blog form."""
    widget = Widget(client)
    widget.event("page_view", url="https://www.acme.example/blog/1")
    assert widget.ask() == BLOG_FIRST_ASK
    answers = {"email": email, "first_name": first_name, "company": company}
    assert widget.submit(answers).status_code == 200
    return widget


def test_the_list_shows_each_contact_newest_first(client, site, analyst, clock):
    identify(client, "ada@acme.example")
    clock.advance(hours=2)
    anonymous = Widget(client)
    anonymous.event("content_download", stage="mid")
    anonymous.event("page_view")
    html = page(client, "/admin/sites/acme/contacts")
    # 3 of 11 fields known is 27%; page_view 1 + form_submit 2 = 3; download 3 + page_view 1 = 4.
    assert table_rows(html) == [
        ["Anonymous #2", "—", "4", "0%", "2026-03-02 11:00 UTC"],
        ["ada@acme.example #1", "—", "3", "27%", "2026-03-02 09:00 UTC"],
    ]
    assert 'href="/admin/sites/acme/contacts/1"' in html
    assert 'Contacts <small class="count">2</small>' in html


def test_account_values_count_towards_completeness(client, site, analyst, clock):
    bob = verified(identify(client, "bob@globex.example", "Bob", "Globex"), "bob@globex.example")
    for _ in range(2):
        bob.event("content_download")
    assert bob.ask() == ["zip", "company_size", "industry"]
    bob.submit({"zip": "10115", "company_size": "11-50", "industry": "Retail"})
    clock.advance(minutes=5)
    identify(client, "cy@globex.example", "Cy", "Globex")
    rows = table_rows(page(client, "/admin/sites/acme/contacts"))
    # Bob knows 6 of 11 fields; Cy answered 3 and shares Bob's 2 account-scope answers: 5 of 11.
    assert [row[0] + " " + row[3] for row in rows] == [
        "cy@globex.example #2 45%",
        "bob@globex.example #1 54%",
    ]


def test_search_by_part_of_an_email_or_by_id(client, site, analyst, clock):
    for name in ("ada", "bob", "adam"):
        identify(client, f"{name}@acme.example")
        clock.advance(minutes=1)
    emails = [row[0] for row in table_rows(page(client, "/admin/sites/acme/contacts", q="ADA"))]
    assert emails == ["adam@acme.example #3", "ada@acme.example #1"]
    by_id = table_rows(page(client, "/admin/sites/acme/contacts", q="2"))
    assert [row[0] for row in by_id] == ["bob@acme.example #2"]
    nothing = page(client, "/admin/sites/acme/contacts", q="%")
    assert table_rows(nothing) == []
    assert "No contact matches “%”." in nothing


@pytest.mark.parametrize(
    ("requested", "shown", "emails"),
    [
        ("1", 1, ["c4@acme.example #5", "c3@acme.example #4"]),
        ("2", 2, ["c2@acme.example #3", "c1@acme.example #2"]),
        ("3", 3, ["c0@acme.example #1"]),
        ("99", 3, ["c0@acme.example #1"]),
        ("0", 1, ["c4@acme.example #5", "c3@acme.example #4"]),
        ("two", 1, ["c4@acme.example #5", "c3@acme.example #4"]),
    ],
)
def test_pagination(client, site, analyst, clock, monkeypatch, requested, shown, emails):
    monkeypatch.setattr("app.admin.contacts.PER_PAGE", 2)
    for n in range(5):
        identify(client, f"c{n}@acme.example")
        clock.advance(minutes=1)
    html = page(client, "/admin/sites/acme/contacts", page=requested)
    assert [row[0] for row in table_rows(html)] == emails
    assert f"Page {shown} of 3" in html
    assert ('rel="prev"' in html, 'rel="next"' in html) == (shown > 1, shown < 3)


def test_pagination_keeps_the_search(client, site, analyst, monkeypatch):
    monkeypatch.setattr("app.admin.contacts.PER_PAGE", 1)
    identify(client, "ada@acme.example")
    identify(client, "adam@acme.example")
    html = page(client, "/admin/sites/acme/contacts", q="ada")
    assert 'href="/admin/sites/acme/contacts?q=ada&amp;page=2"' in html


def test_no_contacts_says_what_to_do_next(client, site, analyst):
    html = page(client, "/admin/sites/acme/contacts")
    assert "No contacts yet: embed a form — see the embed snippets on the" in html
    assert '<a href="/admin/">Sites page</a>' in html


def test_the_sites_page_links_to_the_contacts(client, site, analyst):
    identify(client, "ada@acme.example")
    assert '<a href="/admin/sites/acme/contacts">Contacts (1)</a>' in page(client, "/admin/")


def section(html: str, heading: str) -> str:
    """The HTML of the page section under the ``<h2>heading</h2>``."""
    start = html.index(f"<h2>{heading}</h2>")
    return html[start : html.index("</section>", start)]


def test_a_contact_page_shows_values_with_where_they_came_from(client, site, analyst, clock):
    widget = identify(client, "ada@acme.example", "Ada", "Acme")
    clock.advance(days=1)
    widget.event("content_download", stage="mid", content="Pricing guide", id="dl-1")
    widget.event("content_download", stage="mid", content="Pricing guide", id="dl-1")  # a repeat
    assert widget.ask() == ["zip", "company_size", "industry"]
    widget.submit({"zip": "10115", "company_size": "11-50"}, skipped=["industry"])
    clock.advance(days=1)
    laptop = Widget(client)  # a second browser: its anonymous contact merges into Ada's
    assert laptop.ask() == BLOG_FIRST_ASK
    laptop.submit({"email": "ADA@acme.example", "first_name": "Ada L."})
    html = page(client, "/admin/sites/acme/contacts/1")

    assert "<h1>ada@acme.example" in html
    assert "<h2>Lifecycle stage</h2>" not in html  # the site has no stages: no moves
    # 1 + 2 (first submit) + 3 (download, once) + 2 + 2; 5 of 11 fields known; two browsers.
    assert "<dt>Score</dt><dd>10</dd>" in html
    assert "<dt>Completeness</dt><dd>45%</dd>" in html
    assert "<dt>Visitors</dt><dd>2</dd>" in html
    assert "<dt>Last seen</dt><dd>2026-03-04 09:00 UTC</dd>" in html
    # The laptop only typed Ada's email: its answers are claims, kept but not applied.
    assert table_rows(section(html, "Current values")) == [
        ["Work email email", "ada@acme.example", "claimed", "blog", "Browser 1", "2026-03-02 09:00 UTC"],
        ["First name first_name", "Ada", "claimed", "blog", "Browser 1", "2026-03-02 09:00 UTC"],
        ["Company company", "Acme", "claimed", "blog", "Browser 1", "2026-03-02 09:00 UTC"],
        ["ZIP code zip", "10115", "claimed", "blog", "Browser 1", "2026-03-03 09:00 UTC"],
        ["Company size company_size", "11-50", "claimed", "blog", "Browser 1", "2026-03-03 09:00 UTC"],
    ]  # fmt: skip
    history = section(html, "Where each value came from")
    assert (
        "<strong>First name</strong> <code>first_name</code> · 2 answers, latest “Ada L.” on "
        "2026-03-04 09:00 UTC</summary>" in re.sub(r"\s+", " ", history)
    )  # folded: the summary says what the table under it holds
    start = history.index('id="provenance-first_name"')
    first_name = history[start : history.index("</details>", start)]
    assert table_rows(first_name) == [
        ["Ada L.", "Ada", "blog", "Browser 2", "claim, not applied", "2026-03-04 09:00 UTC"],
        ["Ada", "—", "blog", "Browser 1", "claimed", "2026-03-02 09:00 UTC"],
    ]
    assert table_rows(section(html, "Engagement timeline")) == [
        ["2026-03-04 09:00 UTC", "form_submit", "early", "", "Yes"],
        ["2026-03-03 09:00 UTC", "form_submit", "early", "", "Yes"],
        ["2026-03-03 09:00 UTC", "content_download", "mid", "Pricing guide", "Yes"],
        ["2026-03-02 09:00 UTC", "form_submit", "early", "", "Yes"],
        ["2026-03-02 09:00 UTC", "page_view", "early", "https://www.acme.example/blog/1", "Yes"],
    ]
    assert table_rows(section(html, "Skipped questions")) == [
        ["Industry industry", "blog", "2026-03-03 09:00 UTC"]
    ]
    assert "Anonymous contact #2, 2026-03-04 09:00 UTC" in section(html, "Merged into this contact")


def test_an_account_value_is_marked_as_the_accounts(client, site, analyst, clock):
    bob = identify(client, "bob@globex.example", "Bob", "Globex")
    for _ in range(2):
        bob.event("content_download")
    bob.ask()
    bob.submit({"company_size": "11-50"})
    identify(client, "cy@globex.example", "Cy", "Globex")
    rows = table_rows(section(page(client, "/admin/sites/acme/contacts/2"), "Current values"))
    # Only Bob, from a claimed browser, said so: a candidate that does not spare Cy the question.
    assert rows[-1] == [
        "Company size company_size",
        "11-50",
        "candidate",
        "account",
        "—",
        "2026-03-02 09:00 UTC",
    ]


def test_lists_are_joined_and_booleans_are_yes_or_no(client, analyst, app):
    config = acme_config()
    config["fields"] += [
        {
            "key": "topics",
            "label": "Topics",
            "kind": "multiselect",
            "tier": "basics",
            "options": ["AI", "BI", "ETL"],
        },
        {"key": "news", "label": "Newsletter?", "kind": "boolean", "tier": "basics"},
        {"key": "events", "label": "Events?", "kind": "boolean", "tier": "basics"},
    ]
    config["forms"] = [
        {"key": "prefs", "title": "Your interests", "fields": ["topics", "news", "events"]}
    ]
    make_site(config)
    widget = Widget(client, form="prefs")
    assert widget.ask() == ["events", "news", "topics"]  # same priority: by key
    widget.submit({"topics": ["AI", "ETL"], "news": True, "events": False})
    rows = table_rows(section(page(client, "/admin/sites/acme/contacts/1"), "Current values"))
    assert [row[:2] for row in rows] == [
        ["Topics topics", "AI, ETL"],
        ["Newsletter? news", "Yes"],
        ["Events? events", "No"],
    ]


def test_an_option_is_shown_by_its_label_where_its_value_is_shown(client, site, analyst, clock):
    widget = identify(client, "ada@acme.example", "Ada", "Acme")
    clock.advance(days=1)
    widget.event("content_download")
    assert widget.ask() == ["zip", "company_size", "industry"]
    assert widget.submit({"company_size": "200+"}).status_code == 200
    html = page(client, "/admin/sites/acme/contacts/1")

    values = table_rows(section(html, "Current values"))
    assert [row[1] for row in values if row[0] == "Company size company_size"] == ["More than 200"]
    history = section(html, "Where each value came from")
    start = history.index('id="provenance-company_size"')
    assert table_rows(history[start : history.index("</details>", start)]) == [
        ["More than 200", "—", "blog", "Browser 1", "claimed", "2026-03-03 09:00 UTC"]
    ]
    assert "200+" not in html


def test_stored_markup_is_shown_as_text_on_both_pages(client, site, analyst):
    identify(client, "<b>x</b>@acme.example", first_name="<b>x</b>")
    escaped = "&lt;b&gt;x&lt;/b&gt;"
    listing = page(client, "/admin/sites/acme/contacts")
    assert f"{escaped}@acme.example" in listing
    detail = page(client, "/admin/sites/acme/contacts/1")
    assert f'<td class="value">{escaped}</td>' in detail
    for html in (listing, detail, page(client, "/admin/sites/acme/contacts", q="<b>")):
        assert "<b>" not in html


@pytest.mark.parametrize(
    "path",
    [
        "/admin/sites/acme/contacts/99",
        "/admin/sites/acme/contacts/99999999999999999999",
        "/admin/sites/acme/contacts/1",  # globex's contact
        "/admin/sites/nope/contacts",
        "/admin/sites/nope/contacts/1",
    ],
)
def test_unknown_ids_are_404(client, site, analyst, path):
    make_site(acme_config(site={"key": "globex", "name": "Globex", "origins": []}))
    Widget(client, site="globex").event()
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/admin/sites/acme/contacts", "/admin/sites/acme/contacts/1"])
def test_the_pages_need_a_login(client, site, path):
    identify(client, "ada@acme.example")
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/admin/login?next=")


def test_a_contact_page_shows_each_stage_move_with_its_rule(app, client, clock):
    make_site(
        acme_config(
            stages=[
                {"key": "lead", "when": {"fields_known": ["email"]}},
                {"key": "mql", "when": {"min_score": 8, "fields_known": ["company"]}},
            ]
        )
    )
    create_user("ann@acme.example", "analyst", PASSWORD)
    sign_in(client)
    widget = identify(client, "ada@acme.example")  # score 3: lead
    clock.advance(days=1)
    widget.event("webinar")  # 8: mql
    html = page(client, "/admin/sites/acme/contacts/1")
    assert "<dt>Stage</dt><dd>mql</dd>" in html
    assert table_rows(section(html, "Lifecycle stage")) == [
        ["2026-03-02 09:00 UTC", "—", "lead", "Known: Work email"],
        ["2026-03-03 09:00 UTC", "lead", "mql", "Engagement score ≥ 8 Known: Company"],
    ]


def test_the_list_filters_hand_offs_past_their_follow_up_window(app, client, clock):
    make_site(
        acme_config(stages=[{"key": "mql", "when": {"min_score": 3, "fields_known": ["company"]}}])
    )
    create_user("ann@acme.example", "analyst", PASSWORD)
    sign_in(client)
    identify(client, "old@acme.example")  # page view + submit: 3, mql
    clock.advance(hours=47)
    identify(client, "new@acme.example")
    clock.advance(hours=2)
    html = page(client, "/admin/sites/acme/contacts", overdue="1")
    assert 'name="overdue" value="1" checked' in html
    assert "Only mql contacts not followed up within 48 h" in html
    assert [row[0] for row in table_rows(html)] == ["old@acme.example #1"]
    assert len(table_rows(page(client, "/admin/sites/acme/contacts"))) == 2


def test_a_site_without_stages_offers_no_hand_off_filter(client, site, analyst):
    html = page(client, "/admin/sites/acme/contacts", overdue="1")
    assert 'name="overdue"' not in html
    assert "No mql contact" not in html
