"""A real ``trickle worker`` process finds a hand-off past its due time and delivers
``contact.sla_breached`` to a destination subscribed to it, signed, once."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Destination, Handoff
from tests.delivery.support import start_worker
from tests.factories import Widget
from tests.receiver import Receiver, verify
from tests.sales.support import sales_config, sales_site


@pytest.fixture
def app_settings() -> dict[str, object]:
    return {"ALLOW_PRIVATE_TARGETS": True}


def test_a_real_worker_sends_the_breach(app, clock, database_url, tmp_path):
    with Receiver() as receiver:
        destination = {
            "key": "crm",
            "url": receiver.url,
            "events": ["contact.sla_breached"],
        }
        # The worker runs on the real clock: the hand-off began 49 hours before it.
        clock.now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=49)
        sales_site(clock(), sales_config(destinations=[destination]))
        widget = Widget(app.test_client())
        widget.ask()
        widget.submit({"email": "ada@acme-corp.example"})
        widget.event("webinar")
        widget.event("webinar")
        started = clock()
        log = tmp_path / "worker.log"
        worker = start_worker(database_url, log)
        try:
            receiver.wait_for(1, timeout=60)
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(30) == 0, log.read_text()
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        [request] = receiver.received()
        body = verify(db.session.scalar(select(Destination.secret)), request)
        assert body["type"] == "contact.sla_breached"
        data = body["data"]
        assert (data["email"], data["team"], data["stage"], data["sla"]) == (
            "ada@acme-corp.example",
            "sales",
            "mql",
            "breached",
        )
        assert data["started_at"] == started.isoformat().replace("+00:00", "Z")
        assert data["due_at"] == (started + timedelta(hours=48)).isoformat().replace("+00:00", "Z")
        db.session.rollback()
        handoff = db.session.scalar(select(Handoff))
        assert handoff.breached_at is not None
        assert data["breached_at"] == handoff.breached_at.isoformat().replace("+00:00", "Z")
