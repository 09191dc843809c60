"""Erasure and webhooks: every stored payload carrying the person goes, and each destination that
received them (and only those, plus subscribers of contact.deleted) is told, by contact id."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select, update

from app.extensions import db
from app.models import (
    Account,
    Contact,
    ContactErasure,
    Delivery,
    DeliveryAttempt,
    Destination,
    OutboxEvent,
)
from app.models.delivery import DEAD
from app.services.privacy import erase_contact
from app.services.siteconfig import import_site_config
from tests.delivery.support import destination_config, drain
from tests.factories import Widget
from tests.receiver import verify


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def configure(receiver_url: str):
    config = destination_config(receiver_url)
    config["destinations"] += [
        # Never received this contact: its only delivery was dead before any attempt.
        {"key": "warehouse", "url": receiver_url + "/wh", "events": ["contact.updated"]},
        # Subscribed to deletions only: told about every erasure on request.
        {"key": "audit", "url": receiver_url + "/audit", "events": ["contact.deleted"]},
        # Switched off: gets nothing.
        {
            "key": "old",
            "url": receiver_url + "/old",
            "events": ["contact.updated"],
            "enabled": False,
        },
    ]
    return import_site_config(config)


def test_erasure_removes_the_payloads_and_tells_the_destinations_that_received_them(
    app, client, receiver, worker, clock
):
    site = configure(receiver.url)
    warehouse = next(d for d in site.destinations if d.key == "warehouse")
    anonymous = Widget(client)
    anonymous.ask()
    response = anonymous.submit({"first_name": "Ada"}, skipped=["email"])
    assert response.status_code == 200  # an anonymous contact.updated
    db.session.execute(
        update(Delivery).where(Delivery.destination_id == warehouse.id).values(status=DEAD)
    )
    db.session.commit()
    receiver.answer(200)
    assert drain(worker) == 1  # crm got the anonymous contact's update
    owner = Widget(client)
    owner.ask()
    assert owner.submit({"email": "ada@zorblax.example"}).status_code == 200
    clock.advance(minutes=1)
    for _ in range(3):  # the skipped email comes back after three events
        anonymous.event()
    assert anonymous.ask()[0] == "email"
    assert anonymous.submit({"email": "ADA@zorblax.example"}).status_code == 200  # merge
    contact_id = db.session.scalar(select(Contact.id))
    clock.advance(hours=1)

    result = erase_contact("acme", contact_id, requested_by="admin@acme.example", now=clock())

    assert result["notified"] == ["audit", "crm"]
    assert result["removed"]["deliveries"] == 7
    assert result["removed"]["webhook_events"] == 4
    assert result["removed"]["contacts"] == 1
    # Only the two contact.deleted deliveries are left, with nothing about the person.
    left = db.session.scalars(select(Delivery).order_by(Delivery.id)).all()
    assert [(d.event_type, d.contact_id) for d in left] == [
        ("contact.deleted", contact_id),
        ("contact.deleted", contact_id),
    ]
    assert count(DeliveryAttempt) == 0
    assert count(OutboxEvent) == 1
    erasure = db.session.scalar(select(ContactErasure))
    assert (erasure.contact_id, erasure.reason, erasure.requested_by) == (
        contact_id,
        "request",
        "admin@acme.example",
    )
    assert erasure.notified == ["audit", "crm"]
    assert "zorblax" not in json.dumps(erasure.removed)

    receiver.answer(200)
    assert drain(worker) == 2
    deleted = [r for r in receiver.received() if b"contact.deleted" in r.body]
    assert sorted(r.path for r in deleted) == ["/hooks", "/hooks/audit"]
    body = verify(site.destinations[0].secret, next(r for r in deleted if r.path == "/hooks"))
    merged_id = body["data"]["merged_contact_ids"][0]
    assert body["type"] == "contact.deleted"
    assert body["data"] == {
        "contact_id": contact_id,
        "merged_contact_ids": [merged_id],
        "reason": "request",
        "deleted_at": clock().isoformat().replace("+00:00", "Z"),
    }
    assert merged_id != contact_id


def test_a_delivery_in_flight_is_not_overtaken_and_identify_only_receivers_are_spared(
    app, client, receiver, clock
):
    config = destination_config(receiver.url)
    config["destinations"].append(
        {
            "key": "cdp",
            "url": receiver.url + "/cdp",
            "events": ["contact.updated"],
            "format": "segment",
        }
    )
    import_site_config(config)
    widget = Widget(client)
    widget.ask()
    assert widget.submit({"email": "ada@zorblax.example"}).status_code == 200
    contact_id = db.session.scalar(select(Contact.id))
    # Both received it; crm's delivery is being sent right now (a worker holds it for 60 s).
    lease_until = clock() + timedelta(seconds=60)
    for delivery in db.session.scalars(select(Delivery)):
        delivery.attempts = 1
    crm = db.session.scalar(select(Delivery).join(Destination).where(Destination.key == "crm"))
    crm.lease_until, crm.leased_by = lease_until, "w1"
    db.session.commit()

    result = erase_contact("acme", contact_id, requested_by="dpo", now=clock())

    assert result["notified"] == ["crm"]  # cdp takes identify calls only and did not subscribe
    (deleted,) = db.session.scalars(select(Delivery)).all()
    assert deleted.event_type == "contact.deleted"
    assert deleted.next_attempt_at == lease_until


def test_the_company_goes_when_nobody_is_left_in_it(app, client, clock):
    import_site_config(destination_config("https://crm.example/hooks"))
    people = {}
    for email in ("ada@zorblax.example", "bob@zorblax.example"):
        widget = Widget(client)
        widget.ask()
        assert widget.submit({"email": email}).status_code == 200
        people[email] = db.session.scalar(select(Contact.id).where(Contact.email == email))

    first = erase_contact("acme", people["ada@zorblax.example"], requested_by="dpo", now=clock())
    assert first["removed"]["accounts"] == 0  # bob still works there
    assert count(Account) == 1
    last = erase_contact("acme", people["bob@zorblax.example"], requested_by="dpo", now=clock())
    assert last["removed"]["accounts"] == 1
    assert count(Account) == 0
