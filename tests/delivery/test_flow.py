"""A submit reaches the receiver: signed, once, with the whole profile."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.extensions import db
from app.models import Delivery, DeliveryAttempt
from tests.delivery.support import drain
from tests.factories import Widget
from tests.receiver import verify


def test_a_submit_is_delivered_signed_with_the_profile(client, site, destination, receiver, worker):
    widget = Widget(client)
    widget.ask()
    assert widget.submit({"email": "Ada@Example.com", "first_name": "Ada"}).status_code == 200

    assert drain(worker) == 1
    (request,) = receiver.received()
    payload = verify(destination.secret, request)
    assert payload["type"] == "contact.updated"
    assert payload["data"]["changed"] == ["email", "first_name"]
    assert payload["data"]["profile"] == {"email": "ada@example.com", "first_name": "Ada"}
    delivery = db.session.scalars(select(Delivery)).one()
    assert (delivery.status, delivery.attempts, delivery.message_id) == (
        "delivered",
        1,
        request.headers["webhook-id"],
    )
    assert bytes(delivery.body) == request.body
    attempt = db.session.scalars(select(DeliveryAttempt)).one()
    assert (attempt.status_code, attempt.outcome, attempt.response) == (200, "delivered", "ok")
    assert json.loads(request.body)["id"] == delivery.message_id
