"""Console pages for people (admins only): list and add users, change a role, disable an
account, reset a password, lift a sign-in lock. A generated password is shown once, in the
response body only."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, EmailField, PasswordField, SelectField
from wtforms.validators import Length, Optional

from app.admin import admin_bp
from app.admin.access import role_required
from app.admin.forms import attach_errors
from app.clock import current_time
from app.models import CONSOLE_ROLES, User
from app.services.accounts import (
    create_user,
    find_user,
    list_users,
    set_password,
    sign_in_locks,
    unlock_sign_in,
    update_user,
)
from app.services.errors import Invalid, NotFound

# The sign-in form accepts at most this many characters: a longer password could never be used.
MAX_PASSWORD_LENGTH = 200
TOO_LONG_PASSWORD = f"Use at most {MAX_PASSWORD_LENGTH} characters."


class NewUserForm(FlaskForm):
    """Checks only sizes and the role; ``create_user`` checks the rest, like the CLI."""

    email = EmailField("Email")
    role = SelectField("Role", choices=list(CONSOLE_ROLES), default=CONSOLE_ROLES[0])
    password = PasswordField(
        "Password (optional)",
        validators=[
            Optional(),
            Length(max=MAX_PASSWORD_LENGTH, message=TOO_LONG_PASSWORD),
        ],
    )


class UserForm(FlaskForm):
    role = SelectField("Role", choices=list(CONSOLE_ROLES))
    active = BooleanField("Active: may sign in")


class ResetPasswordForm(FlaskForm):
    """Only the CSRF token: a new password is generated."""


class UnlockForm(FlaskForm):
    """Only the CSRF token: the user's sign-in lock is lifted."""


def _users_page(form: NewUserForm, status: int = 200) -> tuple[str, int]:
    locks = {lock.user_id: lock for lock in sign_in_locks(current_time())}
    return render_template("admin/users.html", users=list_users(), form=form, locks=locks), status


def _user_page(
    person: User,
    form: UserForm | None = None,
    status: int = 200,
    new_password: str | None = None,
    notice: str | None = None,
) -> tuple[str, int]:
    page = render_template(
        "admin/user.html",
        person=person,
        form=form or UserForm(formdata=None, obj=person),
        new_password=new_password,
        notice=notice,
    )
    return page, status


def _found(user_id: int) -> User:
    person = find_user(user_id)
    if person is None:
        abort(404)
    return person


@admin_bp.route("/users", methods=["GET", "POST"])
@role_required("admin")
def users() -> Response | tuple[str, int]:
    form = NewUserForm()
    if not form.is_submitted():
        return _users_page(form)
    if not form.validate():  # CSRF is checked (400) before the view runs
        return _users_page(form, 422)
    try:
        person, generated = create_user(
            form.email.data or "", form.role.data, form.password.data or None
        )
    except Invalid as exc:
        attach_errors(form, exc)
        return _users_page(form, 422)
    if generated is None:
        flash(f"User {person.email} created.")
        return redirect(url_for("admin.users"))
    # Never flashed: the session cookie is only signed, not encrypted.
    return _user_page(person, new_password=generated, notice=f"User {person.email} created.")


@admin_bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
def user(user_id: int) -> Response | tuple[str, int]:
    person = _found(user_id)
    form = UserForm(obj=person)
    if not form.is_submitted():
        return _user_page(person, form)
    if not form.validate():
        return _user_page(person, form, 422)
    try:
        update_user(person, form.role.data, form.active.data)
    except Invalid as exc:
        attach_errors(form, exc)
        return _user_page(person, form, 422)
    state = "active" if person.active else "disabled"
    flash(f"Saved {person.email}: {person.role}, {state}.")
    if not (current_user.is_authenticated and current_user.can("admin")):
        return redirect(url_for("admin.home"))  # you demoted or disabled yourself
    return redirect(url_for("admin.user", user_id=person.id))


@admin_bp.post("/users/<int:user_id>/password")
@role_required("admin")
def user_password(user_id: int) -> tuple[str, int]:
    person = _found(user_id)
    if not ResetPasswordForm().validate_on_submit():
        abort(400)
    generated = set_password(person)
    return _user_page(person, new_password=generated, notice=f"New password for {person.email}.")


@admin_bp.post("/users/<int:user_id>/unlock")
@role_required("admin")
def user_unlock(user_id: int) -> Response:
    person = _found(user_id)
    if not UnlockForm().validate_on_submit():
        abort(400)
    try:
        unlock_sign_in(person.email, current_time(), by=current_user.email)
    except NotFound:
        flash(f"{person.email} was not locked.")
    else:
        flash(f"{person.email} may sign in again.")
    return redirect(url_for("admin.users"))
