"""Console pages for contacts: the searchable list and one contact's page (analysts and up)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.admin import admin_bp
from app.admin.access import role_required
from app.clock import current_time
from app.domain.wording import Options, answer_text, number_text
from app.services.errors import Invalid, NotFound
from app.services.insights import contact_detail, list_contacts
from app.services.privacy import ADMIN, erase_contact, erasures, withdraw_for_contact

PER_PAGE = 50


@admin_bp.get("/sites/<site>/contacts")
@role_required("analyst")
def contacts(site: str) -> str:
    query = request.args.get("q", "")
    page = request.args.get("page", 1, type=int)  # not a number: the first page
    # overdue=1 (sales, as before there was a marketing list) or overdue=marketing
    overdue = {"1": "sales", "marketing": "marketing"}.get(request.args.get("overdue", ""), "")
    now = current_time()
    try:
        listing = list_contacts(site, query, page, PER_PAGE, now=now, overdue=overdue)
    except NotFound:
        abort(404)
    shown = erasures(site) if current_user.can("admin") and page <= 1 and not query else []
    return render_template("admin/contacts.html", site_key=site, listing=listing, erasures=shown)


@admin_bp.get("/sites/<site>/contacts/<int:contact_id>")
@role_required("analyst")
def contact(site: str, contact_id: int) -> str:
    try:
        detail = contact_detail(site, contact_id, now=current_time())
    except NotFound:
        abort(404)
    return render_template(
        "admin/contact.html", contact=detail, erase_error=None, may_erase=current_user.can("admin")
    )


@admin_bp.post("/sites/<site>/contacts/<int:contact_id>/consents/<key>/withdraw")
@role_required("marketer")
def contact_withdraw(site: str, contact_id: int, key: str) -> Response:
    """Withdraw one consent on the person's behalf (say, they asked by email)."""
    now = current_time()
    try:
        withdrawn = withdraw_for_contact(
            site, contact_id, [key], source=ADMIN, actor=current_user.email, now=now
        )
    except NotFound:
        abort(404)
    except Invalid as exc:
        flash(f"Nothing was withdrawn: {exc.message}")
    else:
        flash(
            f'Consent "{key}" withdrawn; destinations hear of it as an update.'
            if withdrawn
            else f'Consent "{key}" was not given: nothing to withdraw.'
        )
    return redirect(url_for("admin.contact", site=site, contact_id=contact_id) + "#consent")


@admin_bp.post("/sites/<site>/contacts/<int:contact_id>/erase")
@role_required("admin")
def contact_erase(site: str, contact_id: int) -> Response | tuple[str, int]:
    """Erase the person (data-subject request); they must type the contact's id to confirm."""
    now = current_time()
    if request.form.get("confirm", "").strip().lstrip("#") != str(contact_id):
        try:
            detail = contact_detail(site, contact_id, now=now)
        except NotFound:
            abort(404)
        error = f"Type {contact_id} to confirm: nothing was erased."
        page = render_template(
            "admin/contact.html", contact=detail, erase_error=error, may_erase=True
        )
        return page, 422
    try:
        result = erase_contact(site, contact_id, requested_by=current_user.email, now=now)
    except NotFound:
        abort(404)
    told = ", ".join(result["notified"]) or "no destination had received them"
    flash(f"Contact #{contact_id} erased with everything held on them. Told: {told}.")
    return redirect(url_for("admin.contacts", site=site))


@admin_bp.app_template_filter("profile_value")
def profile_value(value: Any, options: Options | None = None) -> str:
    """A stored value as plain text (escaped by the template), in the visitor's words: an
    option by its label, lists joined, booleans Yes/No."""
    return answer_text(value, options or ())


@admin_bp.app_template_filter("console_time")
def console_time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


@admin_bp.app_template_filter("score_text")
def score_text(value: float) -> str:
    """6.0 → "6", 2.5 → "2.5": scores are sums of weights, usually whole."""
    return number_text(value)
