"""Webhook rules: Standard Webhooks signatures, the retry schedule, responses, payload formats."""

from __future__ import annotations

import base64
import ipaddress
import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from app.domain.webhooks import (
    RETRY_DELAYS,
    Outcome,
    embedded_ipv4,
    masked_url,
    next_attempt_at,
    outcome,
    payload,
    private_address,
    retry_after_seconds,
    secret_key,
    signed_request,
)

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
OLD_SECRET = "whsec_" + base64.b64encode(bytes(range(32, 64))).decode()
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def sent_at() -> int:
    """The package checks the timestamp against its own clock (5 minutes' tolerance)."""
    return int(datetime.now(UTC).timestamp())


def request(secrets=(SECRET,), timestamp=None):
    return signed_request(
        secrets, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", timestamp or sent_at(), {"a": "é", "b": [1, 2]}
    )


def verify(secret: str, body: bytes, headers: dict[str, str]):
    return Webhook(secret).verify(body, headers)


def test_a_signed_request_verifies_with_the_standardwebhooks_package():
    timestamp = sent_at()
    signed = request(timestamp=timestamp)
    assert signed.body == '{"a":"é","b":[1,2]}'.encode()
    assert verify(SECRET, signed.body, signed.headers) == {"a": "é", "b": [1, 2]}
    assert signed.headers["webhook-id"] == "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    assert signed.headers["webhook-timestamp"] == str(timestamp)


@pytest.mark.parametrize("part", ["body", "webhook-id", "webhook-timestamp"])
def test_a_flipped_byte_fails_verification(part):
    signed = request()
    body, headers = signed.body, dict(signed.headers)
    if part == "body":
        body = body.replace(b"1", b"3")
    else:
        headers[part] = headers[part][:-1] + ("0" if headers[part][-1] != "0" else "1")
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, body, headers)


def test_during_a_rotation_both_secrets_verify():
    signed = request((SECRET, OLD_SECRET))
    assert signed.headers["webhook-signature"].count("v1,") == 2
    assert verify(SECRET, signed.body, signed.headers) == {"a": "é", "b": [1, 2]}
    assert verify(OLD_SECRET, signed.body, signed.headers) == {"a": "é", "b": [1, 2]}
    other = "whsec_" + base64.b64encode(bytes(32)).decode()
    with pytest.raises(WebhookVerificationError):
        verify(other, signed.body, signed.headers)


@pytest.mark.parametrize("secret", ["abc", "whsec_not base64!"])
def test_a_malformed_secret_is_refused(secret):
    with pytest.raises(ValueError, match="whsec_"):
        secret_key(secret)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (299, Outcome.DELIVERED),
        (301, Outcome.RETRY),
        (308, Outcome.RETRY),
        (400, Outcome.RETRY),
        (410, Outcome.GONE),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
        (None, Outcome.RETRY),
    ],
)
def test_what_a_response_means(status, expected):
    assert outcome(status) is expected


def test_the_schedule_is_5s_5m_30m_2h_5h_10h_10h_then_dead_letter():
    no_jitter = random.Random()
    no_jitter.uniform = lambda a, b: 0.0
    delays = [
        (next_attempt_at(n, NOW, rng=no_jitter) - NOW).total_seconds()
        for n in range(1, len(RETRY_DELAYS) + 1)
    ]
    assert delays == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert next_attempt_at(len(RETRY_DELAYS) + 1, NOW) is None


def test_jitter_stays_within_ten_percent():
    rng = random.Random(7)
    seconds = [(next_attempt_at(2, NOW, rng=rng) - NOW).total_seconds() for _ in range(500)]
    assert 270 <= min(seconds) < 280
    assert 320 < max(seconds) <= 330


def test_retry_after_pushes_later_never_earlier():
    rng = random.Random(1)
    assert next_attempt_at(1, NOW, retry_after=120, rng=rng) == NOW + timedelta(seconds=120)
    late = next_attempt_at(3, NOW, retry_after=120, rng=rng)
    assert late - NOW > timedelta(seconds=1600)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Mon, 23 Nov 2026 12:02:00 GMT", 120.0),
        ("Mon, 23 Nov 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("-5", None),
    ],
)
def test_retry_after_header(header, seconds):
    assert retry_after_seconds(header, NOW) == seconds


DATA = {
    "contact_id": 42,
    "email": "kim@zorblax.example",
    "changed": ["company", "first_name"],
    "profile": {"email": "kim@zorblax.example", "first_name": "Kim", "company": "Zorblax"},
}


def test_the_trickle_envelope_renames_mapped_keys():
    body = payload("trickle", "contact.updated", "msg_1", NOW, DATA, {"company": "Company__c"})
    assert body == {
        "type": "contact.updated",
        "id": "msg_1",
        "timestamp": "2026-11-23T12:00:00Z",
        "data": {
            "contact_id": 42,
            "email": "kim@zorblax.example",
            "changed": ["Company__c", "first_name"],
            "profile": {
                "email": "kim@zorblax.example",
                "first_name": "Kim",
                "Company__c": "Zorblax",
            },
        },
    }


def test_the_segment_format_is_an_identify_call():
    body = payload("segment", "contact.updated", "msg_1", NOW, DATA, {"first_name": "firstName"})
    assert body == {
        "type": "identify",
        "userId": "42",
        "traits": {"email": "kim@zorblax.example", "firstName": "Kim", "company": "Zorblax"},
        "messageId": "msg_1",
        "timestamp": "2026-11-23T12:00:00Z",
    }


def test_events_without_a_profile_keep_the_envelope_in_segment_format():
    data = {"surviving_id": 1, "merged_id": 2}
    body = payload("segment", "contact.merged", "msg_2", NOW, data, {})
    assert body == {
        "type": "contact.merged",
        "id": "msg_2",
        "timestamp": "2026-11-23T12:00:00Z",
        "data": data,
    }


@pytest.mark.parametrize(
    ("address", "private"),
    [
        ("8.8.8.8", False),
        ("2606:4700::1111", False),
        ("::ffff:8.8.8.8", False),
        ("2002:808:808::1", False),  # 6to4 around a public address
        ("10.0.0.1", True),
        ("172.16.5.4", True),
        ("192.168.1.1", True),
        ("127.0.0.1", True),
        ("169.254.169.254", True),  # cloud metadata
        ("100.100.100.200", True),  # shared address space 100.64.0.0/10 (a metadata service too)
        ("192.0.2.10", True),  # documentation
        ("0.0.0.0", True),  # noqa: S104 - an address to refuse, not one to bind
        ("224.0.0.1", True),
        ("::1", True),
        ("fe80::1", True),
        ("fc00::1", True),
        ("fec0::1", True),
        ("::ffff:10.0.0.1", True),
        ("2002:7f00:1::1", True),  # 6to4 around 127.0.0.1
        ("2002:a9fe:a9fe::", True),  # 6to4 around 169.254.169.254
    ],
)
def test_which_addresses_count_as_private(address, private):
    assert private_address(ipaddress.ip_address(address)) is private


# SSRF through IPv6 forms (issue 18, item 4): an IPv4 address carried inside an IPv6 address is
# judged as that IPv4 address, whichever form carries it.
@pytest.mark.parametrize(
    ("address", "private"),
    [
        # found by the probe: accepted and dialled before
        ("64:ff9b::a9fe:a9fe", True),  # NAT64 well-known prefix around 169.254.169.254
        ("64:ff9b::a00:1", True),  # NAT64 around 10.0.0.1
        ("64:ff9b:1::a9fe:a9fe", True),  # NAT64 local-use prefix around 169.254.169.254
        ("::127.0.0.1", True),  # IPv4-compatible around 127.0.0.1
        # NAT64 64:ff9b::/96 (RFC 6052): the last 32 bits
        ("64:ff9b::808:808", False),  # 8.8.8.8
        ("64:ff9b::7f00:1", True),  # 127.0.0.1
        ("64:ff9b::c0a8:101", True),  # 192.168.1.1
        # NAT64 64:ff9b:1::/48 (RFC 8215): the last 32 bits
        ("64:ff9b:1::808:808", False),
        ("64:ff9b:1::a00:1", True),
        ("64:ff9b:1:ffff::6440:1", True),  # 100.64.0.1, shared address space
        # IPv4-compatible ::/96
        ("::8.8.8.8", False),
        ("::a00:1", True),  # 10.0.0.1
        ("::169.254.169.254", True),
        ("::", True),  # still the unspecified address (0.0.0.0 inside)
        ("::1", True),  # still loopback (0.0.0.1 inside)
        # IPv4-mapped ::ffff:0:0/96
        ("::ffff:8.8.8.8", False),
        ("::ffff:127.0.0.1", True),
        ("::ffff:a9fe:a9fe", True),
        # 6to4 2002::/16: bits 16-48
        ("2002:808:808::", False),
        ("2002:0a00:0001::", True),  # 10.0.0.1
        ("2002:c0a8:101::1", True),  # 192.168.1.1
        ("2002:6440:1::1", True),  # 100.64.0.1
        # Teredo 2001::/32: server in bits 32-64, client = last 32 bits XOR 0xffffffff
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", True),  # client 10.0.0.1
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", True),  # client 127.0.0.1
        ("2001:0:4136:e378:8000:63bf:5601:5601", True),  # client 169.254.169.254
        ("2001:0:a9fe:a9fe:8000:63bf:f7f7:f7f7", True),  # server 169.254.169.254, client 8.8.8.8
        # plain IPv6 is unchanged
        ("2606:4700::1111", False),
        ("fd00::1", True),
    ],
)
def test_an_ipv4_address_inside_an_ipv6_form_is_judged_as_itself(address, private):
    assert private_address(ipaddress.ip_address(address)) is private


@pytest.mark.parametrize(
    ("address", "carried"),
    [
        ("64:ff9b::a9fe:a9fe", ["169.254.169.254"]),
        ("64:ff9b:1::a00:1", ["10.0.0.1"]),
        ("::127.0.0.1", ["127.0.0.1"]),
        ("::ffff:8.8.8.8", ["8.8.8.8"]),
        ("2002:0a00:0001::", ["10.0.0.1"]),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", ["65.54.227.120", "10.0.0.1"]),
        ("2606:4700::1111", []),
        ("64:ff9b:2::a00:1", []),  # outside both NAT64 prefixes
    ],
)
def test_the_ipv4_addresses_an_ipv6_address_carries(address, carried):
    assert [str(a) for a in embedded_ipv4(ipaddress.IPv6Address(address))] == carried


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "https://bob:S3cret@crm.example/hook?api_key=XYZ",
            "https://***:***@crm.example/hook?api_key=***",
        ),
        ("https://bob:S3cret@crm.example/hook", "https://***:***@crm.example/hook"),
        ("https://tok_123@crm.example/hook", "https://***@crm.example/hook"),  # user only
        ("https://:S3cret@crm.example/hook", "https://:***@crm.example/hook"),  # password only
        (
            "https://crm.example/hook?api_key=XYZ&team=a%20b&flag&&empty=",
            "https://crm.example/hook?api_key=***&team=***&***&&empty=***",
        ),
        ("https://crm.example/hook#token=XYZ", "https://crm.example/hook#***"),
        (
            "https://bob:S3cret@[2001:db8::1]:8443/hook?api_key=XYZ",
            "https://***:***@[2001:db8::1]:8443/hook?api_key=***",
        ),
        ("https://bob:S3cret@crm.example:8443/", "https://***:***@crm.example:8443/"),
        # An @ inside the user-info: the host is what follows the last one.
        ("https://a@b:S3cret@crm.example/", "https://***:***@crm.example/"),
        ("https://crm.example:8443/v1/hooks", "https://crm.example:8443/v1/hooks"),
        ("https://crm.example/hook?", "https://crm.example/hook?"),
        ("https://crm.example", "https://crm.example"),
        ("http://[::1", "***"),  # unreadable: hidden whole
        ("http://bob:S3cret@crm.example:99999/", "***"),
        ("", ""),
    ],
)
def test_a_destination_url_is_masked_to_scheme_host_port_and_path(url, masked):
    assert masked_url(url) == masked
    assert masked_url(masked) == masked  # masking a masked URL changes nothing
