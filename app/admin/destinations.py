"""Destinations (admin): webhook destinations of a site, and operating one of them.

The list and the destination page are read from ``services.delivery_views``. Every button is a
POST with the CSRF token that runs one ``services.delivery`` (or ``rotate_secret``) call in one
committed unit of work and comes back to the page with what happened. Creating, editing and
deleting a destination is a config edit: see ``configure.destination_edit``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.admin import access, admin_bp
from app.admin.config_forms import ActionForm
from app.clock import current_time
from app.models import Destination
from app.services.delivery import (
    backfill,
    dead_letter_ids,
    destination_page,
    find_destination,
    pending_count,
    replay,
    resume,
    send_test_event,
    site_destinations,
    state_of,
)
from app.services.errors import Invalid, NotFound
from app.services.siteconfig import rotate_generated_secret
from app.services.transactions import commit_unit

T = TypeVar("T")
_REPLAY_BATCH = 500


def _find(site: str, key: str) -> Destination:
    try:
        return find_destination(key, site)
    except NotFound:
        abort(404)


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def _waits(state: str) -> str:
    return "" if state == "active" else f" They wait while the destination is {state}."


@admin_bp.get("/sites/<site>/destinations")
@access.role_required("admin")
def destinations(site: str) -> str:
    try:
        rows = site_destinations(site)
    except NotFound:
        abort(404)
    return render_template("admin/destinations.html", site_key=site, rows=rows)


@admin_bp.get("/sites/<site>/destinations/<key>")
@access.role_required("admin")
def destination(site: str, key: str) -> str:
    found = _find(site, key)
    now = current_time()
    rotating = (
        found.previous_secret is not None
        and found.previous_secret_until is not None
        and found.previous_secret_until > now
    )
    return render_template(
        "admin/destination.html",
        site_key=site,
        destination=found,
        page=destination_page(found),
        rotating=rotating,
        reveal=request.args.get("reveal") == "secret",
    )


def _operate(site: str, key: str, action: Callable[[Destination], T]) -> T:
    """Run ``action`` on the destination in one committed unit (404 for an unknown one, 400
    without the CSRF token); Invalid from ``action`` is raised with nothing written."""
    _find(site, key)
    if not ActionForm().validate_on_submit():
        abort(400)
    return commit_unit(lambda: action(_find(site, key)))


def _back(site: str, key: str, anchor: str = "", **query: str) -> Response:
    return redirect(url_for("admin.destination", site=site, key=key, **query) + anchor)


@admin_bp.post("/sites/<site>/destinations/<key>/resume")
@access.role_required("admin")
def destination_resume(site: str, key: str) -> Response:
    def work(found: Destination) -> int | None:
        if found.suspended_at is None:
            return None
        resume(found, current_time())
        return pending_count(found)

    pending = _operate(site, key, work)
    if pending is None:
        flash(f'Destination "{key}" is not suspended: nothing to re-enable.')
    else:
        flash(
            f'Destination "{key}" re-enabled: '
            f"{_plural(pending, 'pending delivery', 'pending deliveries')} "
            f"{'goes' if pending == 1 else 'go'} out now, in order."
        )
    return _back(site, key)


@admin_bp.post("/sites/<site>/destinations/<key>/rotate")
@access.role_required("admin")
def destination_rotate(site: str, key: str) -> Response:
    def work(found: Destination) -> datetime:
        return rotate_generated_secret(found, current_time())

    try:
        until = _operate(site, key, work)
    except Invalid as exc:
        flash(f"The secret was not rotated. {exc.message}")
        return _back(site, key, "#secret")
    flash(
        "New signing secret below. The previous one keeps signing too until "
        f"{until:%Y-%m-%d %H:%M UTC}: give the receiver the new one before then."
    )
    return _back(site, key, "#secret", reveal="secret")


@admin_bp.post("/sites/<site>/destinations/<key>/test")
@access.role_required("admin")
def destination_test(site: str, key: str) -> Response:
    def work(found: Destination) -> str:
        send_test_event(found, site, current_time())
        return state_of(found)

    state = _operate(site, key, work)
    flash("Test event queued; a running worker sends it within seconds." + _waits(state))
    return _back(site, key)


@admin_bp.post("/sites/<site>/destinations/<key>/backfill")
@access.role_required("admin")
def destination_backfill(site: str, key: str) -> Response:
    try:
        count = _operate(site, key, lambda found: backfill(found, current_time()))
    except Invalid as exc:
        flash(f"Nothing was queued. {exc.message}")
        return _back(site, key)
    if count:
        flash(
            f"Backfill: {_plural(count, 'contact')} queued as contact.updated, each with the "
            "whole profile; a running worker sends them."
        )
    else:
        flash("Backfill: no contact has any value yet; nothing was queued.")
    return _back(site, key)


@admin_bp.post("/sites/<site>/destinations/<key>/replay")
@access.role_required("admin")
def destination_replay(site: str, key: str) -> Response:
    everything = request.form.get("scope") == "all"
    chosen = [
        int(value)
        for value in request.form.getlist("delivery")
        if re.fullmatch(r"[0-9]{1,18}", value)
    ]

    def work(found: Destination) -> tuple[int, str]:
        ids = dead_letter_ids(found) if everything else chosen
        now = current_time()
        count = sum(
            replay(found, ids[start : start + _REPLAY_BATCH], now)
            for start in range(0, len(ids), _REPLAY_BATCH)
        )
        return count, state_of(found)

    count, state = _operate(site, key, work)
    if count:
        flash(
            f"{_plural(count, 'dead letter')} queued again, each under its own webhook-id: "
            "a running worker sends them within seconds." + _waits(state)
        )
    elif everything:
        flash("There are no dead letters to replay.")
    else:
        flash("Nothing was replayed: tick the dead letters to send again.")
    return _back(site, key, "#dead-letters")
