"""An ask writes nothing (issue 18, item 8): a browser's visitor and its anonymous contact are
stored at its first write (event, submit, identify), under the id its ask token was granted to."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from app.domain.specs import ContactState
from app.extensions import db
from app.models import Contact, EngagementEvent, Submission, Visitor
from app.services.people import load_contact_state, resolve_visitor
from app.services.siteconfig import site_snapshot
from app.services.tokens import read_visitor_token, visitor_token
from tests.factories import Widget, consent_config, make_site


@pytest.fixture
def app_settings() -> dict[str, object]:
    return {"RATELIMIT_ENABLED": False}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def rows() -> tuple[int, int]:
    return count(Contact), count(Visitor)


def public_ids() -> list[str]:
    return db.session.scalars(select(Visitor.public_id)).all()


def asked(client) -> Widget:
    widget = Widget(client)
    assert widget.ask() == ["email", "first_name", "company"]
    assert rows() == (0, 0)
    return widget


def test_sixty_asks_without_a_token_store_nothing_and_each_get_a_visitor_of_its_own(client, site):
    widgets = [asked(client) for _ in range(60)]

    assert rows() == (0, 0)
    ids = [read_visitor_token("acme", widget.visitor) for widget in widgets]
    assert None not in ids
    assert len(set(ids)) == 60
    assert all(len(public_id) == 32 for public_id in ids)


def test_asking_again_before_any_write_keeps_the_same_visitor(client, site):
    widget = asked(client)
    first = widget.visitor

    assert widget.ask() == ["email", "first_name", "company"]
    assert widget.visitor == first
    assert rows() == (0, 0)


def test_the_first_submit_stores_the_visitor_its_ask_was_granted_to(client, site):
    widget = asked(client)
    granted = read_visitor_token("acme", widget.visitor)

    response = widget.submit({"email": "ann@zorblax.example", "first_name": "Ann"})

    assert response.status_code == 200, response.get_json()
    assert rows() == (1, 1)
    assert public_ids() == [granted]
    assert response.get_json()["visitor"] == visitor_token("acme", granted)
    assert db.session.scalar(select(Contact.email)) == "ann@zorblax.example"
    assert count(Submission) == 2
    assert widget.ask() == ["company", "zip"]


def test_the_first_event_stores_the_visitor_and_its_anonymous_contact(client, site):
    widget = asked(client)
    granted = read_visitor_token("acme", widget.visitor)

    widget.event("page_view")

    assert rows() == (1, 1)
    assert public_ids() == [granted]
    assert read_visitor_token("acme", widget.visitor) == granted
    assert db.session.scalar(select(Contact.email)) is None
    assert count(EngagementEvent) == 1
    # The ask token of the first ask still holds for the stored visitor.
    assert widget.submit({"email": "ann@zorblax.example"}).status_code == 200
    assert rows() == (1, 1)


def test_an_unproven_identify_after_an_ask_stores_the_visitor_under_its_id(client, site):
    widget = asked(client)
    granted = read_visitor_token("acme", widget.visitor)

    assert widget.identify(email="ann@zorblax.example", hash="ab" * 32) is False

    assert rows() == (1, 1)
    assert public_ids() == [granted]


def test_withdrawing_before_any_write_stores_nothing(client, app):
    make_site(consent_config())
    widget = Widget(client)
    assert widget.ask() == ["email", "newsletter", "first_name"]

    for fields, status in (([], 422), (["first_name"], 422), (["newsletter"], 200)):
        response = widget.post("/consents/withdraw", {"visitor": widget.visitor, "fields": fields})
        assert response.status_code == status, response.get_json()
    assert response.get_json() == {"visitor": widget.visitor}
    assert rows() == (0, 0)


def forged(public_id: str) -> str:
    return URLSafeSerializer("not-our-secret", salt="trickle.visitor").dumps(
        {"s": "acme", "v": public_id}
    )


def test_a_forged_or_foreign_token_on_an_event_gets_a_new_visitor(client, site):
    for token in (forged("f" * 32), visitor_token("other", "f" * 32), "not a token"):
        response = client.post(
            "/api/v1/sites/acme/events", json={"kind": "page_view", "visitor": token}
        )
        assert response.status_code == 202
        issued = read_visitor_token("acme", response.get_json()["visitor"])
        assert issued is not None
        assert issued != "f" * 32

    assert rows() == (3, 3)
    assert "f" * 32 not in public_ids()


def test_a_forged_token_on_a_submit_is_refused_and_stores_nothing(client, site):
    widget = asked(client)
    granted = read_visitor_token("acme", widget.visitor)

    response = client.post(
        "/api/v1/sites/acme/forms/blog/submit",
        json={
            "visitor": forged(granted),
            "ask_token": widget.ask_token,
            "answers": {"email": "ann@zorblax.example"},
        },
    )

    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"ask_token": ["Invalid or tampered token."]}
    assert rows() == (0, 0)


def test_a_returning_visitor_keeps_its_token_and_its_contact(client, site):
    widget = asked(client)
    widget.event("page_view")
    stored = widget.visitor

    assert widget.ask() == ["email", "first_name", "company"]
    assert widget.visitor == stored
    response = widget.submit({"email": "ann@zorblax.example"})
    assert response.get_json()["visitor"] == stored
    assert widget.ask() == ["first_name", "company", "zip"]
    assert widget.visitor == stored
    assert rows() == (1, 1)


def test_an_erased_browser_starts_over_as_a_new_visitor_at_its_next_write(client, site, clock):
    """A token issued for a stored visitor names nobody once that visitor is erased: the next
    ask and write make a new visitor, and the old ask token is refused."""
    from app.services.privacy import erase_contact

    widget = asked(client)
    widget.event("page_view")
    gone = read_visitor_token("acme", widget.visitor)
    stale_ask = widget.ask_token
    erase_contact("acme", db.session.scalar(select(Contact.id)), requested_by="dpo", now=clock())
    assert rows() == (0, 0)

    response = widget.submit({"email": "ann@zorblax.example"})
    assert response.status_code == 409
    assert widget.ask_token == stale_ask
    widget.event("page_view")
    assert rows() == (1, 1)
    assert read_visitor_token("acme", widget.visitor) != gone
    assert public_ids() == [read_visitor_token("acme", widget.visitor)]


def test_a_new_visitor_is_asked_from_the_state_of_an_empty_contact(app, site, clock):
    """What an ask assumes of a browser it has not stored is what a stored new one has."""
    snapshot = site_snapshot("acme")
    visitor = resolve_visitor(snapshot, None, clock())
    assert load_contact_state(snapshot, visitor.contact, clock(), visitor) == ContactState()
    assert load_contact_state(snapshot, visitor.contact, clock()) == ContactState()
