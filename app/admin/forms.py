"""WTForms for the console; every form carries a CSRF token (Flask-WTF)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, Form, PasswordField
from wtforms.validators import DataRequired, Length

from app.services.errors import Invalid


def attach_errors(form: Form, exc: Invalid) -> None:
    """Show a service's reasons next to the fields they name; others above the form."""
    for name, messages in (exc.fields or {}).items():
        field = form._fields.get(name)
        if field is None or name == "csrf_token":
            form.form_errors.extend(messages)
        else:
            field.errors = [*field.errors, *messages]
    if not exc.fields:
        form.form_errors.append(exc.message)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class LogoutForm(FlaskForm):
    """Only the CSRF token: logging out is a POST, so another site cannot log you out."""
