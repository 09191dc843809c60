"""The sales console: the hand-off queue and the brief on a contact (docs/console.md).

Sales users and admins work the queue (accept, reject, recycle, log a contact attempt: each a
sales outcome recorded as the signed-in user); analysts and marketers may read it. Every
button is a form with its own idempotency key, made when the page is drawn, so pressing it
twice records the outcome once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.admin import admin_bp
from app.admin.access import role_required
from app.clock import current_time
from app.domain.sales import NOTE_MAX, OutcomeInput
from app.models import SALES
from app.services.errors import Invalid, NotFound
from app.services.insights import contact_brief, contact_label, handoff_queue, site_queues
from app.services.sales import record_outcome

PER_PAGE = 50
READERS = ("analyst", SALES)  # who may read the queue and the briefs
# The queue's buttons: the outcome each records, and what the page says once it is recorded.
BUTTONS: dict[str, str] = {
    "accepted": "Accepted {email}.",
    "rejected": "Rejected {email} ({reason}).",
    "recycled": "Recycled {email} to marketing ({reason}).",
    "contacted": "Logged a contact attempt for {email}.",
}


class OutcomeForm(FlaskForm):
    """One button's form. The service checks the rest (a reason where one is needed, from the
    agreed list; the note's length) and its refusal is shown next to the button."""

    kind = SelectField(choices=list(BUTTONS))
    reason = StringField(validators=[Length(max=64)])
    note = TextAreaField(validators=[Length(max=NOTE_MAX)])
    key = HiddenField(validators=[DataRequired(), Length(max=128)])


@dataclass(frozen=True)
class Refusal:
    """A button's form that recorded nothing, drawn again with its input and problems."""

    contact_id: int
    kind: str
    reason: str
    note: str
    key: str
    problems: dict[str, list[str]] = field(default_factory=dict)


def outcome_key() -> str:
    """A fresh idempotency key for one drawn form."""
    return "console-" + secrets.token_urlsafe(18)


@admin_bp.get("/queue")
@role_required(*READERS)
def queues() -> str | Response:
    """Every site's queue, with how many wait; straight to it when there is one site."""
    found = site_queues(current_time())
    if len(found) == 1:
        return redirect(url_for("admin.queue", site=found[0].key))
    return render_template("admin/queues.html", queues=found)


@admin_bp.get("/sites/<site>/queue")
@role_required(*READERS)
def queue(site: str) -> str:
    return _queue_page(site, request.args.get("page", 1, type=int))[0]


@admin_bp.post("/sites/<site>/queue/<int:contact_id>/outcomes")
@role_required(SALES)
def queue_outcome(site: str, contact_id: int) -> Response | tuple[str, int]:
    form = OutcomeForm()
    page = request.args.get("page", 1, type=int)
    if not form.validate():
        return _queue_page(site, page, _refusal(contact_id, form, form.errors))
    now = current_time()
    reason = (form.reason.data or "").strip()
    data = OutcomeInput(
        kind=form.kind.data,
        by=current_user.email,
        idempotency_key=form.key.data,
        occurred_at=now,
        reason=reason or None,
        note=(form.note.data or "").strip() or None,
    )
    try:
        recorded = record_outcome(site, contact_id, data, now)
    except NotFound:
        abort(404)
    except Invalid as exc:
        return _queue_page(
            site, page, _refusal(contact_id, form, exc.fields or {"": [exc.message]})
        )
    # A replayed key answers the outcome it first recorded: confirm that one.
    email = contact_label(site, recorded["contact_id"])
    flash(BUTTONS[recorded["kind"]].format(email=email, reason=recorded["reason"]))
    return redirect(url_for("admin.queue", site=site, page=page if page > 1 else None))


@admin_bp.get("/sites/<site>/queue/<int:contact_id>")
@role_required(*READERS)
def brief(site: str, contact_id: int) -> str:
    try:
        found = contact_brief(site, contact_id, now=current_time())
    except NotFound:
        abort(404)
    return render_template("admin/brief.html", brief=found)


def _refusal(contact_id: int, form: OutcomeForm, problems: dict[str, Any]) -> Refusal:
    return Refusal(
        contact_id,
        form.kind.data or "",
        form.reason.data or "",
        form.note.data or "",
        form.key.data or outcome_key(),
        {name: list(messages) for name, messages in problems.items() if name != "csrf_token"},
    )


def _queue_page(site: str, page: int, refused: Refusal | None = None) -> tuple[str, int]:
    try:
        found = handoff_queue(site, page, PER_PAGE, now=current_time())
    except NotFound:
        abort(404)
    html = render_template(
        "admin/queue.html",
        queue=found,
        may_act=current_user.can(SALES),
        refused=refused,
        outcome_key=outcome_key,
    )
    return html, 200 if refused is None else 422
