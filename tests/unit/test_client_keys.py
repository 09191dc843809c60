"""Whom a per-client rate limit counts: an IPv4 address, an IPv6 /64, an IPv4-mapped address
as its IPv4 address; anything else as it is."""

from __future__ import annotations

import pytest

from app.extensions import client_network

TABLE = [
    ("198.51.100.7", "198.51.100.7"),
    ("10.0.0.1", "10.0.0.1"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("2001:DB8:0001:0002:0:0:0:9", "2001:db8:1:2::/64"),
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
    ("2001:db8::1", "2001:db8::/64"),
    ("::1", "::/64"),
    ("fe80::1%eth0", "fe80::/64"),
    ("::ffff:198.51.100.7", "198.51.100.7"),
    ("::ffff:c633:6407", "198.51.100.7"),
    ("::198.51.100.7", "::/64"),  # IPv4-compatible (deprecated): an IPv6 address like any other
    ("unknown", "unknown"),
    ("", ""),
    ("198.51.100.7:4431", "198.51.100.7:4431"),
    ("2001:db8::1/64", "2001:db8::1/64"),
]


@pytest.mark.parametrize(("address", "key"), TABLE)
def test_client_network(address, key):
    assert client_network(address) == key
