"""The one editing flow of the Configure pages: load a site's config, show an entry's editor,
save it as one config edit, show why a save was refused; and deleting an entry.

Analysts may open every editor read-only; saving needs the marketer role (destinations: admin
only, also to read). Each save goes through ``siteconfig.edit_config`` — one validated,
all-or-nothing import recorded in the config history.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.admin import access, admin_bp
from app.admin.forms import DeleteForm, attach_errors
from app.services.errors import Conflict, Invalid, NotFound
from app.services.siteconfig import (
    Config,
    DefinitionPending,
    EditableConfig,
    EditRefused,
    edit_config,
    editable_config,
    problems_for_entry,
    put_entry,
    readable_problems,
    remove_destination,
    remove_field,
    remove_form,
    remove_tier,
)

Page = str | tuple[str, int] | Response


@dataclass(frozen=True)
class Refusal:
    """Why a save did not happen: the page-level lines (headline first) and the answer's status
    (422 for invalid input, 409 when someone else saved first)."""

    status: int
    lines: list[str]


# Config keys whose problems belong next to a differently named input.
_ALIASES = {
    "ask_if": "ask_if_field",
    "consent": "consent_field",
    "on_complete": "on_complete_value",
}


def editable_or_404(site: str) -> EditableConfig:
    try:
        return editable_config(site)
    except NotFound:
        abort(404)


def entry_or_404(config: EditableConfig, section: str, key: str) -> Config:
    try:
        return config.entry(section, key)
    except NotFound:
        abort(404)


def submitted_version(config: EditableConfig) -> int:
    """The version the editor loaded (a hidden input), else the current one."""
    submitted = request.form.get("version", "")
    return int(submitted) if re.fullmatch(r"[0-9]{1,9}", submitted) else config.version


def save_edit(
    site: str,
    form: FlaskForm,
    config: EditableConfig,
    change: Callable[[Config], None],
    section: str,
    index: int | None,
    saved: str,
) -> Refusal | None:
    """Save ``change`` and flash ``saved``; None when saved or, for a change to the
    definition, proposed (then the notice says whose approval it waits for); else why not
    (field problems are attached to inputs)."""
    try:
        edit_config(site, submitted_version(config), current_user.email, change)
    except DefinitionPending as pending:
        flash(pending_notice(pending))
        return None
    except Invalid as exc:
        return Refusal(exc.status, refusal_lines(form, exc, section, index))
    except Conflict as exc:
        return Refusal(exc.status, [exc.message])
    except NotFound:
        abort(404)
    flash(saved)
    return None


def pending_notice(pending: DefinitionPending) -> str:
    """What a change to the definition that now waits says instead of "saved"."""
    return (
        f"Not saved yet: the change to the definition is waiting for approval by "
        f"{pending.awaiting} (proposal {pending.proposal_id}, on the Config page)."
    )


def refusal_lines(form: FlaskForm, exc: Invalid, section: str, index: int | None) -> list[str]:
    """Put each problem next to its input; return the page-level ones, headline first."""
    mine, rest = problems_for_entry(exc.fields or {}, section, index)
    lines = exc.lines(rest) if isinstance(exc, EditRefused) else readable_problems(rest, {})
    unplaced = attach_errors(form, exc, problems=mine, aliases=_ALIASES)
    lines.extend(
        f"{name}: {message}" for name, messages in unplaced.items() for message in messages
    )
    return [exc.message, *lines] if lines or not mine else ["Nothing was saved."]


def editor_page(template: str, refusal: Refusal | None = None, **context: Any) -> tuple[str, int]:
    """The editor page: 200 when shown, 422 after invalid input, else the refusal's status."""
    status = refusal.status if refusal else 422 if request.method == "POST" else 200
    context.setdefault("can_edit", current_user.can("marketer"))
    return render_template(template, problems=refusal and refusal.lines, **context), status


def refuse_unless_marketer() -> None:
    if request.method == "POST" and not current_user.can("marketer"):
        abort(403)


def open_editor(site: str, key: str | None) -> EditableConfig:
    """The config for an entry's editor: anyone may read, marketers create and save."""
    refuse_unless_marketer()
    if key is None and not current_user.can("marketer"):
        abort(403)
    return editable_or_404(site)


def entry_editor(
    site: str,
    section: str,
    key: str | None,
    form: Any,
    config: EditableConfig,
    entry_of: Callable[[], Config],
    after: Callable[[], str],
    template: str = "admin/edit.html",
    **extra: Any,
) -> Page:
    """The one editor flow for a tier, field or form: load, validate, save, or show problems."""
    if key is not None:
        current = entry_or_404(config, section, key)
        if request.method == "GET":
            form.load(current)
        form.key.data = key  # a key is never changed: entries are matched by it
    refusal = None
    if form.validate_on_submit():
        change = put_entry(section, entry_of(), key)
        saved = f'{section[:-1].capitalize()} "{form.key.data}" saved.'
        position = config.position(section, key)
        refusal = save_edit(site, form, config, change, section, position, saved)
        if refusal is None:
            return redirect(after())
    return editor_page(
        template,
        refusal,
        form=form,
        site_key=site,
        kind=section[:-1],
        key=key,
        version=submitted_version(config),
        delete_form=DeleteForm(),
        **extra,
    )


# ---- deleting ----

_REMOVERS: dict[str, Callable[[str], Callable[[Config], None]]] = {
    "tiers": remove_tier,
    "fields": remove_field,
    "forms": remove_form,
    "destinations": remove_destination,
}
_AFTER_DELETE = {
    "tiers": "admin.questions",
    "fields": "admin.questions",
    "forms": "admin.forms",
    "destinations": "admin.destinations",
}
_EDITOR = {
    "tiers": "admin.tier",
    "fields": "admin.field",
    "forms": "admin.form",
    "destinations": "admin.destination_edit",
}
_KEPT = {
    "tiers": "Answers already given to it are kept.",
    "fields": "Answers already given to it are kept.",
    "forms": "Answers already given to it are kept.",
    "destinations": "Nothing more is sent to it; its delivery log is kept.",
}


@admin_bp.post("/sites/<site>/<any(tiers, fields, forms):section>/<key>/delete")
@access.role_required("marketer")
def delete(site: str, section: str, key: str) -> Response:
    """Archive an entry (stored answers keep pointing at it); refused with the reason."""
    return delete_entry(site, section, key)


def delete_entry(site: str, section: str, key: str) -> Response:
    """Archive entry ``key`` of ``section`` (a POST carrying the CSRF token and the version the
    page was opened at); the reason is flashed when it is refused."""
    config = editable_or_404(site)
    entry_or_404(config, section, key)
    if not DeleteForm().validate_on_submit():
        abort(400)
    noun = section[:-1].capitalize()
    try:
        edit_config(site, submitted_version(config), current_user.email, _REMOVERS[section](key))
    except Invalid as exc:
        if isinstance(exc, EditRefused):
            lines = exc.lines()
        else:  # refused by the change itself: its reasons are the whole story
            lines = [m for messages in (exc.fields or {}).values() for m in messages]
        flash(f'{noun} "{key}" was not deleted. ' + " ".join(lines or [exc.message]))
        return redirect(url_for(_EDITOR[section], site=site, key=key))
    except Conflict as exc:
        flash(exc.message)
        return redirect(url_for(_EDITOR[section], site=site, key=key))
    flash(f'{noun} "{key}" deleted. {_KEPT[section]}')
    return redirect(url_for(_AFTER_DELETE[section], site=site))
