"""The contact page tells how far each value and each browser is trusted: verified, claimed,
imported; claims kept without being applied; company values confirmed or still candidates."""

from __future__ import annotations

from sqlalchemy import select

from app.domain.identity import identity_hash
from app.extensions import db
from app.models import Field, ProfileValue, Visitor
from app.services.people import new_identity_secret
from tests.console import table_rows
from tests.factories import Widget

ADA = "ada@acme.example"


def page(client, contact_id: int) -> str:
    response = client.get(f"/admin/sites/acme/contacts/{contact_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(html: str, heading: str) -> str:
    start = html.index(f"<h2>{heading}</h2>")
    return html[start : html.index("</section>", start)]


def answer(widget: Widget, answers: dict) -> None:
    offered = widget.ask()
    response = widget.submit({key: answers[key] for key in offered if key in answers})
    assert response.status_code == 200, response.get_json()


def verify(widget: Widget, secret: str, email: str) -> None:
    """The site's backend vouches for the browser: an identity hash of the email."""
    body = {"visitor": widget.visitor, "email": email, "hash": identity_hash(secret, email)}
    response = widget.post("/identify", body)
    assert response.get_json()["verified"] is True
    widget.visitor = response.get_json()["visitor"]


def test_values_and_browsers_show_their_trust_and_claims_are_marked(client, site, analyst, clock):
    secret = new_identity_secret("acme", "admin@acme.example", clock())
    phone = Widget(client)
    answer(phone, {"email": ADA, "first_name": "Ada", "company": "Acme"})
    clock.advance(hours=2)
    verify(phone, secret, ADA)  # her own site's login vouches for her phone
    clock.advance(hours=2)
    stranger = Widget(client)  # someone else types her email on another computer
    answer(stranger, {"email": ADA, "first_name": "Mallory", "company": "Evil Corp"})
    answer(stranger, {"zip": "66666"})  # a blank: a claim fills it

    html = page(client, 1)

    assert table_rows(section(html, "Current values")) == [
        ["Work email email", ADA, "verified", "blog", "Browser 1", "2026-03-02 09:00 UTC"],
        ["First name first_name", "Ada", "verified", "blog", "Browser 1", "2026-03-02 09:00 UTC"],
        ["Company company", "Acme", "verified", "blog", "Browser 1", "2026-03-02 09:00 UTC"],
        ["ZIP code zip", "66666", "claimed", "blog", "Browser 2", "2026-03-02 13:00 UTC"],
    ]  # fmt: skip
    assert '<span class="tag trust-claimed">claimed</span>' in section(html, "Current values")
    phone_id, stranger_id = db.session.scalars(select(Visitor.public_id).order_by(Visitor.id))
    assert table_rows(section(html, "Browsers")) == [
        [f"Browser 1 {phone_id[:8]}…", "verified", "identity hash", "2026-03-02 11:00 UTC", "2026-03-02 09:00 UTC", "2026-03-02 11:00 UTC"],
        [f"Browser 2 {stranger_id[:8]}…", "claimed", "—", "—", "2026-03-02 13:00 UTC", "2026-03-02 13:00 UTC"],
    ]  # fmt: skip
    history = section(html, "Where each value came from")
    start = history.index('id="provenance-first_name"')
    first_name = history[start : history.index("</details>", start)]
    # Her first answer was given while her phone was still claimed: history keeps that trust.
    assert table_rows(first_name) == [
        ["Mallory", "Ada", "blog", "Browser 2", "claim, not applied", "2026-03-02 13:00 UTC"],
        ["Ada", "—", "blog", "Browser 1", "claimed", "2026-03-02 09:00 UTC"],
    ]
    assert '<tr class="claim">' in first_name


def test_an_imported_value_is_marked_imported_and_names_no_browser(client, site, analyst):
    answer(Widget(client), {"email": ADA, "first_name": "Ada", "company": "Acme"})
    company = select(Field.id).where(Field.key == "company").scalar_subquery()
    row = db.session.scalar(select(ProfileValue).where(ProfileValue.field_id == company))
    row.source, row.verified, row.visitor_id = "crm", True, None
    db.session.commit()

    rows = table_rows(section(page(client, 1), "Current values"))

    assert rows[2] == ["Company company", "Acme", "imported", "blog", "—", "2026-03-02 09:00 UTC"]


def test_a_company_value_is_a_candidate_until_a_second_colleague_agrees(
    client, site, analyst, clock
):
    for n, email in enumerate(["bob@globex.example", "cy@globex.example"]):
        widget = Widget(client)
        answer(widget, {"email": email, "first_name": "B", "company": "Globex"})
        for k in range(2):  # enough engagement for the firmographics tier
            widget.event("content_download", id=f"{n}-{k}")
        answer(widget, {"zip": "10115", "company_size": "11-50", "industry": "Retail"})
        if n == 0:  # after Bob alone, a colleague sees a candidate
            answer(Widget(client), {"email": "dee@globex.example"})
            rows = table_rows(section(page(client, 2), "Current values"))
            assert rows[-2:] == [
                ["Company size company_size", "11-50", "candidate", "account", "—", "2026-03-02 09:00 UTC"],
                ["Industry industry", "Retail", "candidate", "account", "—", "2026-03-02 09:00 UTC"],
            ]  # fmt: skip

    rows = table_rows(section(page(client, 2), "Current values"))  # Dee, once Cy agreed

    assert rows[-2:] == [
        ["Company size company_size", "11-50", "confirmed", "account", "—", "2026-03-02 09:00 UTC"],
        ["Industry industry", "Retail", "confirmed", "account", "—", "2026-03-02 09:00 UTC"],
    ]  # fmt: skip
