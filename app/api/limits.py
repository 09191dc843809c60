"""How much the widget's endpoints answer (docs/api.md, "Rate limits"): three budgets.

- **Per client** (``RATELIMIT_PUBLIC_PER_IP``): every request, by client address (an IPv6
  client by its /64, ``client_rate_key``), refused ones included.
- **Per visitor** (``RATELIMIT_PUBLIC_PER_VISITOR``): a request carrying a returning visitor's
  token of the URL's site (one issued for a stored visitor), one bucket per token. Such a
  request never touches the site's budget, so anonymous traffic, however much, cannot refuse a
  returning visitor.
- **Per site** (``RATELIMIT_PUBLIC_PER_SITE``): every other request: no token, an invalid one,
  or the token an ask gives a new browser before its first write (minted by asking, for free:
  were it a bucket of its own, a spread-out flood holding such tokens would escape the site's
  budget).

The per-visitor and per-site budgets are tested before the view and counted after it, only when
the answer is not a 429: a request refused by any budget (its client's, above all) uses neither,
so a few flooding addresses use at most their per-client budgets of the site's budget.

A returning visitor's token costs a stored visitor (an ask and a write, both from the site's
budget), and each one is its own bucket, still inside its client's budget: holding many tokens
gives an address nothing its own budget does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, request
from werkzeug.exceptions import HTTPException

from app.api.body import request_json
from app.extensions import limiter, site_rate_key
from app.services.tokens import returning_visitor_id

V = TypeVar("V", bound=Callable[..., Any])

_ENVIRON_KEY = "trickle.rate_visitor"  # the request's own, unlike ``g`` (see app.api.body)


def request_visitor() -> str | None:
    """The visitor id of the body's visitor token when it is a returning visitor's token of the
    URL's site, else None; verified once per request (the limits ask several times)."""
    if _ENVIRON_KEY not in request.environ:
        request.environ[_ENVIRON_KEY] = _read_visitor()
    return request.environ[_ENVIRON_KEY]


def _read_visitor() -> str | None:
    site = (request.view_args or {}).get("site")
    if not site:
        return None
    try:
        body = request_json()
    except HTTPException:  # not JSON, too large: anonymous here, and the view answers the error
        return None
    token = body.get("visitor") if isinstance(body, dict) else None
    return returning_visitor_id(site, token) if isinstance(token, str) else None


def visitor_rate_key() -> str:
    """Rate-limit key for the per-visitor budget: the site and the visitor of the token."""
    site = (request.view_args or {}).get("site", "")
    return f"visitor:{site}:{request_visitor()}"


def _anonymous() -> bool:
    return request_visitor() is None


def _holds_token() -> bool:
    return request_visitor() is not None


def _answered(response: Response) -> bool:
    """Count a request against a deferred budget unless it was refused by a rate limit."""
    return response.status_code != 429


def _per_ip() -> str:
    return current_app.config["RATELIMIT_PUBLIC_PER_IP"]


def _per_site() -> str:
    return current_app.config["RATELIMIT_PUBLIC_PER_SITE"]


def _per_visitor() -> str:
    return current_app.config["RATELIMIT_PUBLIC_PER_VISITOR"]


_client_limit = limiter.shared_limit(_per_ip, scope="public-ip")
public_limits = [
    _client_limit,
    limiter.shared_limit(
        _per_visitor,
        scope="public-visitor",
        key_func=visitor_rate_key,
        exempt_when=_anonymous,
        deduct_when=_answered,
    ),
    limiter.shared_limit(
        _per_site,
        scope="public-site",
        key_func=site_rate_key,
        exempt_when=_holds_token,
        deduct_when=_answered,
    ),
]


def rate_limited(view: V) -> V:
    """The widget's endpoints: the client's budget, and the visitor's or the site's."""
    for limit in public_limits:
        view = limit(view)
    return view


def preflight_limited(view: V) -> V:
    """CORS preflights carry no body, so no token: only the client's budget counts them. The
    site's budget would otherwise refuse a returning visitor's browser its preflight, and with
    it the request the visitor's token would have let through."""
    return _client_limit(view)
