"""The demo's webhook inbox (/demo/inbox): `trickle demo --inbox-url` points a destination at it,
it lists what was signed with that destination's secret, and it exists only with the demo."""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.demo.inbox import KEPT, inbox_of
from app.domain.webhooks import signed_request
from app.extensions import db
from app.models import Delivery, DeliveryAttempt, Destination, Site
from app.services.delivery import DeliveryWorker
from app.services.delivery.http import SendResult
from app.services.siteconfig.signing import rotate_secret
from tests.factories import Widget

INBOX_URL = "http://127.0.0.1:5000/demo/inbox"
OTHER_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
UPDATED = {
    "type": "contact.updated",
    "id": "msg_1",
    "timestamp": "2026-03-02T09:00:00Z",
    "data": {"contact_id": 7, "email": "ada@lovelace.example", "profile": {"first_name": "Ada"}},
}


@pytest.fixture
def app_settings(request: pytest.FixtureRequest) -> dict[str, object]:
    # The demo is on and its inbox is on 127.0.0.1; a test may change settings with indirect
    # parametrization.
    return {"DEMO": True, "ALLOW_PRIVATE_TARGETS": True, **getattr(request, "param", {})}


@pytest.fixture
def inbox(runner) -> Destination:
    result = runner.invoke(args=["demo", "--no-contacts", "--inbox-url", INBOX_URL])
    assert result.exit_code == 0, result.output
    return db.session.scalars(select(Destination).where(Destination.key == "inbox")).one()


def deliver(
    client,
    secret: str,
    clock,
    payload: Any = UPDATED,
    *,
    message_id: str = "msg_1",
    age_seconds: int = 0,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    ip: str = "127.0.0.1",
):
    """POST one request to the inbox, signed with ``secret`` as the worker signs it."""
    timestamp = int(clock().timestamp()) - age_seconds
    signed = signed_request([secret], message_id, timestamp, payload)
    return client.post(
        "/demo/inbox",
        data=signed.body if body is None else body,
        headers={**signed.headers, **(headers or {})},
        environ_base={"REMOTE_ADDR": ip},
    )


def listed(client) -> list[tuple[str, str, Any]]:
    """(event type, webhook-id, body) of every entry the inbox page shows, newest first."""
    page = client.get("/demo/inbox").get_data(as_text=True)
    found = re.findall(
        r"<h2><span>(.*?)</span>.*?<code class=\"muted\">(.*?)</code></h2>\s*<pre>(.*?)</pre>",
        page,
        re.S,
    )
    return [(kind, webhook_id, json.loads(html.unescape(body))) for kind, webhook_id, body in found]


def test_demo_with_an_inbox_url_adds_the_inbox_destination(runner):
    result = runner.invoke(args=["demo", "--no-contacts", "--inbox-url", INBOX_URL])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[3] == (
        f"Demo webhooks (destination 'inbox') are delivered to {INBOX_URL}"
    )
    destination = db.session.scalars(select(Destination)).one()
    assert (destination.key, destination.url, destination.format, destination.enabled) == (
        "inbox",
        INBOX_URL,
        "trickle",
        True,
    )
    assert destination.events == [
        "contact.updated",
        "contact.merged",
        "contact.stage_changed",
        "contact.deleted",
        "contact.outcome_recorded",
        "contact.sla_breached",
        "contact.engaged",
        "definition.changed",
    ]
    assert destination.secret.startswith("whsec_")


def test_demo_refuses_a_private_inbox_url_unless_private_targets_are_allowed(app, runner):
    app.config["ALLOW_PRIVATE_TARGETS"] = False

    result = runner.invoke(args=["demo", "--no-contacts", "--inbox-url", INBOX_URL])

    assert result.exit_code == 1
    assert result.stderr == (
        "error: The config has 1 error.\n"
        "  destinations[0].url: points to a private, loopback or link-local address "
        "(set TRICKLE_ALLOW_PRIVATE_TARGETS=true to allow it)\n"
    )
    assert db.session.scalars(select(Site)).all() == []


def test_a_verified_webhook_is_listed(client, inbox, clock):
    response = deliver(client, inbox.secret, clock)

    assert (response.status_code, response.data) == (204, b"")
    assert listed(client) == [("contact.updated", "msg_1", UPDATED)]
    (entry,) = inbox_of(client.application).entries()
    assert (entry.webhook_id, entry.received_at, entry.event_type) == (
        "msg_1",
        clock(),
        "contact.updated",
    )


@pytest.mark.parametrize(
    ("forgery", "status", "reason"),
    [
        ({"secret": OTHER_SECRET}, 401, "no valid signature"),
        ({"body": json.dumps({**UPDATED, "data": {}}).encode()}, 401, "no valid signature"),
        ({"headers": {"webhook-id": "msg_2"}}, 401, "no valid signature"),
        ({"age_seconds": 301}, 401, "webhook-timestamp is more than 5 minutes from now"),
        ({"age_seconds": -301}, 401, "webhook-timestamp is more than 5 minutes from now"),
        (
            {"headers": {"webhook-signature": ""}},
            400,
            "webhook-id, webhook-timestamp and webhook-signature are required",
        ),
        (
            {"headers": {"webhook-timestamp": "1e9"}},
            400,
            "webhook-timestamp must be a Unix time in seconds",
        ),
    ],
)
def test_a_forged_or_stale_webhook_is_rejected_and_not_listed(
    client, inbox, clock, forgery, status, reason
):
    forgery = dict(forgery)  # the same dict serves the SQLite and the PostgreSQL leg
    secret = forgery.pop("secret", inbox.secret)

    response = deliver(client, secret, clock, **forgery)

    assert (response.status_code, response.get_data(as_text=True)) == (status, reason + "\n")
    assert listed(client) == []
    assert "Nothing yet." in client.get("/demo/inbox").get_data(as_text=True)


def test_html_in_values_is_shown_escaped(client, inbox, clock):
    hostile = {**UPDATED, "data": {"profile": {"first_name": "<script>alert(1)</script>"}}}

    assert deliver(client, inbox.secret, clock, hostile).status_code == 204

    page = client.get("/demo/inbox")
    text = page.get_data(as_text=True)
    assert "<script>" not in text
    assert "&#34;first_name&#34;: &#34;&lt;script&gt;alert(1)&lt;/script&gt;&#34;" in text
    assert page.headers["Content-Security-Policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    )
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_a_retry_is_listed_once_and_only_the_last_50_are_kept(client, inbox, clock):
    assert deliver(client, inbox.secret, clock).status_code == 204
    assert deliver(client, inbox.secret, clock).status_code == 204  # the same webhook-id again
    assert [webhook_id for _, webhook_id, _ in listed(client)] == ["msg_1"]

    for n in range(2, KEPT + 2):
        response = deliver(client, inbox.secret, clock, {**UPDATED}, message_id=f"msg_{n}")
        assert response.status_code == 204

    ids = [webhook_id for _, webhook_id, _ in listed(client)]
    assert ids == [f"msg_{n}" for n in range(KEPT + 1, 1, -1)]


def test_the_previous_secret_still_verifies_during_a_rotation(client, inbox, clock):
    old = inbox.secret
    rotate_secret(inbox, clock())
    db.session.commit()

    assert deliver(client, old, clock).status_code == 204
    clock.advance(hours=24, seconds=1)
    assert deliver(client, old, clock, message_id="msg_2").status_code == 401
    assert deliver(client, inbox.secret, clock, message_id="msg_3").status_code == 204


def test_a_body_over_32_kb_is_refused(client, inbox, clock):
    big = {**UPDATED, "data": {"note": "x" * (32 * 1024)}}

    assert deliver(client, inbox.secret, clock, big).status_code == 413
    assert listed(client) == []


def test_the_inbox_exists_only_while_the_demo_has_its_destination(client, runner, clock):
    assert client.get("/demo/inbox").status_code == 404
    assert deliver(client, OTHER_SECRET, clock).status_code == 404

    runner.invoke(args=["demo"])
    assert client.get("/demo/inbox").status_code == 404

    runner.invoke(args=["demo", "--inbox-url", INBOX_URL])
    assert client.get("/demo/inbox").status_code == 200

    runner.invoke(args=["demo"])  # without the option the destination is archived
    assert client.get("/demo/inbox").status_code == 404


@pytest.mark.parametrize("app_settings", [{"DEMO": False}], indirect=True)
def test_with_the_demo_off_the_inbox_is_404_even_with_its_destination(client, inbox, clock):
    assert client.get("/demo/inbox").status_code == 404
    assert deliver(client, inbox.secret, clock).status_code == 404
    assert inbox_of(client.application).entries() == []


@pytest.mark.parametrize(
    "app_settings",
    [{"RATELIMIT_ENABLED": True, "RATELIMIT_PUBLIC_PER_IP": "2/minute"}],
    indirect=True,
)
def test_the_inbox_is_rate_limited_per_address(client, inbox, clock):
    ip = "198.51.100.7"
    codes = [deliver(client, inbox.secret, clock, ip=ip).status_code for _ in range(3)]

    assert codes == [204, 204, 429]
    assert deliver(client, inbox.secret, clock, ip="198.51.100.8").status_code == 204


def test_a_demo_submit_reaches_the_inbox_through_the_worker(app, client, inbox):
    def through_the_test_client(url, headers, body, *, timeout, allow_private):
        response = client.post(urlsplit(url).path, data=body, headers=headers)
        return SendResult(response.status_code, 1, response.get_data(as_text=True), None, None)

    widget = Widget(client, site="demo", form="blog")
    assert widget.ask() == ["email", "first_name", "company"]
    answers = {"email": "Ada@Lovelace.example", "first_name": "Ada", "company": "Engines"}
    assert widget.submit(answers).status_code == 200

    worker = DeliveryWorker(app, name="demo-worker", sender=through_the_test_client)
    try:
        # the profile update, then the move to "lead"; then nothing is due
        assert [worker.run_once() for _ in range(3)] == [1, 1, 0]
    finally:
        worker.close()

    updated, moved = db.session.scalars(select(Delivery).order_by(Delivery.id)).all()
    attempts = db.session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all()
    assert [(d.status, a.status_code) for d, a in zip([updated, moved], attempts, strict=True)] == [
        ("delivered", 204),
        ("delivered", 204),
    ]
    (stage_kind, stage_id, stage_body), (kind, webhook_id, body) = listed(client)  # newest first
    assert (stage_kind, stage_id) == ("contact.stage_changed", moved.message_id)
    assert (stage_body["data"]["from_stage"], stage_body["data"]["to_stage"]) == (None, "lead")
    assert (kind, webhook_id) == ("contact.updated", updated.message_id)
    assert body["data"]["changed"] == ["email", "first_name", "company"]
    assert body["data"]["profile"] == {
        "company": "Engines",
        "email": "ada@lovelace.example",
        "first_name": "Ada",
    }
