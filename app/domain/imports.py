"""Imported rows: what the CRM (a file, the token API) says of a person, checked by each
field's own rules (``answers.clean_answer``, as a submit checks an answer).

A row is an email and values by field key. Its email is cleaned like the identity field's
answer and compared normalised; a blank value is left out (a blank never overwrites); a consent
is refused (only the person gives it). Text formats (CSV) carry every value as a string: there
a yes/no field reads ``true``/``false`` (also ``yes``/``no``, ``1``/``0``) and a multiselect
its options separated by ``;``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.domain.answers import AnswerError, clean_answer
from app.domain.identity import normalize_email
from app.domain.specs import FieldRule, is_blank

EMAIL_REQUIRED = "An email is required."
NO_SUCH_FIELD = "No such field on this site."
CONSENT_NOT_IMPORTED = "Consent cannot be imported: only the person gives it."
MULTI_SEPARATOR = ";"

_YES = frozenset({"true", "yes", "1"})
_NO = frozenset({"false", "no", "0"})
# The email's rule when the site has no identity field.
_EMAIL_RULE = FieldRule(key="email", tier="", kind="email")


@dataclass(frozen=True)
class ImportedRow:
    """One person as a checked row: the normalised email and the cleaned non-blank values
    (the identity field's value among them, when the site has one)."""

    email: str
    values: dict[str, Any]


def check_imported_row(
    fields: Mapping[str, FieldRule], email_key: str, row: Mapping[str, Any], *, text: bool
) -> tuple[ImportedRow | None, dict[str, str]]:
    """``row`` (values by key, ``email_key`` naming the email) checked: the row, or None and
    one message per offending key. ``text``: every value came as a string (CSV)."""
    errors: dict[str, str] = {}
    email = _email(fields.get(email_key, _EMAIL_RULE), row.get(email_key), errors, email_key)
    values: dict[str, Any] = {}
    for key, raw in row.items():
        if key == email_key:
            continue
        rule = fields.get(key)
        if rule is None:
            errors[key] = NO_SUCH_FIELD
            continue
        if rule.kind == "consent":
            if not is_blank(raw):
                errors[key] = CONSENT_NOT_IMPORTED
            continue
        try:
            value = clean_answer(rule, from_text(rule, raw) if text else raw)
        except AnswerError as error:
            errors[key] = error.message
            continue
        if value is not None:
            values[key] = value
    if errors or email is None:
        return None, errors
    if email_key in fields:
        values[email_key] = email
    # In the config's order, whatever the row's: what changed is listed the same way each time.
    return ImportedRow(email, {key: values[key] for key in fields if key in values}), errors


def _email(rule: FieldRule, raw: Any, errors: dict[str, str], key: str) -> str | None:
    try:
        email = clean_answer(rule, raw)
    except AnswerError as error:
        errors[key] = error.message
        return None
    if email is None:
        errors[key] = EMAIL_REQUIRED
        return None
    return normalize_email(email)


def from_text(rule: FieldRule, raw: Any) -> Any:
    """A value read from a text format, in the JSON type its field's kind takes (a word it
    does not know is left as it is, for ``clean_answer`` to refuse)."""
    if not isinstance(raw, str):
        return raw
    if rule.kind == "boolean":
        word = raw.strip().lower()
        return True if word in _YES else False if word in _NO else raw
    if rule.kind == "multiselect":
        return [part.strip() for part in raw.split(MULTI_SEPARATOR) if part.strip()]
    return raw
