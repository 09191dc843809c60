"""Trust of a browser's link: what a claimed browser may write and withdraw, what verifying
re-applies, and when a company answer spares colleagues (issue 17, rules 3 to 6)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.domain.identity import identity_hash
from app.extensions import db
from app.models import AccountValue, Contact, OutboxEvent, ProfileValue, Submission, Visitor
from app.services.people import mint_links, new_identity_secret
from tests.factories import Widget, acme_config, consent_config, make_site

ADA = "ada@acme-corp.example"
ALWAYS = {"key": "blog", "title": "Hi", "always_ask": ["email", "first_name"], "max_questions": 3}


def values_of(email: str) -> dict[str, Any]:
    contact_id = db.session.scalar(select(Contact.id).where(Contact.email == email))
    rows = db.session.execute(
        select(ProfileValue.field_id, ProfileValue.value, ProfileValue.verified).where(
            ProfileValue.contact_id == contact_id
        )
    )
    from app.models import Field

    keys = dict(db.session.execute(select(Field.id, Field.key)).all())
    return {keys[row.field_id]: (row.value, row.verified) for row in rows}


def ada_on_her_browser(client) -> Widget:
    ada = Widget(client)
    assert ada.ask() == ["email", "first_name", "company"]
    assert ada.submit({"email": ADA, "first_name": "Ada"}).status_code == 200
    return ada


@pytest.fixture
def always(app):
    make_site(acme_config(forms=[ALWAYS]))


def test_a_claimed_browser_fills_blanks_and_changes_only_what_it_said(client, always, clock):
    ada_on_her_browser(client)
    clock.advance(minutes=1)
    other = Widget(client)
    assert other.ask() == ["email", "first_name", "company"]
    other.submit({"email": ADA, "first_name": "Mallory", "company": "Evil"})
    clock.advance(minutes=1)
    assert other.ask() == ["email", "first_name", "zip"]  # its own view: company answered
    other.submit({"email": ADA, "first_name": "Mal", "zip": "666"})

    assert values_of(ADA) == {
        "email": (ADA, False),
        "first_name": ("Ada", False),  # another browser's value: kept
        "company": ("Evil", False),  # was blank: filled
        "zip": ("666", False),
    }
    claims = db.session.execute(
        select(Submission.value, Submission.applied).order_by(Submission.id)
    ).all()
    assert [tuple(c) for c in claims if c.value in ("Mallory", "Mal")] == [
        ("Mallory", False),
        ("Mal", False),
    ]


def test_a_field_may_let_claims_overwrite(client, app, clock):
    config = acme_config(forms=[ALWAYS])
    config["fields"][1] = {**config["fields"][1], "overwrite": "claimed"}
    make_site(config)
    ada_on_her_browser(client)
    other = Widget(client)
    other.ask()
    other.submit({"email": ADA, "first_name": "Ada L.", "company": "Acme"})

    assert values_of(ADA)["first_name"] == ("Ada L.", False)


def test_the_config_refuses_an_unknown_overwrite_rule(app):
    from app.services.errors import Invalid

    config = acme_config()
    config["fields"][1] = {**config["fields"][1], "overwrite": "anyone"}
    with pytest.raises(Invalid) as refused:
        make_site(config)
    assert refused.value.fields == {"fields[1].overwrite": ["must be one of: verified, claimed"]}


def test_verifying_reapplies_the_browsers_newer_claims(client, always, clock):
    ada_on_her_browser(client)
    clock.advance(minutes=1)
    laptop = Widget(client)
    laptop.ask()
    laptop.submit({"email": ADA, "first_name": "Ada L."})
    assert values_of(ADA)["first_name"] == ("Ada", False)
    clock.advance(minutes=1)

    secret = new_identity_secret("acme", "admin@acme.example", clock())
    assert laptop.identify(email=ADA, hash=identity_hash(secret, ADA))

    # Both of the laptop's answers are now the values, verified.
    assert values_of(ADA) == {"email": (ADA, True), "first_name": ("Ada L.", True)}
    visitor = db.session.scalars(select(Visitor).where(Visitor.trust == "verified")).one()
    assert (visitor.verified_by, visitor.verified_at) == ("identity_hash", clock())
    update = db.session.scalars(  # the latest: by id (without an order PostgreSQL picks any)
        select(OutboxEvent.payload)
        .where(OutboxEvent.type == "contact.updated")
        .order_by(OutboxEvent.id)
    ).all()[-1]
    assert update["changed"] == ["first_name"]
    assert update["values"]["first_name"] == {
        "value": "Ada L.",
        "source": "browser",
        "verified": True,
        "at": "2026-03-02T09:01:00Z",
    }


def test_a_claimed_browser_withdraws_only_the_consents_it_gave(client, app, clock):
    make_site(consent_config())
    ada = Widget(client)
    assert "newsletter" in ada.ask()
    assert ada.submit({"email": ADA, "newsletter": True}).status_code == 200
    other = Widget(client)
    other.ask()
    other.submit({"email": ADA, "newsletter": True})  # confirms: the same answer
    for widget in (other, ada):
        response = widget.post(
            "/consents/withdraw", {"visitor": widget.visitor, "fields": ["newsletter"]}
        )
        assert response.get_json() == {"visitor": widget.visitor}
        if widget is other:
            assert values_of(ADA)["newsletter"] == (True, False)

    assert values_of(ADA)["newsletter"] == (False, False)


def test_a_verified_browser_withdraws_any_consent_of_its_person(client, app, clock):
    make_site(consent_config())
    ada = Widget(client)
    ada.ask()
    ada.submit({"email": ADA, "newsletter": True})
    secret = new_identity_secret("acme", None, clock())
    phone = Widget(client)
    assert phone.identify(email=ADA, hash=identity_hash(secret, ADA))
    phone.post("/consents/withdraw", {"visitor": phone.visitor, "fields": ["newsletter"]})

    assert values_of(ADA)["newsletter"] == (False, True)


def firmographics(client, email: str, size: str) -> Widget:
    """A browser that gives ``email`` and answers the company's size and industry."""
    widget = Widget(client, form="case_study")
    for n in range(2):
        widget.event("content_download", id=f"{email}-{n}")
    answers = {"email": email, "first_name": "X", "company": "Acme", "zip": "1"}
    answers |= {"company_size": size, "industry": "Software", "job_title": "T", "employees": 5}
    while keys := widget.ask():
        assert widget.submit({k: answers[k] for k in keys}).status_code == 200
        if "company_size" in keys:
            return widget
    raise AssertionError("company_size was never asked")


def account_value() -> tuple[Any, bool]:
    row = db.session.scalars(select(AccountValue).order_by(AccountValue.id)).first()
    return row.value, row.trusted


@pytest.fixture
def case_study(app):
    forms = [{"key": "case_study", "title": "Read", "stage": "mid", "max_questions": 9}]
    make_site(acme_config(forms=forms))


def test_a_company_answer_is_a_candidate_until_a_second_contact_agrees(client, case_study):
    firmographics(client, "guess@acme-corp.example", "1-10")
    assert account_value() == ("1-10", False)
    firmographics(client, "bob@acme-corp.example", "200+")
    assert account_value() == ("200+", False)  # a newer candidate, still not trusted
    firmographics(client, "carol@acme-corp.example", "200+")
    assert account_value() == ("200+", True)  # two contacts agree

    dave = Widget(client, form="case_study")
    for n in range(2):
        dave.event("content_download", id=f"dave-{n}")
    dave.ask()
    dave.submit(
        {"email": "dave@acme-corp.example", "first_name": "D", "company": "Acme", "zip": "1"}
    )
    offered = dave.ask()
    assert offered == ["job_title", "employees"]  # size and industry: both agreed by two


def test_a_verified_contacts_company_answer_is_trusted_at_once(client, case_study, clock):
    secret = new_identity_secret("acme", None, clock())
    owner = Widget(client, form="case_study")
    assert owner.identify(
        email="ceo@acme-corp.example", hash=identity_hash(secret, "ceo@acme-corp.example")
    )
    for n in range(2):
        owner.event("content_download", id=f"ceo-{n}")
    answers = {"first_name": "C", "company": "Acme", "zip": "1", "company_size": "51-200"}
    answers |= {"industry": "Finance", "job_title": "CEO", "employees": 60}
    while keys := owner.ask():
        owner.submit({k: answers[k] for k in keys})
    assert account_value() == ("51-200", True)
    # A colleague is not asked it.
    bob = Widget(client, form="case_study")
    for n in range(2):
        bob.event("content_download", id=f"bob-{n}")
    bob.ask()
    bob.submit({"email": "bob@acme-corp.example", "first_name": "B", "company": "Acme", "zip": "1"})
    assert "company_size" not in bob.ask()


def test_skips_belong_to_the_browser_that_skipped(client, always, clock):
    ada = ada_on_her_browser(client)
    assert ada.ask() == ["email", "first_name", "company"]
    assert ada.submit({"email": ADA}, skipped=["company"]).status_code == 200
    other = Widget(client)
    other.ask()
    other.submit({"email": ADA})
    assert other.ask() == ["email", "first_name", "company"]  # Ada's skip is not its own
    assert ada.ask() == ["email", "first_name", "zip"]


def test_a_signed_link_verifies_the_browser_that_opens_it(client, always, clock):
    ada_on_her_browser(client)
    new_identity_secret("acme", None, clock())
    [link] = mint_links("acme", [" ADA@acme-corp.example "], clock(), days=30)
    assert ADA not in link.token and "ada" not in link.token.lower()
    phone = Widget(client)
    assert phone.identify(link=link.token)
    assert phone.ask() == ["email", "first_name", "company"]  # always-asked ones, and company
    assert values_of(ADA)["email"] == (ADA, False)
    visitor = db.session.scalars(select(Visitor).where(Visitor.trust == "verified")).one()
    assert visitor.verified_by == "link"
