"""``trickle worker --once`` and ``trickle deliveries status|replay``."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Delivery
from app.services.siteconfig import import_site_config
from tests.delivery.support import deliveries, destination_config, drain, queue
from tests.receiver import Answer


def test_worker_once_sends_what_is_due_and_prints_the_count(runner, clock, site, receiver):
    first, second, failing = queue(site, 1), queue(site, 2), queue(site, 3)
    receiver.script_for(failing.message_id, Answer(500))
    later = queue(site, 4, when=clock.now.replace(hour=10))  # not due yet

    result = runner.invoke(args=["worker", "--once"])

    assert result.exit_code == 0, result.output
    assert result.stdout == "Sent 3 deliveries.\n"
    assert sorted(receiver.ids()) == sorted(
        [first.message_id, second.message_id, failing.message_id]
    )
    assert [d.status for d in deliveries()] == ["delivered", "delivered", "pending", "pending"]
    assert later.attempts == 0

    again = runner.invoke(args=["worker", "--once"])
    assert again.stdout == "Sent 0 deliveries.\n"


def test_replay_sends_again_under_the_same_webhook_id(runner, clock, site, receiver, worker):
    old = queue(site, 1, n=1)
    clock.advance(hours=3)
    recent = queue(site, 2, n=2)
    dead = queue(site, 3, n=3)
    dead_id = dead.id
    db.session.execute(
        Delivery.__table__.update().where(Delivery.id == dead_id).values(status="dead")
    )
    db.session.commit()
    assert drain(worker) == 2
    clock.advance(hours=1)

    result = runner.invoke(args=["deliveries", "replay", "--destination", "crm", "--since", "2h"])

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Queued 2 deliveries to crm since 2026-03-02T11:00:00+00:00; "
        "a running worker sends them now.\n"
    )
    assert drain(worker) == 2
    ids = receiver.ids()
    assert sorted(ids[2:]) == sorted([recent.message_id, dead.message_id])
    assert (ids.count(old.message_id), ids.count(recent.message_id)) == (1, 2)
    bodies: dict[str, set[bytes]] = {}
    for request in receiver.received():
        bodies.setdefault(request.headers["webhook-id"], set()).add(request.body)
    assert bodies[recent.message_id] == {bytes(recent.body)}
    assert bodies[dead.message_id] == {bytes(dead.body)}
    assert [d.status for d in deliveries()] == ["delivered"] * 3


def test_replay_queues_events_a_destination_never_got(runner, clock, site, receiver, worker):
    queue(site, 1, n=1)
    queue(site, 2, n=2)
    drain(worker)
    config = destination_config(receiver.url)
    config["destinations"].append(
        {"key": "backup", "url": receiver.url + "/backup", "events": ["contact.updated"]}
    )
    import_site_config(config)
    clock.advance(minutes=10)

    result = runner.invoke(
        args=["deliveries", "replay", "--destination", "backup", "--site", "acme", "--since", "1h"]
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "Queued 2 deliveries to backup since 2026-03-02T08:10:00+00:00;"
    )
    assert drain(worker) == 2
    backup = [r for r in receiver.received() if r.path == "/hooks/backup"]
    assert sorted(r.headers["webhook-id"] for r in backup) == sorted(
        d.message_id for d in deliveries() if d.destination_id != site.destinations[0].id
    )
    assert len({r.headers["webhook-id"] for r in receiver.received()}) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--destination", "nope", "--since", "2h"], 'error: No destination "nope".'),
        (
            ["--destination", "crm", "--site", "other", "--since", "2h"],
            'error: No destination "crm" on site "other".',
        ),
        (
            ["--destination", "crm", "--since", "yesterday"],
            'error: "yesterday" is not a time: use an ISO date or time (2026-11-20, '
            "2026-11-20T09:00Z) or a span back from now (30m, 6h, 3d).",
        ),
        (
            ["--destination", "crm", "--since", "2027-01-01"],
            'error: "2027-01-01" is in the future.',
        ),
        (
            ["--destination", "crm", "--since", "99999999999d"],
            'error: "99999999999d" is too far back.',
        ),
        (
            ["--destination", "crm", "--since", "999999999d"],
            'error: "999999999d" is too far back.',
        ),
    ],
)
def test_replay_refuses_what_it_cannot_do(runner, site, args, message):
    queue(site, 1)
    before = [(d.status, d.attempts) for d in deliveries()]

    result = runner.invoke(args=["deliveries", "replay", *args])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == message + "\n"
    assert [(d.status, d.attempts) for d in deliveries()] == before


def test_a_key_used_by_two_sites_needs_the_site(runner, app, site, receiver):
    config = copy.deepcopy(destination_config(receiver.url))
    config["site"]["key"] = "beta"
    import_site_config(config)

    result = runner.invoke(args=["deliveries", "replay", "--destination", "crm", "--since", "1h"])
    assert result.exit_code == 1
    assert result.stderr == (
        'error: Several sites have a destination "crm" (acme, beta); name one.\n'
    )
    named = runner.invoke(
        args=["deliveries", "replay", "--destination", "crm", "--site", "beta", "--since", "1h"]
    )
    assert named.exit_code == 0, named.output


def test_status_lists_each_destination_with_its_counts(runner, clock, site, receiver, worker):
    status = runner.invoke(args=["deliveries", "status"])
    assert status.stdout == f"acme/crm\tactive\tpending 0\tdelivered 0\tdead 0\t{receiver.url}\n"

    queue(site, 1)
    queue(site, 2)
    stuck = queue(site, 3)
    receiver.script_for(stuck.message_id, *[Answer(410)])
    drain(worker)
    db.session.execute(
        Delivery.__table__.update().where(Delivery.id == queue(site, 4).id).values(status="dead")
    )
    db.session.commit()

    result = runner.invoke(args=["deliveries", "status"])

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"acme/crm\tsuspended\tpending 1\tdelivered 2\tdead 1\t{receiver.url}\n"
    )
    assert runner.invoke(args=["deliveries", "status", "--site", "zzz"]).stdout == (
        "No destinations.\n"
    )
    assert db.session.scalar(select(Delivery.status).where(Delivery.id == stuck.id)) == "pending"


def with_secrets(url: str) -> str:
    return url.replace("http://", "http://bob:S3cret@") + "?api_key=XYZ"


def test_status_and_the_worker_log_mask_a_destination_url(
    runner, clock, site, destination, receiver, worker, caplog
):
    """Only the admin's destination page shows the URL whole: the command's output and the
    worker's log lines are read by more people."""
    destination.url = with_secrets(receiver.url)
    db.session.commit()
    masked = receiver.url.replace("http://", "http://***:***@") + "?api_key=***"
    sent = queue(site, 1)

    with caplog.at_level("INFO", logger="trickle.worker"):
        drain(worker)

    assert [r.path for r in receiver.received()] == ["/hooks?api_key=XYZ"]
    [line] = [r.getMessage() for r in caplog.records if r.name == "trickle.worker"]
    assert line.startswith(f"delivery {sent.message_id} {masked} -> delivered (200, ")
    status = runner.invoke(args=["deliveries", "status"])
    assert status.stdout == f"acme/crm\tactive\tpending 0\tdelivered 1\tdead 0\t{masked}\n"
