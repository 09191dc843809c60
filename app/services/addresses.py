"""Address checks: where a host name leads, and whether that is a private network.

Used where a URL is accepted (site config) and where a request is sent (delivery), so a
destination can never be pointed at the machine's own network unless the config allows it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

from app.domain.webhooks import private_address

Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (an IP literal resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def private_resolution(host: str, port: int, resolver: Resolver = resolve) -> str | None:
    """The first private address ``host`` resolves to, or None (also when it does not resolve)."""
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError):
        return None
    return next((a for a in addresses if is_private(a)), None)


def is_private(address: str) -> bool:
    return private_address(ipaddress.ip_address(address.split("%", 1)[0]))
