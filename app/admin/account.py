"""The signed-in user's own account: their role, and changing their own password."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from app.admin import admin_bp
from app.admin.users import MAX_PASSWORD_LENGTH
from app.clock import current_time
from app.extensions import limiter
from app.services.accounts import (
    MIN_PASSWORD_LENGTH,
    change_own_password,
    start_console_session,
)
from app.services.errors import Invalid, TooManyAttempts

_TOO_LONG = f"Use at most {MAX_PASSWORD_LENGTH} characters."


class OwnPasswordForm(FlaskForm):
    """Sizes and the repeat here; ``change_own_password`` checks the rest."""

    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=200)],
    )
    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired("Enter a new password."),
            Length(max=MAX_PASSWORD_LENGTH, message=_TOO_LONG),
        ],
    )
    repeat = PasswordField(
        "New password again",
        validators=[EqualTo("new_password", message="The two new passwords differ.")],
    )


def _limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


@admin_bp.route("/account", methods=["GET", "POST"])
@login_required
@limiter.limit(_limit, methods=["POST"])
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
