"""CORS for the widget's endpoints: only a site's own origins, exact match, never ``*``.

A browser request from any other origin is refused before it does anything (403), so a page
cannot make a visitor's browser write to a site that did not list it. That refusal, and only
that, is readable by the refused origin (its preflight passes, to reach it): it carries no data,
only the origin, the site's key (both in the page already) and where to allow the origin, so the
widget can tell the page's developer why the form does not show (and, for an ask, the form's
language and unavailable text, which the widget shows instead: ``api.unavailable``).
"""

from __future__ import annotations

from flask import Response, g, request, url_for

from app.api import api_bp
from app.services.errors import OriginNotAllowed
from app.services.siteconfig import site_snapshot

PUBLIC_ENDPOINTS = frozenset(
    {
        "api.ask",
        "api.submit",
        "api.events",
        "api.withdraw_consent",
        "api.identify",
        "api.preflight",
    }
)
PREFLIGHT_MAX_AGE = "7200"  # Chromium's cap; longer values are clamped anyway


@api_bp.before_request
def _admit_origin() -> None:
    if request.endpoint not in PUBLIC_ENDPOINTS:
        return
    origin = request.headers.get("Origin")
    if origin is None or origin == request.host_url.rstrip("/"):
        return  # server-side callers, and pages served by Trickle itself (/demo/), need no CORS
    site_key = (request.view_args or {}).get("site", "")
    if origin not in site_snapshot(site_key).origins:
        g.cors_refused = origin
        if request.method == "OPTIONS":
            return  # the preflight passes: the request it precedes gets the refusal below
        settings = url_for("admin.site_settings", site=site_key, _external=True)
        raise OriginNotAllowed(
            f"Origin {origin} is not allowed for site {site_key}. Add it to the site's"
            f" origins: Allowed origins on {settings}, or site.origins in the config file."
        )
    g.cors_origin = origin


@api_bp.after_request
def _cors_headers(response: Response) -> Response:
    if request.endpoint not in PUBLIC_ENDPOINTS:
        return response
    response.vary.add("Origin")
    origin = g.get("cors_origin") or g.get("cors_refused")
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "POST"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response
