"""Console pages for a site's config: history with diffs, download, upload.

Only admins read destination URLs whole; everyone else gets them masked (``***`` for the
user-info and query values), in the download and in the diffs alike."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from app.admin import admin_bp
from app.admin.access import role_required
from app.services.errors import Invalid, NotFound
from app.services.people import requalification_status
from app.services.siteconfig import (
    config_history,
    current_config_yaml,
    import_uploaded_config,
    revision_diff,
)


class UploadForm(FlaskForm):
    file = FileField("Config file (YAML or JSON)", validators=[FileRequired()])


@admin_bp.get("/sites/<site>/config")
@role_required("analyst")
def config(site: str) -> str:
    return _config_page(site, UploadForm())


def _config_page(site: str, form: UploadForm, problems: dict | None = None, status: int = 200):
    try:
        history = config_history(site)
        requalification = requalification_status(site)
    except NotFound:
        abort(404)
    page = render_template(
        "admin/config.html",
        site_key=site,
        history=history,
        form=form,
        problems=problems,
        requalification=requalification,
    )
    return page, status


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
@role_required("analyst")
def config_revision(site: str, version: int) -> str:
    try:
        diff = revision_diff(site, version, masked=not current_user.can("admin"))
    except NotFound:
        abort(404)
    return render_template("admin/revision.html", site_key=site, diff=diff)
