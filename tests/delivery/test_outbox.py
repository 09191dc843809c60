"""The transactional outbox: a profile change, its event and its deliveries commit together or
not at all, and a submit that changes nothing sends nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Delivery, OutboxEvent, ProfileValue
from app.services.asking import submit as submissions
from tests.delivery.support import drain
from tests.factories import Widget


def counts() -> tuple[int, int, int]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (ProfileValue, OutboxEvent, Delivery)
    )


def test_a_failure_before_commit_leaves_no_value_no_event_no_delivery(
    app, client, site, receiver, worker, monkeypatch
):
    widget = Widget(client)
    assert widget.ask() == ["email", "first_name", "company"]
    reached = []

    def fail_late(*args, **kwargs):
        # Runs after the values, the event and its delivery were added to the session.
        reached.append(counts_in_session())
        raise RuntimeError("crash before commit")

    def counts_in_session():
        db.session.flush()
        return counts()

    monkeypatch.setattr(submissions, "select_questions", fail_late)
    response = widget.submit({"email": "ann@zorblax.example", "first_name": "Ann"})

    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    assert reached == [(2, 1, 1)]  # all three were written in the transaction...
    db.session.rollback()
    assert counts() == (0, 0, 0)  # ...and none survived it
    assert drain(worker) == 0

    monkeypatch.undo()
    assert widget.submit({"email": "ann@zorblax.example", "first_name": "Ann"}).status_code == 200
    assert counts() == (2, 1, 1)
    event = db.session.scalars(select(OutboxEvent)).one()
    delivery = db.session.scalars(select(Delivery)).one()
    assert (event.type, event.payload["changed"]) == ("contact.updated", ["email", "first_name"])
    assert (delivery.outbox_event_id, delivery.status) == (event.id, "pending")
    assert drain(worker) == 1
    assert receiver.ids() == [delivery.message_id]


def test_a_submit_that_changes_nothing_emits_no_event(app, client, site, receiver, worker):
    widget = Widget(client)
    widget.ask()
    answers = {"email": "ann@zorblax.example", "first_name": "Ann"}
    assert widget.submit(answers).status_code == 200
    assert counts() == (2, 1, 1)

    # The same answers again under the same ask token: stored in the history, no change.
    assert widget.submit({"email": "ANN@zorblax.example ", "first_name": "Ann"}).status_code == 200
    assert counts() == (2, 1, 1)

    assert widget.submit({"email": "ann@zorblax.example", "first_name": "Annie"}).status_code == 200
    assert counts() == (2, 2, 2)
    changed = db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id.desc())).first()
    assert changed.payload["changed"] == ["first_name"]
    assert drain(worker) == 2
