"""A visitor's whole journey through HTTP: basics first, firmographics once they come back,
qualification only after late-stage engagement, and never a question they answered."""

from __future__ import annotations

import pytest

from app.domain.identity import identity_hash
from app.services.people import new_identity_secret
from tests.factories import Widget, make_site

SECRET_VALUES = ["Annika", "Zorblax", "10115", "Head of Zorbing", "Bobbert", "annika@zorblax"]


def answer_basics(widget: Widget, email: str, first_name: str = "Annika") -> None:
    assert widget.ask() == ["email", "first_name", "company"]
    response = widget.submit({"email": email, "first_name": first_name, "company": "Zorblax"})
    assert response.status_code == 200, response.get_json()


def test_first_ask_offers_basics_with_email_first(client, site):
    widget = Widget(client)
    response = widget.post("/forms/blog/ask", {})
    data = response.get_json()
    assert response.status_code == 200
    assert [q["key"] for q in data["questions"]] == ["email", "first_name", "company"]
    assert data["complete"] is False
    strings = data["form"].pop("strings")  # the interface text: test_interface_language.py
    assert (strings["submit"], strings["skip"]) == ("Submit", "Skip")
    assert data["form"] == {
        "title": "Stay in the loop",
        "submit_label": "Subscribe",
        "language": "en",
        "dir": "ltr",
        "max_questions": 3,
    }
    assert data["questions"][0] == {
        "key": "email",
        "label": "Work email",
        "kind": "email",
        "required": True,
        "autocomplete": "email",
    }
    assert data["questions"][1] == {
        "key": "first_name",
        "label": "First name",
        "kind": "text",
        "required": False,
        "max_length": 80,
        "autocomplete": "given-name",
    }


def test_the_journey_from_basics_to_qualification(client, site, clock):
    a = Widget(client)
    answer_basics(a, "Annika@Zorblax.example")

    assert a.ask() == ["zip"]  # remaining basics; firmographics locked at score 2
    assert a.submit({"zip": "10115"}).get_json() == {
        "visitor": a.visitor,
        "complete": True,  # score 4: firmographics still locked
        "message": "Thanks!",
    }
    assert a.ask() == []

    for _ in range(6):  # six early-stage articles: score 10
        a.event("page_view", "early")
    assert a.ask() == ["company_size", "industry", "job_title"]
    response = a.submit(
        {"company_size": "200+", "industry": "Software", "job_title": "Head of Zorbing"}
    )
    assert response.status_code == 200
    assert a.ask() == ["employees"]
    a.submit({"employees": 250})
    # Score 14 but only early-stage engagement: intrusive questions stay locked.
    assert a.ask() == []

    a.event("webinar", "late")
    # budget comes conditioned (shown once decision_maker is Yes); left blank, it waits.
    assert a.ask() == ["decision_maker", "budget", "timeline"]
    a.submit({"decision_maker": True, "timeline": "This quarter"})
    assert a.ask() == ["budget"]  # its dependency now holds
    a.submit({"budget": "> 100k"})
    assert a.ask() == []

    # A second browser that merely types the email (in another case) is asked as a stranger:
    # what the first browser answered is not its to see.
    b = Widget(client)
    answer_basics_b = b.ask()
    assert answer_basics_b == ["email", "first_name", "company"]
    assert b.submit({"email": "  annika@ZORBLAX.example ", "first_name": ""}).status_code == 200
    assert b.ask() == ["first_name", "company", "zip"]

    # The same person on a second device, proven by the site's identity hash, is not re-asked.
    secret = new_identity_secret("acme", "admin@acme.example", clock())
    e = Widget(client)
    assert e.identify(
        email="annika@zorblax.example", hash=identity_hash(secret, "ANNIKA@zorblax.example")
    )
    assert e.ask() == []

    # A colleague: the first contact's company answers are only a candidate until a second
    # contact of the company gives the same, so the colleague is asked them...
    c = Widget(client)
    answer_basics(c, "bobbert@zorblax.example", first_name="Bobbert")
    for _ in range(6):
        c.event("page_view", "early")
    assert c.ask() == ["zip", "company_size", "industry"]
    c.submit({"zip": "10115", "company_size": "200+", "industry": "Software"})
    # ...and, now confirmed, they spare the next colleague.
    f = Widget(client)
    answer_basics(f, "fenja@zorblax.example", first_name="Fenja")
    for _ in range(6):
        f.event("page_view", "early")
    assert f.ask() == ["zip", "job_title", "employees"]

    # A free-mail user forms no account, so they are.
    d = Widget(client)
    answer_basics(d, "someone@gmail.com")
    for _ in range(6):
        d.event("page_view", "early")
    assert d.ask() == ["zip", "company_size", "industry"]

    for widget in (a, b, c, d, e, f):
        for body in widget.bodies:
            for value in SECRET_VALUES:
                assert value.lower() not in body.lower()


def test_a_skipped_question_returns_only_after_the_cooldown(client, site, clock):
    w = Widget(client)
    assert w.ask() == ["email", "first_name", "company"]
    response = w.submit({"email": "skip@zorblax.example", "first_name": "Sam"}, skipped=["company"])
    assert response.status_code == 200
    clock.advance(minutes=1)
    assert w.ask() == ["zip"]
    w.event()
    w.event()
    assert w.ask() == ["zip"]  # two events since the skip: cooldown is three
    w.event()
    assert w.ask() == ["company", "zip", "company_size"]  # score 5 unlocks firmographics too


def test_job_title_returns_after_365_days(client, site, clock):
    w = Widget(client)
    answer_basics(w, "old@zorblax.example")
    for _ in range(6):
        w.event()
    assert w.ask() == ["zip", "company_size", "industry"]
    w.submit({"zip": "10115", "company_size": "1-10", "industry": "Retail"})
    assert w.ask() == ["job_title", "employees"]
    w.submit({"job_title": "Head of Zorbing", "employees": 5})
    assert w.ask() == []
    clock.advance(days=365)
    assert w.ask() == []
    clock.advance(seconds=1)
    assert w.ask() == ["job_title"]


def test_a_merge_keeps_the_identified_contact_and_its_values_against_a_claim(
    app, client, site, clock
):
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Contact, ContactMerge, OutboxEvent, ProfileValue, Submission

    first = Widget(client)
    answer_basics(first, "annika@zorblax.example")
    owner_id = db.session.scalar(select(Contact.id).where(Contact.email.is_not(None)))
    clock.advance(minutes=5)
    second = Widget(client)
    assert second.ask() == ["email", "first_name", "company"]
    second.submit({"email": "ANNIKA@zorblax.example", "first_name": "Anni", "company": " "})

    assert db.session.scalar(select(func.count()).select_from(Contact)) == 1
    values = {
        row.field_id: row.value
        for row in db.session.scalars(
            select(ProfileValue).where(ProfileValue.contact_id == owner_id)
        )
    }
    # The identity value is stored normalised, as it is compared. The second browser only
    # claimed the email: its newer first name is kept as a claim, not as the value.
    assert sorted(values.values()) == ["Annika", "Zorblax", "annika@zorblax.example"]
    history = db.session.execute(select(Submission.value, Submission.applied)).all()
    assert [tuple(row) for row in history if row.value == "Anni"] == [("Anni", False)]
    merge = db.session.scalars(select(ContactMerge)).one()
    assert merge.survivor_id == owner_id
    merged = db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "contact.merged"))
    assert [e.payload["contact_id"] for e in merged] == [owner_id]


@pytest.mark.parametrize(("verified", "first_name"), [(True, "Anni"), (False, "Annika")])
def test_only_a_verified_second_browser_replaces_what_the_first_said(
    app, client, clock, verified, first_name
):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import ProfileValue
    from tests.factories import acme_config

    form = {"key": "blog", "title": "Hello", "always_ask": ["first_name"], "max_questions": 3}
    make_site(acme_config(forms=[form]))
    first = Widget(client)
    assert first.ask() == ["email", "first_name", "company"]
    first.submit({"email": "annika@zorblax.example", "first_name": "Annika"})
    clock.advance(minutes=5)
    secret = new_identity_secret("acme", None, clock())
    second = Widget(client)
    email = "annika@zorblax.example"
    proof = identity_hash(secret, email) if verified else "0" * 64
    assert second.identify(email=email, hash=proof) is verified
    offered = second.ask()
    assert offered == (
        ["first_name", "company", "zip"] if verified else ["email", "first_name", "company"]
    )
    answers = {"email": email, "first_name": "Anni"}
    assert second.submit({k: answers[k] for k in offered if k in answers}).status_code == 200

    values = db.session.scalars(select(ProfileValue.value)).all()
    assert sorted(values) == sorted([first_name, email])


def test_a_shared_computer_repoints_and_leaves_the_first_person_untouched(app, client, site):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Contact, ProfileValue

    config_form = {"key": "blog", "title": "Hello", "always_ask": ["email"], "max_questions": 3}
    from tests.factories import acme_config

    make_site(acme_config(forms=[config_form]))
    w = Widget(client)
    answer_basics(w, "annika@zorblax.example")
    assert w.ask() == ["email", "zip"]
    w.submit({"email": "bobbert@zorblax.example", "zip": "99999"})
    contacts = {c.email: c.id for c in db.session.scalars(select(Contact))}
    assert sorted(contacts) == ["annika@zorblax.example", "bobbert@zorblax.example"]
    first_values = db.session.scalars(
        select(ProfileValue.value).where(
            ProfileValue.contact_id == contacts["annika@zorblax.example"]
        )
    ).all()
    assert sorted(first_values) == ["Annika", "Zorblax", "annika@zorblax.example"]
    assert w.ask() == ["email", "first_name", "company"]  # now Bobbert, who gave only zip
