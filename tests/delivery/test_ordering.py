"""Events reach a receiver in the order they happened, per contact: a failing event holds back
the later ones of its contact (and only of its contact) until it is delivered or dead."""

from __future__ import annotations

from tests.delivery.support import deliveries, drain, fresh, queue
from tests.receiver import Answer


def test_a_failing_event_holds_back_later_events_of_its_contact_only(clock, site, receiver, worker):
    a1 = queue(site, 1, n=1)
    a2 = queue(site, 1, n=2)
    b1 = queue(site, 2, n=1)
    a3 = queue(site, 1, n=3)
    receiver.script_for(a1.message_id, Answer(500), Answer(500))

    assert drain(worker) == 2
    assert sorted(receiver.ids()) == sorted([a1.message_id, b1.message_id])
    assert fresh(b1).status == "delivered"

    # a2 and a3 are due, a1 is not yet: nothing goes out for contact 1.
    clock.advance(seconds=3)
    b2 = queue(site, 2, n=2)
    assert drain(worker) == 1
    assert receiver.ids()[2:] == [b2.message_id]

    clock.now = fresh(a1).next_attempt_at
    assert drain(worker) == 1  # a1 fails again; a2 and a3 still wait
    assert receiver.ids()[3:] == [a1.message_id]
    assert (fresh(a2).status, a2.attempts, fresh(a3).attempts) == ("pending", 0, 0)

    clock.now = fresh(a1).next_attempt_at
    assert drain(worker) == 3
    assert receiver.ids()[4:] == [a1.message_id, a2.message_id, a3.message_id]
    assert [d.status for d in deliveries()] == ["delivered"] * 5
    assert [d.attempts for d in deliveries()] == [3, 1, 1, 1, 1]


def test_a_dead_event_releases_the_later_ones_in_order(clock, site, receiver, worker):
    a1 = queue(site, 1, n=1)
    a2 = queue(site, 1, n=2)
    a3 = queue(site, 1, n=3)
    receiver.script_for(a1.message_id, *[Answer(503)] * 8)

    for _ in range(7):
        assert drain(worker) == 1
        assert (fresh(a1).status, fresh(a2).attempts) == ("pending", 0)
        clock.now = a1.next_attempt_at

    # The 8th failure dead-letters a1; a2 and a3 follow at once, in order.
    assert drain(worker) == 3
    assert (fresh(a1).status, a1.attempts) == ("dead", 8)
    assert receiver.ids() == [a1.message_id] * 8 + [a2.message_id, a3.message_id]
    assert [d.status for d in deliveries()] == ["dead", "delivered", "delivered"]


def test_events_without_a_contact_are_not_held_back(site, receiver, worker):
    first = queue(site, None, n=1)
    second = queue(site, None, n=2)
    receiver.script_for(first.message_id, Answer(500))
    assert drain(worker) == 2
    assert (fresh(first).status, fresh(second).status) == ("pending", "delivered")
