"""API tokens (admins only): a site's tokens, creating one and revoking one.

A new token is shown once, in the body of the page that answers the form: never flashed (the
session cookie is only signed, not encrypted), never in a URL, and only its hash is stored.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField

from app.admin import admin_bp
from app.admin.access import role_required
from app.admin.forms import ActionForm, attach_errors
from app.clock import current_time
from app.models import ROLES, TOKEN_ROLES, ApiToken
from app.services.accounts import MAX_NAME_LENGTH, create_token, list_tokens, revoke_token
from app.services.errors import Invalid, NotFound


class NewTokenForm(FlaskForm):
    """Checks only the role; ``create_token`` checks the name, like the CLI."""

    name = StringField("Name")
    role = SelectField("Role", choices=list(TOKEN_ROLES), default=ROLES[0])


def _tokens_page(
    site: str,
    form: NewTokenForm,
    status: int = 200,
    created: tuple[ApiToken, str] | None = None,
) -> tuple[str, int]:
    try:
        tokens = list_tokens(site)
    except NotFound:
        abort(404)
    page = render_template(
        "admin/tokens.html",
        site_key=site,
        tokens=tokens,
        form=form,
        max_name_length=MAX_NAME_LENGTH,
        created=created,
    )
    return page, status


@admin_bp.route("/sites/<site>/tokens", methods=["GET", "POST"])
@role_required("admin")
def tokens(site: str) -> tuple[str, int]:
    form = NewTokenForm()
    if not form.is_submitted():
        return _tokens_page(site, form)
    if not form.validate():  # CSRF is checked (400) before the view runs
        return _tokens_page(site, form, 422)
    try:
        created = create_token(
            site,
            form.role.data,
            form.name.data or "",
            created_by=current_user._get_current_object(),
            now=current_time(),
        )
    except NotFound:
        abort(404)
    except Invalid as exc:
        attach_errors(form, exc)
        return _tokens_page(site, form, 422)
    return _tokens_page(site, NewTokenForm(formdata=None), created=created)


@admin_bp.post("/sites/<site>/tokens/<int:token_id>/revoke")
@role_required("admin")
def token_revoke(site: str, token_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        token = revoke_token(site, token_id, current_time())
    except NotFound:
        abort(404)
    flash(f'Token "{token.name}" ({token.prefix}…) is revoked: calls with it are refused.')
    return redirect(url_for("admin.tokens", site=site))
