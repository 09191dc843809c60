"""Which destinations an event is queued for, and what body each one gets."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from app.extensions import db
from app.models import Delivery, OutboxEvent
from app.services.siteconfig import import_site_config
from tests.delivery.support import destination_config, drain
from tests.factories import Widget
from tests.receiver import verify


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def submit(client, answers, form="blog"):
    widget = Widget(client, form=form)
    widget.ask()
    assert widget.submit(answers).status_code == 200
    return widget


def test_a_destination_switched_off_in_the_config_gets_nothing(app, client, receiver, worker):
    import_site_config(destination_config(receiver.url, enabled=False))

    submit(client, {"email": "ann@zorblax.example"})

    assert (count(OutboxEvent), count(Delivery)) == (1, 0)
    assert drain(worker) == 0
    assert receiver.received() == []


def test_only_the_subscribed_event_types_are_queued(app, client, receiver, worker):
    import_site_config(destination_config(receiver.url, events=["contact.merged"]))
    owner = submit(client, {"email": "ann@zorblax.example"})
    assert count(Delivery) == 0

    # The same person on a second browser: identifying merges the anonymous contact.
    stranger = Widget(client)
    stranger.ask()
    stranger.event("page_view")
    stranger.submit({"email": "ANN@zorblax.example"})

    assert owner.visitor != stranger.visitor
    assert [d.event_type for d in db.session.scalars(select(Delivery))] == ["contact.merged"]
    assert drain(worker) == 1
    (request,) = receiver.received()
    assert json.loads(request.body)["type"] == "contact.merged"


def test_a_segment_destination_gets_an_identify_call_with_mapped_traits(
    app, client, receiver, worker
):
    config = destination_config(receiver.url, format="segment", mapping={"first_name": "firstName"})
    site = import_site_config(config)
    submit(client, {"email": "kim@zorblax.example", "first_name": "Kim"})

    assert drain(worker) == 1
    (request,) = receiver.received()
    body = verify(site.destinations[0].secret, request)
    delivery = db.session.scalars(select(Delivery)).one()
    assert body == {
        "type": "identify",
        "userId": str(delivery.contact_id),
        "traits": {"email": "kim@zorblax.example", "firstName": "Kim"},
        "messageId": delivery.message_id,
        "timestamp": "2026-03-02T09:00:00Z",
    }


def test_a_destination_removed_from_the_config_gets_nothing_more(app, client, receiver, worker):
    import_site_config(destination_config(receiver.url))
    submit(client, {"email": "ann@zorblax.example"})
    import_site_config(destination_config(receiver.url) | {"destinations": []})
    submit(client, {"email": "bob@zorblax.example"})

    assert (count(OutboxEvent), count(Delivery)) == (2, 1)
    # What was queued before the removal is not sent to an archived destination either.
    assert drain(worker) == 0


def test_a_suspended_destination_queues_but_sends_nothing_until_re_enabled(
    app, client, receiver, worker, clock
):
    from app.services.delivery.attempts import suspend
    from app.services.delivery.operations import resume

    site = import_site_config(destination_config(receiver.url))
    (destination,) = site.destinations
    suspend(destination, clock(), "The receiver answered 410 Gone.")
    db.session.commit()
    submit(client, {"email": "ann@zorblax.example"})
    submit(client, {"email": "bob@zorblax.example"})

    assert count(Delivery) == 2
    assert drain(worker) == 0

    clock.advance(hours=3)
    resume(destination, clock())
    db.session.commit()
    assert drain(worker) == 2
    # Two contacts: sent side by side, so in either order.
    assert sorted(json.loads(r.body)["data"]["email"] for r in receiver.received()) == [
        "ann@zorblax.example",
        "bob@zorblax.example",
    ]


def test_a_merge_waits_for_the_merged_contacts_earlier_events(app, client, receiver, worker, clock):
    from tests.receiver import Answer

    config = destination_config(receiver.url)
    config["forms"].append({"key": "short", "title": "Quick one", "fields": ["first_name"]})
    import_site_config(config)
    submit(client, {"email": "ann@zorblax.example"})
    assert drain(worker) == 1

    # The same person, not yet known, on another browser: their answer fails to go out once.
    stranger = Widget(client, form="short")
    stranger.ask()
    receiver.script(Answer(500))
    assert stranger.submit({"first_name": "Ann"}).status_code == 200
    assert drain(worker) == 1
    # They identify: the anonymous contact merges into Ann's.
    stranger.form = "blog"
    stranger.ask()
    assert stranger.submit({"email": "ANN@zorblax.example"}).status_code == 200

    assert drain(worker) == 0  # the merge waits behind the failed update
    clock.advance(seconds=6)
    assert drain(worker) == 3
    sent = [json.loads(r.body) for r in receiver.received()]
    assert [(b["type"], b["data"].get("changed")) for b in sent] == [
        ("contact.updated", ["email"]),
        ("contact.updated", ["first_name"]),
        ("contact.updated", ["first_name"]),
        ("contact.merged", None),
        ("contact.updated", ["first_name"]),
    ]
