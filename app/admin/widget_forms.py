"""Forms (marketer): a site's widget forms, a form's editor, and its live preview."""

from __future__ import annotations

from functools import partial

from flask import abort, render_template, request, url_for
from flask_login import current_user

from app.admin import access, admin_bp
from app.admin.config_editor import Page, editable_or_404, entry_editor, open_editor
from app.admin.config_forms.forms import FormForm
from app.admin.explain import ExplainForm
from app.clock import current_time
from app.services.asking import PreviewVisitor, preview_token
from app.services.errors import NotFound
from app.services.siteconfig import site_snapshot


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
    fields = config.section("fields")
    editor = FormForm()
    editor.set_choices(sorted(config.section("tiers"), key=lambda t: t["rank"]), fields)
    return entry_editor(
        site,
        "forms",
        key,
        editor,
        config,
        partial(
            editor.entry,
            [f["key"] for f in fields],
            config.entry("forms", key).get("always_ask") if key in config.keys("forms") else [],
        ),
        lambda: url_for("admin.form", site=site, key=editor.key.data),
        template="admin/form.html",
        preview=_preview_controls(site) if key else None,
        origins=sorted(site_snapshot(site).origins) if key else (),
    )


def _preview_controls(site: str) -> ExplainForm:
    """The made-up visitor's controls, the explain page's form without its form choice."""
    return ExplainForm.for_site(site_snapshot(site), request.args)


@admin_bp.get("/sites/<site>/forms/<key>/preview")
@access.role_required("analyst")
def form_preview(site: str, key: str) -> str:
    """The real widget for a made-up visitor (score, stage reached, known fields in the query)."""
    try:
        snapshot = site_snapshot(site)
        snapshot.form(key)
    except NotFound:
        abort(404)
    controls = ExplainForm.for_site(snapshot, request.args)
    controls.validate()
    visitor = PreviewVisitor(
        site_key=site,
        form_key=key,
        score=0 if controls.score.errors else float(controls.score.data or 0),
        reached_stage=None
        if controls.stage.errors or controls.stage.data in (None, "none")
        else controls.stage.data,
        known=tuple(k for k in controls.known.data or () if k in snapshot.fields),
    )
    token = preview_token(visitor, current_time())
    return render_template(
        "admin/preview.html",
        site_key=site,
        form_key=key,
        api=url_for("api.preview_ask", token=token, site=site, form=key).split("/api/v1/sites/")[0],
        page_stage=request.args.get("page_stage") or "",
        visitor=visitor,
    )
