"""The signed-in user's own account: their role, and changing their own password."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from app.admin import admin_bp
from app.admin.routes import login_limit
from app.admin.users import MAX_PASSWORD_LENGTH, TOO_LONG_PASSWORD
from app.clock import current_time
from app.extensions import limiter
from app.services.accounts import (
    MIN_PASSWORD_LENGTH,
    change_own_password,
    start_console_session,
)
from app.services.errors import Invalid, TooManyAttempts


class OwnPasswordForm(FlaskForm):
    """Sizes and the repeat here; ``change_own_password`` checks the rest."""

    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired("Enter a new password."),
            Length(max=MAX_PASSWORD_LENGTH, message=TOO_LONG_PASSWORD),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    repeat = PasswordField(
        "New password again",
        validators=[EqualTo("new_password", message="The two new passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


@admin_bp.route("/account", methods=["GET", "POST"])
@login_required
@limiter.limit(login_limit, methods=["POST"])
def account() -> str | tuple[str, int] | Response:
    form = OwnPasswordForm()
    if not form.is_submitted():
        return _page(form)
    if form.validate():
        try:
            change_own_password(
                current_user, form.current_password.data, form.new_password.data, current_time()
            )
        except TooManyAttempts as exc:
            form.current_password.errors.append(exc.message)
            return _page(form), 429
        except Invalid as exc:
            for name, messages in (exc.fields or {}).items():
                getattr(form, name).errors.extend(messages)
        else:
            # Every session of the user ended with the old password; this browser goes on.
            login_user(current_user._get_current_object())
            start_console_session(current_user, current_time())
            flash("Your password is changed. Other browsers signed in as you are signed out.")
            return redirect(url_for("admin.account"))
    return _page(form), 422


def _page(form: OwnPasswordForm) -> str:
    return render_template("admin/account.html", form=form, min_length=MIN_PASSWORD_LENGTH)
