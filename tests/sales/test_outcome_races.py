"""The same outcome sent many times at once, over real HTTP on real connections: every sender
gets the one answer, and one outcome, one stage move and one webhook are recorded."""

from __future__ import annotations

import http.client
import json
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxEvent, SalesOutcome, StageChange
from tests.sales.support import add_contact, sales_site, stage_of
from tests.test_concurrent_writes import TIMEOUT, address, app_settings, together  # noqa: F401

SENDERS = 6


def send(server: tuple[str, int], token: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    connection = http.client.HTTPConnection(*server, timeout=TIMEOUT)
    try:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        connection.request("POST", path, json.dumps(body), headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_one_key_sent_at_once_is_recorded_once(app, clock, address):  # noqa: F811
    token = sales_site(clock())
    contact = add_contact("acme", "ada@acme-corp.example")
    db.session.remove()  # the test's session holds nothing open while the server writes
    body = {
        "kind": "accepted",
        "occurred_at": clock().isoformat(),
        "by": "rep@acme.example",
        "idempotency_key": "crm-4711",
    }
    path = f"/api/v1/sites/acme/contacts/{contact}/outcomes"
    answers = together([lambda: send(address, token, path, body)] * SENDERS)
    assert {status for status, _ in answers} == {201}
    assert all(data == answers[0][1] for _, data in answers)
    assert answers[0][1]["stage"] == {"from": "mql", "to": "sal"}
    assert (count(SalesOutcome), count(StageChange), count(OutboxEvent)) == (1, 1, 2)
    assert stage_of(contact) == "sal"
