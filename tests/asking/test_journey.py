"""A visitor's whole journey through HTTP: basics first, firmographics once they come back,
qualification only after late-stage engagement, and never a question they answered."""

from __future__ import annotations

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
    assert data["form"] == {"title": "Stay in the loop", "submit_label": "Subscribe"}
    assert data["questions"][0] == {
        "key": "email",
        "label": "Work email",
        "kind": "email",
        "required": True,
    }
    assert data["questions"][1] == {
        "key": "first_name",
        "label": "First name",
        "kind": "text",
        "required": False,
        "max_length": 80,
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
    assert a.ask() == ["decision_maker", "timeline"]
    a.submit({"decision_maker": True, "timeline": "This quarter"})
    assert a.ask() == ["budget"]  # its dependency now holds
    a.submit({"budget": "> 100k"})
    assert a.ask() == []

    # A second browser of the same person, typing the email in another case.
    b = Widget(client)
    answer_basics_b = b.ask()
    assert answer_basics_b == ["email", "first_name", "company"]
    assert b.submit({"email": "  annika@ZORBLAX.example ", "first_name": ""}).status_code == 200
    assert b.ask() == []  # merged: nothing the first browser answered is asked again

    # A colleague at the same company is not asked the account-level fields.
    c = Widget(client)
    answer_basics(c, "bobbert@zorblax.example", first_name="Bobbert")
    for _ in range(6):
        c.event("page_view", "early")
    assert c.ask() == ["zip", "job_title", "employees"]

    # A free-mail user forms no account, so they are.
    d = Widget(client)
    answer_basics(d, "someone@gmail.com")
    for _ in range(6):
        d.event("page_view", "early")
    assert d.ask() == ["zip", "company_size", "industry"]

    for widget in (a, b, c, d):
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


def test_a_merge_keeps_the_identified_contact_and_the_newer_values(app, client, site, clock):
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Contact, ContactMerge, OutboxEvent, ProfileValue

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
    # The identity value is stored normalised, as it is compared.
    assert sorted(values.values()) == ["Anni", "Zorblax", "annika@zorblax.example"]
    merge = db.session.scalars(select(ContactMerge)).one()
    assert merge.survivor_id == owner_id
    merged = db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "contact.merged"))
    assert [e.payload["contact_id"] for e in merged] == [owner_id]


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
