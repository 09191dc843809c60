"""Signatures as a receiver checks them: the standardwebhooks package, tampering, secret rotation."""

from __future__ import annotations

import base64
import dataclasses
from datetime import timedelta

import pytest
from standardwebhooks import WebhookVerificationError

from app.extensions import db
from app.services.siteconfig import import_site_config
from app.services.siteconfig.signing import rotate_secret
from tests.delivery.support import destination_config, drain, fresh, queue
from tests.factories import Widget
from tests.receiver import Answer, Received, verify

NEW = "whsec_" + base64.b64encode(bytes(range(32))).decode()
OTHER = "whsec_" + base64.b64encode(bytes(range(100, 132))).decode()


def signatures(request: Received) -> list[str]:
    return request.headers["webhook-signature"].split(" ")


def test_every_delivered_request_verifies(client, site, destination, receiver, worker):
    for email in ("ann@zorblax.example", "bob@zorblax.example", "cy@quux.example"):
        widget = Widget(client)
        widget.ask()
        assert widget.submit({"email": email, "first_name": "X"}).status_code == 200
    queue(site, None, n=7)

    assert drain(worker) == 4
    received = receiver.received()
    assert len(received) == 4
    payloads = [verify(destination.secret, request) for request in received]
    assert sorted(p["data"].get("email", "") for p in payloads) == [
        "",
        "ann@zorblax.example",
        "bob@zorblax.example",
        "cy@quux.example",
    ]
    for request, payload in zip(received, payloads, strict=True):
        assert payload["id"] == request.headers["webhook-id"]
        assert len(signatures(request)) == 1
        assert request.headers["content-type"] == "application/json"
        assert request.path == "/hooks"


def _flip(text: str) -> str:
    return text[:-1] + ("1" if text[-1] != "1" else "2")


@pytest.mark.parametrize("part", ["body", "webhook-id", "webhook-timestamp"])
def test_a_flipped_byte_fails_verification(part, site, destination, receiver, worker):
    queue(site, 1)
    drain(worker)
    (request,) = receiver.received()
    assert verify(destination.secret, request)["data"]["contact_id"] == 1
    headers = dict(request.headers)
    body = request.body
    if part == "body":
        at = body.index(b'"n":0') + 4
        body = body[:at] + b"1" + body[at + 1 :]
    else:
        headers[part] = _flip(headers[part])
    tampered = dataclasses.replace(request, headers=headers, body=body)

    with pytest.raises(WebhookVerificationError, match="No matching signature found"):
        verify(destination.secret, tampered)
    with pytest.raises(WebhookVerificationError):
        verify(OTHER, request)  # another destination's secret


def test_after_a_rotation_both_secrets_verify_for_24_hours(
    app, clock, site, destination, receiver, worker
):
    old = destination.secret
    queue(site, 1, n=1)
    drain(worker)
    rotated_at = clock.now
    new = rotate_secret(destination, rotated_at)
    db.session.commit()
    assert new != old and new.startswith("whsec_")
    assert fresh(destination).previous_secret == old
    assert destination.previous_secret_until == rotated_at + timedelta(hours=24)

    clock.advance(hours=23, minutes=59, seconds=59)
    queue(site, 2, n=2)
    drain(worker)
    clock.advance(seconds=1)  # exactly 24 h after the rotation: the old secret is retired
    queue(site, 3, n=3)
    drain(worker)

    first, during, after = receiver.received()
    assert len(signatures(first)) == 1
    assert verify(old, first)["data"]["n"] == 1
    with pytest.raises(WebhookVerificationError):
        verify(new, first)

    assert len(signatures(during)) == 2
    assert verify(new, during)["data"]["n"] == 2
    assert verify(old, during)["data"]["n"] == 2

    assert len(signatures(after)) == 1
    assert verify(new, after)["data"]["n"] == 3
    with pytest.raises(WebhookVerificationError, match="No matching signature found"):
        verify(old, after)


def test_a_retry_after_a_rotation_is_signed_with_both(
    app, clock, site, destination, receiver, worker
):
    old = destination.secret
    receiver.script(Answer(500))
    queue(site, 1)
    drain(worker)
    new = rotate_secret(destination, clock.now)
    db.session.commit()
    clock.advance(seconds=6)
    drain(worker)

    first, retry = receiver.received()
    assert first.body == retry.body
    assert first.headers["webhook-id"] == retry.headers["webhook-id"]
    assert verify(old, first) == verify(new, retry) == verify(old, retry)


def test_a_new_secret_in_the_environment_rotates_at_import(
    app, clock, monkeypatch, receiver, worker
):
    monkeypatch.setenv("TRICKLE_CRM_SECRET", NEW)
    config = destination_config(receiver.url, secret_env="TRICKLE_CRM_SECRET")
    site = import_site_config(config)
    destination = site.destinations[0]
    assert (destination.secret, destination.previous_secret) == (NEW, None)

    import_site_config(config)  # the same secret again: no rotation
    assert (fresh(destination).secret, destination.previous_secret) == (NEW, None)

    clock.advance(hours=1)
    monkeypatch.setenv("TRICKLE_CRM_SECRET", OTHER)
    import_site_config(config)
    fresh(destination)
    assert (destination.secret, destination.previous_secret) == (OTHER, NEW)
    assert destination.previous_secret_until == clock.now + timedelta(hours=24)

    queue(site, 1)
    drain(worker)
    (request,) = receiver.received()
    assert len(signatures(request)) == 2
    assert verify(OTHER, request) == verify(NEW, request)

    clock.advance(hours=24)
    queue(site, 2, n=2)
    drain(worker)
    later = receiver.received()[1]
    assert verify(OTHER, later)["data"]["n"] == 2
    with pytest.raises(WebhookVerificationError):
        verify(NEW, later)
