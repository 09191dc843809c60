"""Who may see what: login, roles, and headers that keep console pages out of frames."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, abort, flash, g, redirect, request
from flask_login import current_user, login_required, login_url

from app.admin import admin_bp
from app.extensions import login_manager

SESSION_ENDED_MESSAGE = "Your session has ended. Please sign in again."

CONSOLE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


# The live preview page (framed by the form page): the widget styles its shadow root with a
# <style> element, and only console pages may frame it.
PREVIEW_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)


def role_required(role: str, *others: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Logged in, with ``role`` or a higher one (analyst < marketer < admin), or one that
    ``others`` allow (``role_required("analyst", SALES)``: any analyst and up, and sales);
    else 403. The sales role passes only where ``SALES`` is named (and admin with it)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.can(role, *others):
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate


@login_manager.unauthorized_handler
def _send_to_login() -> Response:
    """Flask-Login's answer to a page that needs a login, saying so when the session ended
    (signed out elsewhere, past SESSION_MAX_AGE_HOURS, idle past SESSION_IDLE_MINUTES)."""
    ended = g.get("console_session_ended", False)
    flash(SESSION_ENDED_MESSAGE if ended else str(login_manager.login_message), "message")
    return redirect(login_url(str(login_manager.login_view), next_url=request.url))


@admin_bp.after_request
def _console_headers(response: Response) -> Response:
    preview = request.endpoint == "admin.form_preview"
    response.headers["Content-Security-Policy"] = PREVIEW_CSP if preview else CONSOLE_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN" if preview else "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
