"""A contact sales recycled qualifies again only after new engagement (requalify_after)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Contact
from tests.factories import Widget
from tests.sales.support import moves, sales_site, stage_of

URL = "/api/v1/sites/acme/contacts/by-email/ada@acme-corp.example/outcomes"


def recycle(client, token, clock, kind="recycled", key="r1", **extra):
    body = {
        "kind": kind,
        "occurred_at": clock().isoformat(),
        "by": "rep@acme.example",
        "idempotency_key": key,
        **extra,
    }
    response = client.post(URL, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()


def test_a_recycled_contact_waits_for_min_new_score_more_points(app, clock):
    token = sales_site(clock())  # mql at score 10; requalify_after: {min_new_score: 15}
    client = app.test_client()
    widget = Widget(client)
    widget.ask()
    assert widget.submit({"email": "ada@acme-corp.example"}).status_code == 200  # 2 points
    widget.event("webinar")
    widget.event("webinar")  # 12: mql
    contact = db.session.scalar(select(Contact.id))
    assert stage_of(contact) == "mql"
    recycle(client, token, clock, reason="not_ready")
    assert stage_of(contact) == "nurture"
    assert db.session.get(Contact, contact).requalify_score == 27
    widget.event("webinar")
    widget.event("webinar")  # 22: mql's rule holds, but the hold does not let go yet
    assert stage_of(contact) == "nurture"
    widget.event("webinar")  # 27
    assert stage_of(contact) == "mql"
    assert db.session.get(Contact, contact).requalify_score is None
    assert [(f, t) for f, t, _ in moves()] == [
        (None, "lead"),
        ("lead", "mql"),
        ("mql", "nurture"),
        ("nurture", "mql"),
    ]


def test_sales_accepting_again_lifts_the_hold(app, clock):
    token = sales_site(clock())
    client = app.test_client()
    widget = Widget(client)
    widget.ask()
    widget.submit({"email": "ada@acme-corp.example"})
    contact = db.session.scalar(select(Contact.id))
    recycle(client, token, clock, reason="not_ready")
    clock.advance(minutes=1)
    recycle(client, token, clock, kind="accepted", key="a1")
    assert stage_of(contact) == "sal"
    assert db.session.get(Contact, contact).requalify_score is None
