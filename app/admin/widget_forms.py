"""Forms (marketer): a site's widget forms, a form's editor, and its live preview."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from flask import Response, abort, jsonify, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.admin import access, admin_bp
from app.admin.config_editor import (
    Page,
    editable_or_404,
    entry_editor,
    entry_or_404,
    open_editor,
    refusal_lines,
)
from app.admin.config_forms.forms import FormForm
from app.admin.explain import ExplainForm
from app.clock import current_time
from app.services.asking import (
    PreviewVisitor,
    preview_draft,
    preview_token,
    read_preview_token,
)
from app.services.errors import Invalid, NotFound
from app.services.siteconfig import EditableConfig, SiteSnapshot, site_snapshot

# The preview's visitor controls share the form page with the editor: their inputs are named
# (and their ids made) apart, so no label points at the editor's inputs and no save takes them.
CONTROLS_PREFIX = "visitor"


@admin_bp.get("/sites/<site>/forms")
@access.role_required("analyst")
def forms(site: str) -> str:
    config = editable_or_404(site)
    return render_template(
        "admin/forms.html",
        site_key=site,
        forms=config.section("forms"),
        can_edit=current_user.can("marketer"),
    )


@admin_bp.route("/sites/<site>/forms/new", methods=["GET", "POST"], defaults={"key": None})
@admin_bp.route("/sites/<site>/forms/<key>", methods=["GET", "POST"])
@access.role_required("analyst")
def form(site: str, key: str | None) -> Page:
    config = open_editor(site, key)
    editor, entry_of = _editor(config, key)
    return entry_editor(
        site,
        "forms",
        key,
        editor,
        config,
        entry_of,
        lambda: url_for("admin.form", site=site, key=editor.key.data),
        template="admin/form.html",
        preview=_controls(site_snapshot(site), request.args) if key else None,
        origins=sorted(site_snapshot(site).origins) if key else (),
    )


def _editor(config: EditableConfig, key: str | None) -> tuple[FormForm, Callable[[], Any]]:
    """The form's editor, and what makes its config entry from the values it holds."""
    fields = config.section("fields")
    editor = FormForm()
    editor.set_choices(sorted(config.section("tiers"), key=lambda t: t["rank"]), fields)
    editor.show_defaults(config.config["site"])
    previous = config.entry("forms", key).get("always_ask") if key in config.keys("forms") else []
    return editor, partial(editor.entry, [f["key"] for f in fields], previous)


def _controls(site: SiteSnapshot, data: MultiDict[str, str]) -> ExplainForm:
    """The made-up visitor's controls, the explain page's form without its form choice."""
    return ExplainForm.for_site(site, data, prefix=CONTROLS_PREFIX)


def _visitor(site: SiteSnapshot, key: str, data: MultiDict[str, str]) -> PreviewVisitor:
    """The visitor the controls in ``data`` describe (a bad value counts as none)."""
    controls = _controls(site, data)
    controls.validate()
    score, reached_stage, known = controls.hypothetical()
    return PreviewVisitor(site.key, key, score, reached_stage, known)


def _snapshot_with_form(site: str, key: str) -> SiteSnapshot:
    try:
        snapshot = site_snapshot(site)
        snapshot.form(key)
    except NotFound:
        abort(404)
    return snapshot


@admin_bp.get("/sites/<site>/forms/<key>/preview")
@access.role_required("analyst")
def form_preview(site: str, key: str) -> str:
    """The real widget for a made-up visitor: the one a ``preview`` token names (made by
    :func:`form_preview_draft`, with the editor's unsaved values), else the saved form for the
    controls' values in the query."""
    snapshot = _snapshot_with_form(site, key)
    now = current_time()
    token = request.args.get("preview")
    if token is None:
        visitor = _visitor(snapshot, key, request.args)
        token = preview_token(visitor, now)
    else:
        try:
            visitor = read_preview_token(token, site, key, now)
        except NotFound:
            abort(404)
    return render_template(
        "admin/preview.html",
        site_key=site,
        form_key=key,
        api=url_for("api.preview_ask", token=token, site=site, form=key).split("/api/v1/sites/")[0],
        page_stage=request.args.get("page_stage") or "",
        visitor=visitor,
    )


@admin_bp.post("/sites/<site>/forms/<key>/preview")
@access.role_required("analyst")
def form_preview_draft(site: str, key: str) -> tuple[Response, int]:
    """Preview as you type: the form page posts its editor's values (when the user may edit)
    and the controls'; the answer is the preview page's URL for them, or the problems that
    stop it (422). The values are checked as a save checks them, and nothing is saved."""
    snapshot = _snapshot_with_form(site, key)
    visitor = _visitor(snapshot, key, request.form)
    if "title" in request.form:  # the editor's values came along
        draft, problems = _draft(site, key)
        if problems:
            return jsonify(problems=problems), 422
        visitor = replace(visitor, draft=draft)
    try:
        token = preview_token(visitor, current_time())
    except Invalid as exc:
        return jsonify(problems=[exc.message]), 422
    return jsonify(url=url_for("admin.form_preview", site=site, key=key, preview=token)), 200


def _draft(site: str, key: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The editor's values as a checked draft of form ``key``, or the problems, each named by
    its input's label as the editor would show them."""
    config = editable_or_404(site)
    entry_or_404(config, "forms", key)
    editor, entry_of = _editor(config, key)
    editor.key.data = key
    draft, unplaced = None, []
    if editor.validate():
        try:
            draft = preview_draft(site, key, entry_of())
        except Invalid as exc:
            unplaced = refusal_lines(editor, exc, "forms", config.position("forms", key))[1:]
    placed = [f"{field.label.text}: {error}" for field in editor for error in field.errors]
    return draft, [*placed, *unplaced]
