"""Explain / simulate: which questions a form asks a contact, and why every other field is not."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from sqlalchemy import select

from app.domain.identity import identity_hash
from app.extensions import db
from app.models import Contact, Visitor
from app.services.accounts import create_user
from app.services.people import new_identity_secret
from tests.console import sign_in, table_rows
from tests.factories import PASSWORD, Widget, acme_config, make_site

PAGE = "/admin/sites/acme/explain"


@pytest.fixture
def analyst(app, client):
    create_user("ann@acme.example", "analyst", PASSWORD)
    make_site()
    sign_in(client)
    return client


def asked(page: str) -> list[str]:
    """The asked questions' keys, in order."""
    section = page.split('<ol class="asked">', 1)[1].split("</ol>", 1)[0]
    return re.findall(r"<code>([^<]+)</code>", section)


def reasons(page: str) -> dict[str, str]:
    """Not-asked field key -> the plain-words reason shown."""
    rows = re.findall(
        r'<tr class="reason-[a-z_]+"><td>.*?</td><td><code>([^<]+)</code></td><td>(.*?)</td></tr>',
        page,
    )
    return {key: html_lib.unescape(sentence) for key, sentence in rows}


def field_error(page: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', page)
    return match.group(1) if match else ""


def explain(client, **query):
    return client.get(PAGE, query_string={"form": "blog", **query})


def test_a_new_contact_gets_the_basics_three_at_a_time(analyst):
    response = explain(analyst, mode="hypothetical", score="0", stage="none")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert asked(page) == ["email", "first_name", "company"]
    assert "Score 0 · latest stage reached: none" in page
    assert reasons(page) == {
        "zip": "Waiting: the form asks at most 3 at a time.",
        "company_size": "Locked: needs a score of 5 (has 0).",
        "industry": "Locked: needs a score of 5 (has 0).",
        "job_title": "Locked: needs a score of 5 (has 0).",
        "employees": "Locked: needs a score of 5 (has 0).",
        "decision_maker": "Locked: needs a score of 10 (has 0).",
        "budget": "Locked: needs a score of 10 (has 0).",
        "timeline": "Locked: needs a score of 10 (has 0).",
    }


def test_intrusive_questions_wait_for_a_late_stage_visit(analyst, clock):
    basics = ["email", "first_name", "company", "zip"]
    page = explain(analyst, mode="hypothetical", score="12", stage="early", known=basics).get_data(
        as_text=True
    )
    assert asked(page) == ["company_size", "industry", "job_title"]
    assert reasons(page) == {
        "email": "Already answered (2026-03-02).",
        "first_name": "Already answered (2026-03-02).",
        "company": "Already answered (2026-03-02).",
        "zip": "Already answered (2026-03-02).",
        "employees": "Waiting: the form asks at most 3 at a time.",
        "decision_maker": "Locked: needs a late-stage visit (latest: early).",
        "budget": "Locked: needs a late-stage visit (latest: early).",
        "timeline": "Locked: needs a late-stage visit (latest: early).",
    }


def test_budget_is_asked_only_of_a_decision_maker(analyst):
    known = ["email", "first_name", "company", "zip", "company_size", "industry", "job_title"]
    known += ["employees", "decision_maker"]  # a made-up answer, not Yes
    page = explain(analyst, mode="hypothetical", score="12.5", stage="late", known=known)
    page = page.get_data(as_text=True)
    assert asked(page) == ["timeline"]
    assert "Score 12.5 · latest stage reached: late" in page
    assert reasons(page)["budget"] == "Asked only when decision_maker is Yes."


def test_budget_comes_conditioned_with_an_unanswered_decision_maker(analyst):
    known = ["email", "first_name", "company", "zip", "company_size", "industry", "job_title"]
    page = explain(
        analyst, mode="hypothetical", score="12.5", stage="late", known=[*known, "employees"]
    ).get_data(as_text=True)
    assert asked(page) == ["decision_maker", "budget", "timeline"]
    assert (
        '<code>budget</code> <span class="muted">tier qualification</span> <span'
        ' class="condition">Shown in the same form when the answer to decision_maker is'
        " Yes.</span>"
    ) in page
    assert "budget" not in reasons(page)
    assert reasons(page)["job_title"] == (
        "Already answered (2026-03-02); asked again 365 days after the answer."
    )


def test_a_real_contact_is_explained_with_its_answers_and_skips(analyst, client, clock):
    widget = Widget(client)
    assert widget.ask() == ["email", "first_name", "company"]
    response = widget.submit(
        {"email": "pat@acme-corp.example", "first_name": "Pat"}, skipped=["company"]
    )
    assert response.status_code == 200, response.get_json()
    clock.advance(hours=1)
    widget.event("page_view", "early")
    contact_id = db.session.scalars(
        select(Contact.id).where(Contact.email == "pat@acme-corp.example")
    ).one()

    page = explain(client, mode="contact", contact_id=contact_id).get_data(as_text=True)

    assert asked(page) == ["zip"]
    assert "Score 3 · latest stage reached: early" in page
    shown = reasons(page)
    assert shown["email"] == "Already answered (2026-03-02)."
    assert shown["first_name"] == "Already answered (2026-03-02)."
    assert shown["company"] == "Skipped; returns after 3 more engagement events (1 so far)."
    assert shown["company_size"] == "Locked: needs a score of 5 (has 3)."


def test_a_contact_link_opens_the_page_in_contact_mode(analyst, client):
    widget = Widget(client)
    widget.event()  # its first write stores the browser and its anonymous contact
    contact_id = db.session.scalars(select(Contact.id)).one()
    response = client.get(PAGE, query_string={"contact": contact_id})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<input checked id="mode-1" name="mode" type="radio" value="contact">' in page
    assert f'value="{contact_id}"' in page
    assert asked(page) == ["email", "first_name", "company"]


@pytest.mark.parametrize(
    ("query", "field_id", "message"),
    [
        ({"score": "-1"}, "score", "Number must be at least 0."),
        ({"score": "lots"}, "score", "Not a valid decimal value."),
        ({"form": "nope"}, "form", "Not a valid choice."),
        ({"stage": "someday"}, "stage", "Not a valid choice."),
        (
            {"known": ["email", "shoe_size"]},
            "known",
            "&#39;shoe_size&#39; is not a valid choice for this field.",
        ),
        ({"mode": "contact"}, "contact_id", "Enter the id of the contact to explain."),
        ({"mode": "contact", "contact_id": "x1"}, "contact_id", "Not a valid integer value."),
        (
            {"mode": "contact", "contact_id": "0"},
            "contact_id",
            "Number must be between 1 and 2147483647.",
        ),
    ],
)
def test_invalid_input_is_shown_next_to_the_field(analyst, query, field_id, message):
    response = explain(analyst, **query)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_error(page, field_id) == message
    assert f'aria-describedby="{field_id}-error"' in page
    assert 'class="card explanation"' not in page


def test_an_unknown_contact_is_404(analyst):
    assert explain(analyst, mode="contact", contact_id="999").status_code == 404


def test_a_contact_of_another_site_is_404(analyst, client):
    make_site(acme_config(site={"key": "other", "name": "Other", "origins": []}))
    Widget(client, site="other").event()
    contact_id = db.session.scalars(select(Contact.id)).one()
    assert explain(client, mode="contact", contact_id=contact_id).status_code == 404


def test_an_unknown_site_is_404(analyst):
    assert analyst.get("/admin/sites/nope/explain").status_code == 404


def test_the_page_needs_a_login(app, client):
    make_site()
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response.location.startswith("/admin/login?next=")


def test_the_empty_page_shows_the_form_only(analyst):
    page = analyst.get(PAGE).get_data(as_text=True)
    assert '<option selected value="blog">Stay in the loop (blog)</option>' in page
    assert 'class="card explanation"' not in page
    assert field_error(page, "form") == ""


def test_the_home_page_links_to_each_sites_explain_page(analyst):
    assert 'href="/admin/sites/acme/explain"' in analyst.get("/admin/").get_data(as_text=True)


def test_labels_with_markup_are_shown_as_text(app, client):
    create_user("ann@acme.example", "analyst", PASSWORD)
    config = acme_config()
    config["fields"][3] = {**config["fields"][3], "label": "<b>ZIP</b>"}
    make_site(config)
    sign_in(client)
    page = explain(client, mode="hypothetical").get_data(as_text=True)
    assert "<b>ZIP</b>" not in page
    assert "&lt;b&gt;ZIP&lt;/b&gt; (zip)" in page  # the known-fields checkbox
    assert "<td>&lt;b&gt;ZIP&lt;/b&gt;</td><td><code>zip</code></td>" in page


def between(page: str, start: str, end: str) -> str:
    return page[page.index(start) : page.index(end, page.index(start))]


def test_a_real_contact_shows_each_values_trust_and_its_browsers(analyst, client, clock):
    email = "pat@acme-corp.example"
    secret = new_identity_secret("acme", "admin@acme.example", clock())
    phone = Widget(client)
    phone.ask()
    assert phone.submit({"email": email, "first_name": "Pat"}).status_code == 200
    clock.advance(hours=2)
    body = {"visitor": phone.visitor, "email": email, "hash": identity_hash(secret, email)}
    assert phone.post("/identify", body).get_json()["verified"] is True
    stranger = Widget(client)
    stranger.ask()
    assert stranger.submit({"email": email, "company": "Evil Corp"}).status_code == 200
    contact_id = db.session.scalars(select(Contact.id).where(Contact.email == email)).one()

    page = explain(client, mode="contact", contact_id=contact_id).get_data(as_text=True)

    assert (
        "A claimed browser is asked as if the profile held only its own answers (and the"
        " company's confirmed values); what follows is what a verified browser of this contact"
        " is asked."
    ) in " ".join(page.split())
    held = between(page, "<h3>Values held, by trust</h3>", "<h3>Browsers</h3>")
    assert table_rows(held) == [
        ["Work email", "email", "verified", "Browser 1"],
        ["First name", "first_name", "verified", "Browser 1"],
        ["Company", "company", "claimed", "Browser 2"],
    ]
    phone_id, stranger_id = db.session.scalars(select(Visitor.public_id).order_by(Visitor.id))
    assert table_rows(between(page, "<h3>Browsers</h3>", "<h3>Asked")) == [
        [f"Browser 1 {phone_id[:8]}…", "verified", "identity hash", "2026-03-02 11:00 UTC", "2026-03-02 09:00 UTC", "2026-03-02 11:00 UTC"],
        [f"Browser 2 {stranger_id[:8]}…", "claimed", "—", "—", "2026-03-02 11:00 UTC", "2026-03-02 11:00 UTC"],
    ]  # fmt: skip
    assert asked(page) == ["zip"]


def test_a_hypothetical_contact_has_no_values_or_browsers_to_show(analyst):
    page = explain(analyst, mode="hypothetical", known=["email"]).get_data(as_text=True)
    assert 'class="card explanation"' in page
    assert "<h3>Values held, by trust</h3>" not in page
    assert "A claimed browser is asked" not in page


def test_the_consent_line_is_explained_until_it_is_given(app, client, clock):
    create_user("ann@acme.example", "analyst", PASSWORD)
    line = {"key": "news_ok", "label": "Email me news", "kind": "consent", "tier": "basics"}
    config = acme_config(fields=[*acme_config()["fields"], line])
    config["forms"][0]["consent"] = {"field": "news_ok"}
    make_site(config)
    sign_in(client)
    page = explain(client, mode="hypothetical", score="0", stage="none").get_data(as_text=True)
    assert asked(page) == ["email", "first_name", "company", "news_ok"]
    basics = ["email", "first_name", "company", "zip"]
    page = explain(client, mode="hypothetical", score="0", stage="none", known=basics).get_data(
        as_text=True
    )
    assert '<ol class="asked">' not in page
    assert reasons(page)["news_ok"] == (
        "The form's consent line: shown with the form's questions, and none is asked now."
    )
    known = [*basics, "news_ok"]
    page = explain(client, mode="hypothetical", score="0", stage="none", known=known).get_data(
        as_text=True
    )
    assert reasons(page)["news_ok"] == (
        "The form's consent line: given (2026-03-02); shown again if it is withdrawn."
    )
