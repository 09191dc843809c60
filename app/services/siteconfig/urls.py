"""URLs a site config names: browser origins (``site.origins``) and absolute web URLs
(destinations, a form's ``on_complete``), as marshmallow validators."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import SplitResult, urlsplit

from marshmallow import ValidationError

DEFAULT_PORTS = {("http", 80), ("https", 443)}


def split_url(value: str) -> tuple[SplitResult, int | None] | None:
    """``value`` split as a URL with its port, or None when it does not parse as one."""
    try:
        parts = urlsplit(value)
        return parts, parts.port
    except ValueError:
        return None


def origin(value: str) -> None:
    """An exact browser origin, ``scheme://host[:port]``, spelled as the Origin header spells it."""
    split = split_url(value)
    if split is not None:
        parts, port = split
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        spelled = f"{parts.scheme}://{host}" + ("" if port is None else f":{port}")
        if (
            parts.scheme in ("http", "https")
            and parts.hostname
            and value == spelled
            and (parts.scheme, port) not in DEFAULT_PORTS
        ):
            return
    raise ValidationError(
        'must be an origin like "https://www.example.com": http or https, host, '
        "optional port, lower case, no path or trailing slash"
    )


def web_url_or_path(example: str) -> Callable[[str], None]:
    """A validator: what :func:`web_url_like` accepts, or a path on the page's own site
    (``/guide.pdf``; never ``//host`` or a backslash, which browsers read as another host)."""
    absolute = web_url_like(example)

    def check(value: str) -> None:
        if not value.startswith("/"):
            return absolute(value)
        if value.startswith("//") or "\\" in value or re.search(r"[\s\x00-\x1f\x7f]", value):
            raise ValidationError(
                'must be a path like "/guide.pdf" (no "//" at the start, no backslash or'
                " spaces), or an absolute http or https URL"
            )
        return None

    return check


def web_url_like(example: str) -> Callable[[str], None]:
    """A validator: an absolute http or https URL with a host (no javascript:, data:, relative
    or other URL), its message naming ``example``."""

    def check(value: str) -> None:
        split = split_url(value)
        parts = split[0] if split else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError(f'must be an absolute http or https URL, like "{example}"')
        if re.search(r"\s", value):
            raise ValidationError("must not contain spaces")

    return check
