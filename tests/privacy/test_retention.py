"""Retention: idle anonymous contacts and the old delivery log go, once a day per site."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import (
    Contact,
    Delivery,
    DeliveryAttempt,
    EngagementEvent,
    OutboxEvent,
    Site,
    Submission,
    Visitor,
)
from app.services.delivery import DeliveryWorker
from app.services.errors import NotFound
from app.services.outbox import queue_delivery as _queue
from app.services.outbox import record_outbox
from app.services.privacy import retention, run_due
from app.services.privacy.retention import run_retention
from app.services.tokens import read_visitor_token
from tests.factories import Widget, acme_config, make_site

N, M = 30, 90  # anonymous_retention_days, delivery_retention_days
CRM = {
    "key": "crm",
    "url": "http://127.0.0.1:9/hooks",
    "events": ["contact.updated", "contact.deleted"],
}


@pytest.fixture
def app_settings() -> dict[str, object]:
    return {"ALLOW_PRIVATE_TARGETS": True}  # the destination's URL is on 127.0.0.1


def retention_site(key: str = "acme", anonymous: int | None = N, deliveries: int | None = M):
    config = acme_config(destinations=[CRM])
    config["site"] = {
        **config["site"],
        "key": key,
        "anonymous_retention_days": anonymous,
        "delivery_retention_days": deliveries,
    }
    return make_site(config)


def days_ago(clock, days: float):
    return clock.now - timedelta(days=days)


def contact(site, created, *, updated=None, seen=None, event=None, email=None) -> int:
    """A contact with one visitor (last seen at ``seen``) and, at ``event``, one page view."""
    row = Contact(site_id=site.id, email=email, created_at=created, updated_at=updated or created)
    db.session.add(row)
    db.session.flush()
    visitor = Visitor(
        site_id=site.id,
        public_id=uuid.uuid4().hex,
        contact_id=row.id,
        created_at=created,
        last_seen_at=seen or created,
    )
    db.session.add(visitor)
    db.session.flush()
    if event is not None:
        db.session.add(
            EngagementEvent(
                site_id=site.id,
                contact_id=row.id,
                visitor_id=visitor.id,
                kind="page_view",
                stage="early",
                occurred_at=event,
            )
        )
    db.session.commit()
    return row.id


def contact_ids() -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(select(Contact.id)))


def counts(report) -> tuple[int, int, int, int]:
    return report.contacts, report.deliveries, report.attempts, report.webhook_events


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# -- anonymous contacts ------------------------------------------------------------------


def test_an_idle_anonymous_contact_goes_with_its_visitors_and_events(client, clock):
    retention_site()
    widget = Widget(client)
    widget.ask()
    widget.event("page_view")
    widget.event("content_download")
    assert (count(Contact), count(Visitor), count(EngagementEvent)) == (1, 1, 2)
    clock.advance(days=N + 1)

    report = run_retention("acme", clock.now)

    assert report.contacts == 1
    assert {table: n for table, n in report.contact_rows.items() if n} == {
        "events": 2,
        "visitors": 1,
        "contacts": 1,
    }
    assert (count(Contact), count(Visitor), count(EngagementEvent)) == (0, 0, 0)
    # The browser comes back: it starts afresh, as a new visitor, stored at its first write.
    gone = read_visitor_token("acme", widget.visitor)
    widget.ask()
    assert read_visitor_token("acme", widget.visitor) != gone
    assert count(Contact) == 0
    widget.event("page_view")
    assert (count(Contact), count(Visitor)) == (1, 1)
    assert db.session.scalar(select(Visitor.public_id)) != gone


def test_only_anonymous_contacts_idle_for_more_than_n_days_without_submissions_go(app, clock):
    site = retention_site()
    old = days_ago(clock, N + 40)
    idle = contact(site, days_ago(clock, N + 1))
    kept = {
        "idle N-1 days": contact(site, days_ago(clock, N - 1)),
        "idle exactly N days": contact(site, days_ago(clock, N)),
        "identified": contact(site, days_ago(clock, N + 1), email="ada@acme-corp.example"),
        "with a submission": contact(site, days_ago(clock, N + 1)),
        "a recent event": contact(site, old, event=days_ago(clock, N - 1)),
        "seen recently": contact(site, old, seen=days_ago(clock, N - 1)),
        "updated recently": contact(site, old, updated=days_ago(clock, N - 1)),
    }
    idle_with_old_event = contact(site, old, event=days_ago(clock, N + 1))
    field_id = next(f.id for f in site.fields if f.key == "first_name")
    db.session.add(
        Submission(
            site_id=site.id,
            contact_id=kept["with a submission"],
            field_id=field_id,
            form_key="blog",
            value="Ada",
            created_at=days_ago(clock, N + 1),
        )
    )
    db.session.commit()

    report = run_retention("acme", clock.now)

    assert report.contacts == 2
    assert contact_ids() == set(kept.values())
    assert idle not in contact_ids() and idle_with_old_event not in contact_ids()
    assert count(Visitor) == len(kept)
    assert count(EngagementEvent) == 1  # the recent one's
    assert count(Submission) == 1


def test_a_site_without_retention_settings_keeps_everything(app, clock):
    site = retention_site(anonymous=None, deliveries=None)
    idle = contact(site, days_ago(clock, 10 * 365))
    delivery = _queue(
        site.destinations[0], "contact.updated", idle, {}, days_ago(clock, 3650), None
    )
    delivery.status = "delivered"
    db.session.commit()

    report = run_retention("acme", clock.now)

    assert report.summary() == "acme: no retention set, nothing removed"
    assert counts(report) == (0, 0, 0, 0)
    assert contact_ids() == {idle}
    assert count(Delivery) == 1
    assert db.session.get(Site, site.id).retention_ran_at == clock.now


def test_receivers_that_got_an_anonymous_contact_are_told_it_is_deleted(app, clock):
    site = retention_site(deliveries=None)
    idle = contact(site, days_ago(clock, N + 1))
    sent = _queue(site.destinations[0], "contact.updated", idle, {}, days_ago(clock, N + 1), None)
    sent.status = "delivered"
    db.session.commit()

    report = run_retention("acme", clock.now)

    assert report.contacts == 1
    assert report.contact_rows["deliveries"] == 1
    deleted = db.session.scalars(select(OutboxEvent)).one()
    assert (deleted.type, deleted.contact_id) == ("contact.deleted", idle)
    assert deleted.payload["reason"] == "retention"
    queued = db.session.scalars(select(Delivery)).one()
    assert (queued.outbox_event_id, queued.status) == (deleted.id, "pending")


def test_an_unknown_site_is_not_found(app, clock):
    with pytest.raises(NotFound):
        run_retention("nope", clock.now)


# -- the delivery log ----------------------------------------------------------------------


def old_and_new_deliveries(site, clock) -> dict[str, Delivery]:
    """Deliveries at M+1 days (delivered, dead, pending, a delivered test event without an
    outbox event) and at M-1 days (delivered), with 2, 3, 1, 1 and 1 attempts; an old outbox
    event no destination wanted; all for an identified contact."""
    person = contact(site, days_ago(clock, 400), email="ada@acme-corp.example")
    old, recent = days_ago(clock, M + 1), days_ago(clock, M - 1)
    made = {}
    for name, when, status in (
        ("delivered", old, "delivered"),
        ("dead", old, "dead"),
        ("pending", old, "pending"),
        ("recent", recent, "delivered"),
    ):
        record_outbox(site.id, "contact.updated", person, {"n": name}, when)
        db.session.flush()
        made[name] = db.session.scalars(select(Delivery).order_by(Delivery.id.desc())).first()
        made[name].status = status
    made["test event"] = _queue(site.destinations[0], "test", None, {}, old, None)
    made["test event"].status = "delivered"
    record_outbox(site.id, "contact.merged", person, {}, old)  # no destination wants it
    db.session.flush()
    for name, attempts in (
        ("delivered", 2),
        ("dead", 3),
        ("pending", 1),
        ("test event", 1),
        ("recent", 1),
    ):
        for n in range(attempts):
            db.session.add(
                DeliveryAttempt(
                    delivery_id=made[name].id,
                    destination_id=made[name].destination_id,
                    attempted_at=made[name].created_at + timedelta(minutes=n),
                    outcome="retry",
                )
            )
    db.session.commit()
    return made


def test_finished_deliveries_older_than_m_days_go_with_their_attempts_and_events(app, clock):
    site = retention_site()
    made = old_and_new_deliveries(site, clock)
    kept_ids = {made["pending"].id, made["recent"].id}
    kept_events = {made["pending"].outbox_event_id, made["recent"].outbox_event_id}

    report = run_retention("acme", clock.now)

    assert counts(report) == (0, 3, 6, 3)
    db.session.expire_all()
    assert set(db.session.scalars(select(Delivery.id))) == kept_ids
    assert set(db.session.scalars(select(OutboxEvent.id))) == kept_events
    assert sorted(db.session.scalars(select(DeliveryAttempt.delivery_id))) == sorted(kept_ids)


def test_a_delivery_counts_its_age_from_when_it_finished(app, clock):
    site = retention_site()
    made = old_and_new_deliveries(site, clock)
    # Created long ago, retried for days: dead (and replayable) only since M-1 days.
    made["dead"].dead_at = days_ago(clock, M - 1)
    made["delivered"].delivered_at = days_ago(clock, M + 0.5)
    db.session.commit()

    report = run_retention("acme", clock.now)

    assert counts(report) == (0, 2, 3, 2)
    db.session.expire_all()
    assert set(db.session.scalars(select(Delivery.id))) == {
        made["pending"].id,
        made["recent"].id,
        made["dead"].id,
    }


def test_counts_are_logged_one_line_per_site_and_returned(app, clock, caplog):
    site = retention_site()
    old_and_new_deliveries(site, clock)
    contact(site, days_ago(clock, N + 1))
    caplog.set_level(logging.INFO, logger="trickle.retention")

    report = run_retention("acme", clock.now)

    line = "acme: 1 anonymous contact, 3 deliveries, 6 attempts, 3 webhook events removed"
    assert report.summary() == line
    assert [r.getMessage() for r in caplog.records if r.name == "trickle.retention"] == [
        f"retention {line}"
    ]


def test_work_is_done_in_batches_each_committed(app, clock, monkeypatch):
    site = retention_site()
    old_and_new_deliveries(site, clock)
    for _ in range(5):
        contact(site, days_ago(clock, N + 1))
    units = []
    real = retention.commit_unit

    def counted(work):
        units.append(work.func.__name__)
        return real(work)

    monkeypatch.setattr(retention, "BATCH", 2)
    monkeypatch.setattr(retention, "commit_unit", counted)

    report = run_retention("acme", clock.now)

    assert counts(report) == (5, 3, 6, 3)
    # 5 contacts: 2 + 2 + 1, then an empty look; 3 deliveries: 2 + 1, then empty; 3 events.
    assert units == ["_anonymous_batch"] * 4 + ["_delivery_batch"] * 3 + ["_event_batch"] * 3


# -- daily, in the worker ------------------------------------------------------------------


@pytest.fixture
def worker(app: Flask):
    running = DeliveryWorker(app, name="test-worker")
    yield running
    running.close()


def ran_at(key: str):
    db.session.expire_all()
    return db.session.scalars(select(Site.retention_ran_at).where(Site.key == key)).one()


def test_the_worker_runs_retention_once_a_day_per_site(app, clock, worker):
    acme = retention_site(deliveries=None)
    retention_site("globex", anonymous=None, deliveries=None)
    first = contact(acme, days_ago(clock, N + 1))
    started = clock.now

    assert [r.summary() for r in worker.run_maintenance()] == [
        "acme: 1 anonymous contact, 0 deliveries, 0 attempts, 0 webhook events removed"
    ]
    assert first not in contact_ids()
    assert (ran_at("acme"), ran_at("globex")) == (started, None)  # globex keeps everything

    second = contact(acme, days_ago(clock, N + 1))
    clock.advance(hours=23, minutes=59)
    assert worker.run_maintenance() == []
    assert second in contact_ids()
    assert ran_at("acme") == started

    clock.advance(minutes=1)
    assert [r.contacts for r in worker.run_maintenance()] == [1]
    assert second not in contact_ids()
    assert ran_at("acme") == clock.now


def test_a_site_another_worker_claimed_today_is_left_alone(app, clock):
    site = retention_site()
    idle = contact(site, days_ago(clock, N + 1))
    db.session.execute(update(Site).values(retention_ran_at=clock.now - timedelta(hours=1)))
    db.session.commit()

    assert run_due(clock.now) == []
    assert idle in contact_ids()


def test_two_workers_at_once_run_a_site_once(app, clock):
    retention_site()
    retention_site("globex")
    for key in ("acme", "globex"):
        site = db.session.scalars(select(Site).where(Site.key == key)).one()
        contact(site, days_ago(clock, N + 1))
    reports: list[str] = []
    start = threading.Barrier(2)

    def work() -> None:
        with app.app_context():
            start.wait()
            reports.extend(r.site for r in run_due(clock.now))
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(reports) == ["acme", "globex"]
    assert contact_ids() == set()


def test_one_failing_site_does_not_stop_the_others(app, clock, monkeypatch, caplog):
    for key in ("acme", "globex"):
        contact(retention_site(key), days_ago(clock, N + 1))
    real = retention._anonymous_batch

    def failing(site, *args):
        if site.key == "acme":
            raise RuntimeError("disk full")
        return real(site, *args)

    monkeypatch.setattr(retention, "_anonymous_batch", failing)

    assert [r.site for r in run_due(clock.now)] == ["globex"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        "retention acme failed; it runs again tomorrow"
    ]
    assert ran_at("acme") == clock.now  # claimed: tried again tomorrow, not in a loop


def test_the_idle_worker_looks_at_most_once_an_hour(app, clock, worker, monkeypatch):
    calls = []
    monkeypatch.setattr("app.services.delivery.worker.run_due", lambda now: calls.append(now))

    worker.maintain_if_due()
    worker.maintain_if_due()
    clock.advance(minutes=59)
    worker.maintain_if_due()
    assert calls == [clock.now - timedelta(minutes=59)]
    clock.advance(minutes=1)
    worker.maintain_if_due()
    assert calls == [clock.now - timedelta(hours=1), clock.now]


def test_the_worker_loop_runs_retention_when_idle(app, clock, worker):
    contact(retention_site(), days_ago(clock, N + 1))
    stop = threading.Event()

    worker.run(stop, idle=stop.set)  # one idle turn, then stop

    assert contact_ids() == set()
    assert ran_at("acme") == clock.now


def test_a_retention_failure_is_logged_and_the_worker_goes_on(
    app, clock, worker, monkeypatch, caplog
):
    def broken(now):
        raise RuntimeError("database restarting")

    monkeypatch.setattr("app.services.delivery.worker.run_due", broken)
    turns = []
    stop = threading.Event()

    def idle() -> None:
        turns.append(clock.now)
        clock.advance(hours=1)
        if len(turns) == 2:
            stop.set()

    worker.run(stop, idle=idle)

    assert len(turns) == 2
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in failures] == [
        "worker test-worker: retention failed; trying again later"
    ] * 2
    assert worker.run_maintenance() == []
