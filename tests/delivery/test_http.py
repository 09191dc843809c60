"""Private-network targets (DESIGN §6): refused at config import, and refused at send time for
a name that resolves to one, with the reason recorded and no connection made."""

from __future__ import annotations

import socket

import pytest

from app.services.delivery import DeliveryWorker
from app.services.delivery import http as webhook_http
from app.services.errors import Invalid
from app.services.siteconfig import import_site_config
from tests.delivery.support import attempts_of, destination_config, drain, fresh, queue


@pytest.fixture
def app_settings() -> dict[str, object]:
    return {"ALLOW_PRIVATE_TARGETS": False, "DELIVERY_TIMEOUT_SECONDS": 2.0}


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/",
        "http://10.0.0.1/hooks",
        "http://[::1]/",
        "http://localhost/",
        # IPv4 inside IPv6 (issue 18): NAT64, NAT64 local-use, IPv4-compatible, 6to4, Teredo
        "https://[64:ff9b::a9fe:a9fe]/",
        "https://[64:ff9b::a00:1]/",
        "https://[64:ff9b:1::a9fe:a9fe]/",
        "https://[::127.0.0.1]/",
        "https://[2002:a00:1::]/",
        "https://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/",
    ],
)
def test_a_private_target_is_refused_at_import(app, url):
    with pytest.raises(Invalid) as refused:
        import_site_config(destination_config(url))
    assert refused.value.fields == {
        "destinations[0].url": [
            "points to a private, loopback or link-local address "
            "(set TRICKLE_ALLOW_PRIVATE_TARGETS=true to allow it)"
        ]
    }


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "10.0.0.1", "::1", "64:ff9b::a9fe:a9fe", "::127.0.0.1"]
)
def test_a_name_that_resolves_to_a_private_address_is_not_sent_to(app, address, monkeypatch):
    # A name that does not resolve at import is let through; it resolves privately later.
    site = import_site_config(destination_config("https://hooks.invalid/in"))
    opened = []
    monkeypatch.setattr(
        webhook_http.socket,
        "create_connection",
        lambda *a, **k: opened.append(a) or socket.socket(),
    )

    def sender(url, headers, body, **options):
        return webhook_http.post(
            url, headers, body, resolver=lambda host, port: [address], **options
        )

    worker = DeliveryWorker(app, name="w", sender=sender)
    assert worker.allow_private is False
    delivery = queue(site, 1)
    try:
        assert drain(worker) == 1
    finally:
        worker.close()

    (attempt,) = attempts_of(delivery)
    reason = (
        f"refused: hooks.invalid resolves to {address}, a private, loopback or link-local "
        "address (TRICKLE_ALLOW_PRIVATE_TARGETS is off)"
    )
    assert (attempt.status_code, attempt.outcome, attempt.error) == (None, "retry", reason)
    assert (fresh(delivery).status, delivery.last_error) == ("pending", reason)
    assert opened == []
