"""WTForms for the console: the generic forms and inputs every screen uses, and the one way a
service's refusal is shown on a form. Every form carries a CSRF token (Flask-WTF).

The Configure pages' forms, one module per config section, are in ``config_forms``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    Field,
    Form,
    FormField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
)
from wtforms.validators import DataRequired, Length, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from app.services.errors import Invalid, ServiceError

Problems = dict[str, list[str]]


def problem_lines(exc: ServiceError) -> list[str]:
    """A refusal in lines: its message, then every field's messages (shown on one line where
    no input carries them)."""
    return [exc.message, *(m for ms in (exc.fields or {}).values() for m in ms)]


def attach_errors(
    form: Form,
    exc: Invalid,
    *,
    problems: Mapping[str, list[str]] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> Problems:
    """Show a service's refusal on ``form``: each of ``problems`` (default: all ``exc`` names)
    next to the input of its name (``group.name`` inside a FormField), or of its alias in
    ``aliases`` where the names differ.

    Returns the problems that name no input (the CSRF token is none); their messages, and
    ``exc.message`` when ``exc`` names no problem at all, go above the form (``form_errors``).
    """
    unplaced: Problems = {}
    for name, messages in ((exc.fields or {}) if problems is None else problems).items():
        field = _input_named(form, (aliases or {}).get(name, name))
        if field is None or name == "csrf_token":
            unplaced.setdefault(name, []).extend(messages)
            form.form_errors.extend(messages)
        else:
            field.errors = [*field.errors, *messages]
    if not exc.fields:
        form.form_errors.append(exc.message)
    return unplaced


def _input_named(form: Form, name: str) -> Field | None:
    """The input ``name`` names: ``strings.submit`` is input ``submit`` of the ``strings``
    group (a FormField)."""
    head, _, rest = name.partition(".")
    field = form._fields.get(head)
    if not rest:
        return field
    return _input_named(field.form, rest) if isinstance(field, FormField) else None


def number_parsed(form: Any, field: Field) -> None:
    """Input that is no number already carries its message; range checks would only repeat it.
    NaN and infinities ("nan", "sNaN", "inf") parse as decimals but are no numbers either."""
    if field.process_errors:
        raise StopValidation()
    data = field.data
    if isinstance(data, Decimal) and not data.is_finite():
        raise StopValidation("Enter a number.")


def blank_none(value: Any) -> Any:
    """Strip text; an empty answer means "not set"."""
    if isinstance(value, str):
        value = value.strip()
    return value if value not in ("", None) else None


def as_number(value: Any) -> int | float | None:
    """A Decimal from the form as the int or float a config holds."""
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def text_lines(text: str | None) -> list[str]:
    """The non-blank lines of a text area, stripped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DeleteForm(FlaskForm):
    """Only the CSRF token."""


class ActionForm(FlaskForm):
    """Only the CSRF token: a button that does one thing (rotate, replay, re-enable…)."""


class MoveForm(FlaskForm):
    direction = SelectField(choices=[SelectChoice("up"), SelectChoice("down")])


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class LogoutForm(FlaskForm):
    """Only the CSRF token: logging out is a POST, so another site cannot log you out."""
