"""Webhook delivery rules (DESIGN §6), standard library only: what a request carries, how it is
signed, what a response means, and when the next attempt is due.

Signing follows the Standard Webhooks spec: the signed content is ``"{id}.{timestamp}.{body}"``,
the key is the base64 part of a ``whsec_`` secret, and each signature is ``v1,<base64 HMAC-SHA256>``;
during a secret rotation the header carries one signature per valid secret, space separated.
``verified`` is the receiving side, for webhooks sent to Trickle (docs/sales.md, "Inbound webhook").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from app.domain.specs import iso

# Seconds after each failure before the next try; after the last one the event is dead-lettered.
RETRY_DELAYS: tuple[int, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
JITTER = 0.10
TIMEOUT_SECONDS = 15
RESPONSE_KEPT_BYTES = 1024
FAILING_DAYS_BEFORE_DISABLE = 5
# A Retry-After is honoured up to a day: a receiver cannot park an event for years (nor make the
# next attempt's time overflow).
RETRY_AFTER_MAX_SECONDS = 24 * 3600.0
_DELTA_SECONDS = re.compile(r"[0-9]+")  # ASCII digits only: "²".isdigit() is true too
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix every signing secret has, not a secret
# How far a received webhook's timestamp may be from now, either way (replays of old requests).
TIMESTAMP_TOLERANCE_SECONDS = 300
MASK = "***"  # what stands in for each secret part of a destination URL


class Outcome(Enum):
    DELIVERED = "delivered"  # 2xx
    RETRY = "retry"  # any other answer, a timeout, a refused or dropped connection
    GONE = "gone"  # 410: the receiver says this endpoint is gone; disable the destination


def outcome(status: int | None) -> Outcome:
    """What a response status means; None is no response at all. Redirects are failures: they
    are never followed, so a moved receiver cannot send events somewhere it was not set up."""
    if status is not None and 200 <= status < 300:
        return Outcome.DELIVERED
    if status == 410:
        return Outcome.GONE
    return Outcome.RETRY


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A ``Retry-After`` header as seconds from ``now``: delta-seconds or an HTTP date, at most
    ``RETRY_AFTER_MAX_SECONDS``; None when absent or unreadable (then the schedule alone decides)."""
    if not value:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return min(float(value), RETRY_AFTER_MAX_SECONDS)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return min(max(0.0, (when - now).total_seconds()), RETRY_AFTER_MAX_SECONDS)


def next_attempt_at(
    failures: int,
    now: datetime,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> datetime | None:
    """When to try again after the ``failures``-th failure in a row (1 = the first), or None
    when the schedule is used up (dead letter).

    The scheduled delay gets ±10 % jitter so that a receiver coming back is not hit by every
    queued event at once; a ``Retry-After`` (429/503) pushes the attempt later, never earlier.
    """
    if failures < 1:
        raise ValueError("failures counts from 1")
    if failures > len(RETRY_DELAYS):
        return None
    delay = RETRY_DELAYS[failures - 1]
    jittered = delay * (1 + (rng or random).uniform(-JITTER, JITTER))
    return now + timedelta(seconds=max(jittered, retry_after or 0))


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a ``whsec_`` secret; ValueError for anything else."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a signing secret starts with whsec_")
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except ValueError:
        raise ValueError("a signing secret is whsec_ followed by base64") from None


def signature(secrets: Iterable[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value: one ``v1,…`` per secret, space separated."""
    content = f"{message_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(secret_key(s), content, hashlib.sha256).digest()).decode()
        for s in secrets
    )


def verified(
    secret: str, message_id: str, timestamp: str, header: str, body: bytes, now: datetime
) -> bool:
    """True when ``header`` (a ``webhook-signature``) carries a ``v1`` signature by ``secret`` of
    this id, timestamp and body (any of its space-separated signatures; each compared in constant
    time) and the timestamp is within ``TIMESTAMP_TOLERANCE_SECONDS`` of ``now`` either way."""
    if not message_id or not _DELTA_SECONDS.fullmatch(timestamp) or len(timestamp) > 12:
        return False
    if abs(now.timestamp() - int(timestamp)) > TIMESTAMP_TOLERANCE_SECONDS:
        return False
    expected = signature([secret], message_id, int(timestamp), body).encode()
    matches = [hmac.compare_digest(part.encode(), expected) for part in header.split(" ")]
    return any(matches)


@dataclass(frozen=True)
class SignedRequest:
    """Exactly what is sent: these body bytes are the bytes signed (and stored)."""

    headers: dict[str, str]
    body: bytes


def encode(payload: Mapping[str, Any]) -> bytes:
    """The body bytes for ``payload``: compact UTF-8 JSON, keys sorted (stable across retries)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


def signed_request(
    secrets: Iterable[str], message_id: str, timestamp: int, payload: Mapping[str, Any] | bytes
) -> SignedRequest:
    """The request for one attempt. ``payload`` is the stored body bytes (or a mapping to encode);
    the timestamp is the attempt's own, so receivers can refuse replays of old requests."""
    body = payload if isinstance(payload, bytes) else encode(payload)
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secrets, message_id, timestamp, body),
        "user-agent": "Trickle-Webhooks/1",
    }
    return SignedRequest(headers, body)


_NAT64 = (
    ipaddress.IPv6Network("64:ff9b::/96"),  # well-known prefix (RFC 6052)
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # local-use prefix (RFC 8215)
)
_COMPATIBLE = ipaddress.IPv6Network("::/96")  # IPv4-compatible, deprecated (RFC 4291)


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries, which a packet to it may end up at: NAT64
    ``64:ff9b::/96`` and ``64:ff9b:1::/48`` and IPv4-compatible ``::/96`` (the last 32 bits),
    IPv4-mapped ``::ffff:0:0/96``, 6to4 ``2002::/16`` (bits 16-48) and Teredo ``2001::/32``
    (server, then client). Empty for any other address."""
    if address in _COMPATIBLE or any(address in prefix for prefix in _NAT64):
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    carried = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
    return [inner for inner in carried if inner is not None]


def private_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for an address no public receiver can have: anything not globally routable (private,
    loopback, link-local with cloud metadata at 169.254.169.254, shared 100.64.0.0/10, reserved,
    documentation) and multicast. An IPv6 address that carries an IPv4 address
    (:func:`embedded_ipv4`) is private when that IPv4 address is; NAT64, IPv4-compatible,
    IPv4-mapped and 6to4 forms are judged by it alone, a Teredo address (``2001::/32``, not
    global) is also judged as IPv6."""
    if isinstance(address, ipaddress.IPv6Address):
        carried = embedded_ipv4(address)
        if any(private_address(inner) for inner in carried):
            return True
        if carried and address.teredo is None:
            return False
        if address.is_site_local:  # fec0::/10, deprecated but still routed inside networks
            return True
    return not address.is_global or address.is_multicast


def private_host(host: str) -> bool:
    """True for ``localhost`` names and IP literals that are :func:`private_address`."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return private_address(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        return False


def masked_url(url: str) -> str:
    """``url`` as anyone but an admin may see it: scheme, host, port and path kept; the user and
    password of its user-info, each query value (names kept; a query item without ``=`` whole)
    and the fragment replaced by ``***``. ``https://bob:S3cret@crm.example/hook?api_key=XYZ``
    becomes ``https://***:***@crm.example/hook?api_key=***``; a URL without any of those parts
    comes back unchanged, and one that cannot be read is ``***`` as a whole."""
    try:
        netloc = urlsplit(url).netloc
        urlsplit(url).port  # noqa: B018 - reading it refuses a bad port
    except ValueError:  # a bad port or IPv6 literal
        return MASK
    rest, hash_mark, fragment = url.partition("#")
    rest, question_mark, query = rest.partition("?")
    if "@" in netloc:
        scheme, slashes, after = rest.partition("//")
        authority, slash, path = after.partition("/")
        user_info, _, host = authority.rpartition("@")
        user, colon, _password = user_info.partition(":")
        masked_user = (MASK if user else "") + (colon and colon + MASK)
        rest = f"{scheme}{slashes}{masked_user}@{host}{slash}{path}"
    items = (
        (item.partition("=")[0] + "=" + MASK if "=" in item else MASK) if item else item
        for item in query.split("&")
    )
    return rest + question_mark + "&".join(items) + hash_mark + (MASK if fragment else "")


def mapped(values: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    """``values`` with keys renamed for the receiver (``our key → their key``); others kept."""
    return {mapping.get(key, key): value for key, value in values.items()}


def payload(
    fmt: str,
    event_type: str,
    message_id: str,
    occurred_at: datetime,
    data: Mapping[str, Any],
    mapping: Mapping[str, str],
) -> dict[str, Any]:
    """The body for a destination's format.

    ``trickle``: ``{type, id, timestamp, data}`` with profile keys renamed by ``mapping``.
    ``segment``: an identify call, ``{type: "identify", userId, traits, messageId, timestamp}``
    (only for events that carry a profile; others keep the trickle envelope).
    """
    timestamp = iso(occurred_at)
    body = dict(data)
    for name in ("profile", "values", "account"):
        if isinstance(body.get(name), Mapping):
            body[name] = mapped(body[name], mapping)
    if isinstance(body.get("changed"), list):
        body["changed"] = [mapping.get(key, key) for key in body["changed"]]
    if fmt == "segment" and isinstance(data.get("profile"), Mapping):
        traits = {**mapped(data.get("account") or {}, mapping), **body["profile"]}
        if data.get("email"):
            traits.setdefault("email", data["email"])
        return {
            "type": "identify",
            "userId": str(data["contact_id"]),
            "traits": traits,
            "messageId": message_id,
            "timestamp": timestamp,
        }
    return {"type": event_type, "id": message_id, "timestamp": timestamp, "data": body}
