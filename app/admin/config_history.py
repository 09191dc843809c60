"""Console pages for a site's config: history with diffs, download, upload, and the pending
change to the definition with its Approve and Reject buttons (docs/sales.md).

Only admins read destination URLs whole; everyone else gets them masked (``***`` for the
user-info and query values), in the download and in the diffs alike. Sales users read this page
too: they approve marketing's changes to the definition here."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import TextAreaField
from wtforms.validators import Length

from app.admin import admin_bp
from app.admin.access import role_required
from app.admin.config_editor import pending_notice
from app.admin.forms import ActionForm, problem_lines
from app.models import SALES
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.people import requalification_status
from app.services.sales import MAX_DAYS
from app.services.siteconfig import (
    MAX_COMMENT,
    DefinitionPending,
    approve_proposal,
    config_history,
    current_config_yaml,
    import_uploaded_config,
    may_decide,
    reject_proposal,
    restore_revision,
    revision_diff,
    site_proposals,
    site_snapshot,
)


class UploadForm(FlaskForm):
    file = FileField("Config file (YAML or JSON)", validators=[FileRequired()])


class DecisionForm(FlaskForm):
    """Approve or reject a proposal: the comment (required to reject, checked by the service)."""

    comment = TextAreaField("Comment", validators=[Length(max=MAX_COMMENT)])


@admin_bp.get("/sites/<site>/config")
@role_required("analyst", SALES)
def config(site: str) -> tuple[str, int]:
    return _config_page(site, UploadForm())


def _config_page(
    site: str,
    form: UploadForm,
    problems: dict | None = None,
    status: int = 200,
    decision: str | None = None,
):
    """The page; ``decision``: why an approval or rejection was refused, shown on top."""
    try:
        history = config_history(site, masked=not current_user.can("admin"))
        proposals = site_proposals(site)
        requalification = requalification_status(site)
    except NotFound:
        abort(404)
    page = render_template(
        "admin/config.html",
        site_key=site,
        history=history,
        proposals=proposals,
        deciding={p.id for p in proposals if may_decide(p, current_user.email)},
        decision_form=DecisionForm(formdata=None),
        decision=decision,
        form=form,
        problems=problems,
        requalification=requalification,
        max_days=MAX_DAYS,
    )
    return page, status


@admin_bp.post("/sites/<site>/config/proposals/<int:proposal>/<any(approve, reject):verdict>")
@role_required("marketer", SALES)
def decide_proposal(site: str, proposal: int, verdict: str) -> Response | tuple[str, int]:
    """Approve (apply) or reject a pending change to the definition, with a comment."""
    form = DecisionForm()
    if not form.validate_on_submit():  # CSRF is checked (400) before the view runs
        return _config_page(
            site, UploadForm(formdata=None), status=422, decision="Comment too long."
        )
    try:
        if verdict == "approve":
            applied = approve_proposal(proposal, current_user.email, form.comment.data, site)
            flash(f"Approved: config version {applied.config_version} is live.")
        else:
            reject_proposal(proposal, current_user.email, form.comment.data, site)
            flash(f"Rejected proposal {proposal}.")
    except NotFound:
        abort(404)
    except (Forbidden, Conflict, Invalid) as exc:
        decision = " ".join(problem_lines(exc))
        return _config_page(site, UploadForm(formdata=None), status=exc.status, decision=decision)
    return redirect(url_for("admin.config", site=site))


@admin_bp.post("/sites/<site>/config")
@role_required("marketer")
def upload_config(site: str) -> Response | tuple[str, int]:
    form = UploadForm()
    if not form.validate_on_submit():
        return _config_page(site, form, status=422)
    try:
        text = form.file.data.read().decode("utf-8")
        imported = import_uploaded_config(
            site,
            text,
            author=current_user.email,
            may_change_destinations=current_user.can("admin"),
        )
    except DefinitionPending as pending:
        flash(pending_notice(pending))
        return redirect(url_for("admin.config", site=site))
    except UnicodeDecodeError:
        return _config_page(site, form, {"<file>": ["the file is not UTF-8 text"]}, 422)
    except Invalid as exc:
        return _config_page(site, form, exc.fields or {"<file>": [exc.message]}, 422)
    except NotFound:
        abort(404)
    flash(f"Imported: config version {imported.config_version}.")
    return redirect(url_for("admin.config", site=site))


@admin_bp.get("/sites/<site>/config.yaml")
@role_required("analyst")
def download_config(site: str) -> Response:
    try:
        text = current_config_yaml(site, masked=not current_user.can("admin"))
    except NotFound:
        abort(404)
    response = Response(text, mimetype="application/yaml")
    response.headers["Content-Disposition"] = f'attachment; filename="{site}.yaml"'
    return response


@admin_bp.get("/sites/<site>/config/<int:version>")
@role_required("analyst", SALES)
def config_revision(site: str, version: int) -> str:
    return _revision_page(site, version)


def _revision_page(site: str, version: int, problem: str | None = None) -> str:
    """A version's page: what it changed, in words and lines; ``problem``: why a restore was
    refused, shown on top."""
    try:
        diff = revision_diff(site, version, masked=not current_user.can("admin"))
    except NotFound:
        abort(404)
    return render_template(
        "admin/revision.html", site_key=site, diff=diff, latest=_in_force(site), problem=problem
    )


def _in_force(site: str) -> int:
    """The config version in force (the History page offers to restore any other)."""
    return site_snapshot(site).config_version


@admin_bp.post("/sites/<site>/config/<int:version>/restore")
@role_required("marketer")
def restore_config_revision(site: str, version: int) -> Response | tuple[str, int]:
    """Import an earlier version again as a new one (a change to the definition waits for
    approval as any other)."""
    if not ActionForm().validate_on_submit():  # CSRF is checked (400) before the view runs
        abort(400)
    try:
        restored = restore_revision(
            site, version, current_user.email, may_change_destinations=current_user.can("admin")
        )
    except DefinitionPending as pending:
        flash(pending_notice(pending))
        return redirect(url_for("admin.config", site=site))
    except NotFound:
        abort(404)
    except Invalid as exc:
        return _revision_page(site, version, " ".join(problem_lines(exc))), 422
    flash(f"Restored version {version} as config version {restored.config_version}.")
    return redirect(url_for("admin.config", site=site))
