"""Who may call the token API (DESIGN §4), and how often.

A token API view calls ``require_token(site)`` first and is wrapped in ``token_api_limited``.
A refused call is a ServiceError: the one JSON envelope of ``app.errors``, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Response, current_app, request

from app.api import api_bp
from app.clock import current_time
from app.extensions import client_rate_key, limiter
from app.models import ApiToken
from app.services.accounts import authenticate_token

V = TypeVar("V", bound=Callable[..., object])

BEARER_CHALLENGE = 'Bearer realm="trickle"'


def bearer_token() -> str | None:
    """The credentials of ``Authorization: Bearer <token>`` (scheme in any case); None without
    the header or with another scheme."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip()


def require_token(site_key: str, role: str = "analyst") -> ApiToken:
    """The request's token, when it may act on ``site_key`` with ``role``: else Unauthenticated
    (401) or Forbidden (403) is raised, before the view has produced anything."""
    return authenticate_token(bearer_token(), site_key, role, current_time())


@api_bp.after_request
def _bearer_challenge(response: Response) -> Response:
    """RFC 6750: a 401 names the scheme that would have worked."""
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = BEARER_CHALLENGE
    return response


def _token_api_rate() -> str:
    return current_app.config["RATELIMIT_TOKEN_API"]


# One budget per client address, shared by every token API endpoint (refused calls count too).
_token_api_limit = limiter.shared_limit(
    _token_api_rate, scope="token-api", key_func=client_rate_key
)


def token_api_limited(view: V) -> V:
    """Count ``view``'s calls against ``RATELIMIT_TOKEN_API``; over it: 429 with Retry-After."""
    return _token_api_limit(view)
