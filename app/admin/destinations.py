"""Destinations (admin): webhook destinations of a site, and operating one of them.

The list and the destination page are read from ``services.delivery``. Every button is a POST
with the CSRF token that makes one ``services.delivery`` call (which commits) and comes back to
the page with what happened. Creating, editing and deleting a destination is a config edit, in
the Configure pages' one editing flow (``config_editor``).
"""

from __future__ import annotations

import re
from functools import partial

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.admin import access, admin_bp
from app.admin.config_editor import Page, delete_entry, editable_or_404, entry_editor
from app.admin.config_forms.destinations import DestinationForm
from app.admin.forms import ActionForm
from app.clock import current_time
from app.models import Destination
from app.services.delivery import (
    backfill_destination,
    destination_page,
    find_destination,
    queue_test_event,
    replay_dead_letters,
    resume_destination,
    rotate_signing_secret,
    site_destinations,
)
from app.services.errors import Invalid, NotFound


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


def _pressed() -> None:
    """A button's POST carries the CSRF token (400 without it; the app-wide CSRF check has
    already refused such a POST, before any lookup)."""
    if not ActionForm().validate_on_submit():
        abort(400)


def _back(site: str, key: str, anchor: str = "", **query: str) -> Response:
    return redirect(url_for("admin.destination", site=site, key=key, **query) + anchor)


@admin_bp.post("/sites/<site>/destinations/<key>/resume")
@access.role_required("admin")
def destination_resume(site: str, key: str) -> Response:
    _pressed()
    try:
        pending = resume_destination(site, key, current_time())
    except NotFound:
        abort(404)
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
    _pressed()
    try:
        until = rotate_signing_secret(site, key, current_time())
    except NotFound:
        abort(404)
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
    _pressed()
    try:
        queued = queue_test_event(site, key, current_time())
    except NotFound:
        abort(404)
    flash("Test event queued; a running worker sends it within seconds." + _waits(queued.state))
    return _back(site, key)


@admin_bp.post("/sites/<site>/destinations/<key>/backfill")
@access.role_required("admin")
def destination_backfill(site: str, key: str) -> Response:
    _pressed()
    try:
        queued = backfill_destination(site, key, current_time())
    except NotFound:
        abort(404)
    except Invalid as exc:
        flash(f"Nothing was queued. {exc.message}")
        return _back(site, key)
    if queued.count:
        flash(
            f"Backfill: {_plural(queued.count, 'contact')} queued as contact.updated, each with "
            "the whole profile; a running worker sends them."
        )
    else:
        flash("Backfill: no contact has any value yet; nothing was queued.")
    return _back(site, key)


@admin_bp.post("/sites/<site>/destinations/<key>/replay")
@access.role_required("admin")
def destination_replay(site: str, key: str) -> Response:
    _pressed()
    everything = request.form.get("scope") == "all"
    chosen = [
        int(value)
        for value in request.form.getlist("delivery")
        if re.fullmatch(r"[0-9]{1,18}", value)
    ]
    try:
        queued = replay_dead_letters(site, key, current_time(), None if everything else chosen)
    except NotFound:
        abort(404)
    if queued.count:
        flash(
            f"{_plural(queued.count, 'dead letter')} queued again, each under its own "
            "webhook-id: a running worker sends them within seconds." + _waits(queued.state)
        )
    elif everything:
        flash("There are no dead letters to replay.")
    else:
        flash("Nothing was replayed: tick the dead letters to send again.")
    return _back(site, key, "#dead-letters")


@admin_bp.route("/sites/<site>/destinations/new", methods=["GET", "POST"], defaults={"key": None})
@admin_bp.route("/sites/<site>/destinations/<key>/edit", methods=["GET", "POST"])
@access.role_required("admin")
def destination_edit(site: str, key: str | None) -> Page:
    """A webhook destination's config entry; running it is the pages above."""
    config = editable_or_404(site)
    form = DestinationForm()
    previous = (
        config.entry("destinations", key).get("events", [])
        if key in config.keys("destinations")
        else []
    )
    return entry_editor(
        site,
        "destinations",
        key,
        form,
        config,
        partial(form.entry, previous),
        lambda: url_for("admin.destination", site=site, key=form.key.data),
        template="admin/destination_edit.html",
    )


@admin_bp.post("/sites/<site>/destinations/<key>/delete")
@access.role_required("admin")
def destination_delete(site: str, key: str) -> Response:
    return delete_entry(site, "destinations", key)
