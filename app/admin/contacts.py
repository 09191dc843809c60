"""Console pages for contacts: the searchable list and one contact's page (analysts and up)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, current_app, render_template, request

from app.admin import admin_bp
from app.admin.access import role_required
from app.services.contact_views import contact_detail, list_contacts
from app.services.errors import NotFound

PER_PAGE = 50


@admin_bp.get("/sites/<site>/contacts")
@role_required("analyst")
def contacts(site: str) -> str:
    query = request.args.get("q", "")
    page = request.args.get("page", 1, type=int)  # not a number: the first page
    overdue = request.args.get("overdue") == "1"
    now = current_app.config["CLOCK"]()
    try:
        listing = list_contacts(site, query, page, PER_PAGE, now=now, overdue=overdue)
    except NotFound:
        abort(404)
    return render_template("admin/contacts.html", site_key=site, listing=listing)


@admin_bp.get("/sites/<site>/contacts/<int:contact_id>")
@role_required("analyst")
def contact(site: str, contact_id: int) -> str:
    try:
        detail = contact_detail(site, contact_id, now=current_app.config["CLOCK"]())
    except NotFound:
        abort(404)
    return render_template("admin/contact.html", contact=detail)


@admin_bp.app_template_filter("profile_value")
def profile_value(value: Any) -> str:
    """A stored value as plain text (escaped by the template): lists joined, booleans Yes/No."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return ", ".join(profile_value(item) for item in value)
    return str(value)


@admin_bp.app_template_filter("console_time")
def console_time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


@admin_bp.app_template_filter("score_text")
def score_text(value: float) -> str:
    """6.0 → "6", 2.5 → "2.5": scores are sums of weights, usually whole."""
    return f"{value:.2f}".rstrip("0").rstrip(".")
