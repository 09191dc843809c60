"""Answers: cleaning one value per field kind, and reviewing a whole submit (DESIGN §3)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any
from urllib.parse import urlsplit

from app.domain.interface import Message
from app.domain.selection import shown_keys
from app.domain.specs import MAX_NUMBER, Dependency, FieldRule, is_blank, is_storable_text

DEFAULT_MAX_LENGTH: dict[str, int] = {
    "text": 255,
    "textarea": 5000,
    "email": 254,
    "phone": 32,
    "url": 2000,
}

NOT_ASKED = Message("not_asked")
BOTH_ANSWERED_AND_SKIPPED = Message("answered_and_skipped")
REQUIRED = Message("required")
CONSENT_REQUIRED = Message("consent_required")

_INVALID_EMAIL = Message("invalid_email")
_INVALID_PHONE = Message("invalid_phone")
_INVALID_URL = Message("invalid_url")
_INVALID_NUMBER = Message("invalid_number")
_NUMBER_TOO_LARGE = Message("number_range", min=-MAX_NUMBER, max=MAX_NUMBER)
_INVALID_CHOICE = Message("invalid_choice")
_INVALID_CHOICES = Message("invalid_choices")
_REPEATED_CHOICE = Message("repeated_choice")
_INVALID_YES_NO = Message("invalid_yes_no")

_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)
_TLD = re.compile(r"[a-z]{2,63}", re.IGNORECASE)
_PHONE = re.compile(r"[0-9 +()\-./]+")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Longer numeric strings are no plausible answer, and int() refuses over 4300 digits anyway.
_MAX_NUMBER_CHARS = 100


class AnswerError(ValueError):
    """An answer that cannot be accepted; ``message`` is shown to the visitor."""

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message


def clean_answer(field: FieldRule, raw: Any) -> Any:
    """The normalized value of ``raw`` for ``field``, or None when ``raw`` is blank.

    Raises AnswerError (and nothing else, whatever ``raw`` is) when the value is of the wrong
    JSON type or does not fit the field's kind, length or options.
    """
    if is_blank(raw):
        return None
    cleaner = _CLEANERS.get(field.kind)
    if cleaner is None:
        raise AnswerError(Message("not_answerable"))
    return cleaner(field, raw)


def _clean_text(field: FieldRule, raw: Any) -> str:
    return _limited(field, _string(raw, Message("invalid_text")))


def _clean_email(field: FieldRule, raw: Any) -> str:
    value = _string(raw, _INVALID_EMAIL)
    local, at, domain = value.rpartition("@")
    if (
        not at
        or "@" in local
        or not local
        or not all(c.isprintable() and not c.isspace() for c in local)
        or len(value) > _max_length(field)
        or not _is_domain(domain)
    ):
        raise AnswerError(_INVALID_EMAIL)
    return value


def _is_domain(domain: str) -> bool:
    labels = domain.split(".")
    return (
        len(labels) >= 2
        and all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        and _TLD.fullmatch(labels[-1]) is not None
    )


def _clean_phone(field: FieldRule, raw: Any) -> str:
    value = _string(raw, _INVALID_PHONE)
    digits = sum(c.isdigit() for c in value)
    if not _PHONE.fullmatch(value) or not 6 <= digits <= 20:
        raise AnswerError(_INVALID_PHONE)
    return _limited(field, value)


def _clean_url(field: FieldRule, raw: Any) -> str:
    value = _string(raw, _INVALID_URL)
    if any(c.isspace() or not c.isprintable() for c in value):
        raise AnswerError(_INVALID_URL)
    try:
        parts = urlsplit(value)
        host, _ = parts.hostname, parts.port  # .port raises on a malformed port
    except ValueError:
        raise AnswerError(_INVALID_URL) from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise AnswerError(_INVALID_URL)
    return _limited(field, value)


def _clean_number(field: FieldRule, raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise AnswerError(_INVALID_NUMBER)
    if isinstance(raw, int):
        return _bounded(raw)
    if isinstance(raw, float):
        return _bounded(raw)
    text = _string(raw, _INVALID_NUMBER)
    if len(text) > _MAX_NUMBER_CHARS:
        raise AnswerError(_INVALID_NUMBER)
    if _INTEGER.fullmatch(text):
        return _bounded(int(text))
    if _DECIMAL.fullmatch(text):
        return _bounded(float(text))
    raise AnswerError(_INVALID_NUMBER)


def _bounded(value: int | float) -> int | float:
    if isinstance(value, float) and not math.isfinite(value):
        raise AnswerError(_INVALID_NUMBER)
    if abs(value) > MAX_NUMBER:
        raise AnswerError(_NUMBER_TOO_LARGE)
    return value


def _clean_select(field: FieldRule, raw: Any) -> str:
    if not isinstance(raw, str) or raw not in field.options:
        raise AnswerError(_INVALID_CHOICE)
    return raw


def _clean_multiselect(field: FieldRule, raw: Any) -> list[str]:
    """The chosen options in the field's option order, so equal choices compare equal."""
    if not isinstance(raw, list) or not all(
        isinstance(choice, str) and choice in field.options for choice in raw
    ):
        raise AnswerError(_INVALID_CHOICES)
    if len(set(raw)) != len(raw):
        raise AnswerError(_REPEATED_CHOICE)
    return [option for option in field.options if option in raw]


def _clean_yes_no(field: FieldRule, raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise AnswerError(_INVALID_YES_NO)
    return raw


def _string(raw: Any, message: Message) -> str:
    """``raw`` stripped, if it is a string that can be stored; else AnswerError(message)."""
    if not isinstance(raw, str):
        raise AnswerError(message)
    if not is_storable_text(raw):
        raise AnswerError(Message("bad_characters"))
    return raw.strip()


def _max_length(field: FieldRule) -> int:
    return field.max_length if field.max_length is not None else DEFAULT_MAX_LENGTH[field.kind]


def _limited(field: FieldRule, value: str) -> str:
    limit = _max_length(field)
    if len(value) > limit:
        raise AnswerError(Message("too_long", max=limit))
    return value


_CLEANERS: dict[str, Callable[[FieldRule, Any], Any]] = {
    "text": _clean_text,
    "textarea": _clean_text,
    "email": _clean_email,
    "phone": _clean_phone,
    "url": _clean_url,
    "number": _clean_number,
    "select": _clean_select,
    "multiselect": _clean_multiselect,
    "boolean": _clean_yes_no,
    "consent": _clean_yes_no,
}


@dataclass(frozen=True)
class ReviewedSubmission:
    values: Mapping[str, Any]  # cleaned non-blank answers, by key
    skipped: tuple[str, ...]
    errors: Mapping[str, tuple[str, ...]]  # messages by key; empty when acceptable
    # The offered questions the form showed with these answers (``shown_keys``); not compared.
    shown: tuple[str, ...] = dataclass_field(default=(), compare=False)


@dataclass(frozen=True)
class Offer:
    """What an ask offered, in order: ``conditions`` (key -> its ask_if) for the questions
    granted conditioned, shown (with at most ``limit`` counted, the ``uncounted`` consent line
    besides) as :func:`app.domain.selection.shown_keys` decides from the answers."""

    keys: Sequence[str]
    required: Sequence[str]
    conditions: Mapping[str, Dependency] = dataclass_field(default_factory=dict)
    limit: int | None = None
    uncounted: frozenset[str] = frozenset()


def review_submission(
    fields: Mapping[str, FieldRule],
    offer: Offer,
    answers: Mapping[str, Any],
    skipped: Sequence[str],
) -> ReviewedSubmission:
    """Decide what of one submit is acceptable; store nothing unless ``errors`` is empty.

    ``fields`` holds a rule for every offered key; ``offer.required`` is a subset of
    ``offer.keys``. Keys not offered are errors, and so are answers and skips of a question
    the form did not show (its condition does not hold on the answers given with it, or it
    stepped back for a revealed one); blank answers are left out of ``values`` (a blank never
    overwrites a value). A required question shown must be answered (non-blank) or skipped; a
    required consent must be answered yes (declining or skipping it is an error).
    """
    offered = offer.keys
    errors: dict[str, list[str]] = {}
    for key in dict.fromkeys([*answers, *skipped]):
        if key not in offered:
            errors[key] = [NOT_ASKED]
    values = _cleaned_values(fields, offered, answers, errors)
    skips = tuple(key for key in dict.fromkeys(skipped) if key in offered)
    if offer.conditions:
        shown = shown_keys(offered, offer.conditions, offer.limit, offer.uncounted, values)
        for key in dict.fromkeys([*values, *skips]):
            if key not in shown:
                errors[key] = [_not_shown(offer, key)]
        skips = tuple(key for key in skips if key in shown)
    else:
        shown = tuple(offered)
    required = [key for key in offer.required if key in shown]
    for key in skips:
        if key in values:
            errors.setdefault(key, []).append(BOTH_ANSWERED_AND_SKIPPED)
    for key in required:
        if key not in errors:
            message = _missing_requirement(fields[key], values.get(key), key in skips)
            if message is not None:
                errors[key] = [message]
    accepted = {key: value for key, value in values.items() if key not in errors}
    return ReviewedSubmission(
        values=accepted,
        skipped=skips,
        errors={key: tuple(messages) for key, messages in errors.items()},
        shown=tuple(shown),
    )


def _not_shown(offer: Offer, key: str) -> Message:
    """Why a question was not shown: its condition did not hold, or it stepped back."""
    condition = offer.conditions.get(key)
    if condition is None:
        return Message("not_shown_over_limit", max=offer.limit)
    if condition.op == "known":
        answered = "not_shown_if_answered" if condition.value else "not_shown_if_unanswered"
        return Message(answered, field=condition.field)
    if condition.op == "in":
        values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
        return Message("not_shown_if_in", field=condition.field, values=values)
    return Message("not_shown_if_equals", field=condition.field, value=condition.value)


def _cleaned_values(
    fields: Mapping[str, FieldRule],
    offered: Sequence[str],
    answers: Mapping[str, Any],
    errors: dict[str, list[str]],
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in offered:
        if key not in answers:
            continue
        try:
            value = clean_answer(fields[key], answers[key])
        except AnswerError as error:
            errors[key] = [error.message]
            continue
        if value is not None:
            values[key] = value
    return values


def _missing_requirement(field: FieldRule, value: Any, skipped: bool) -> str | None:
    if value is None and not skipped:
        return REQUIRED
    # Skipping a consent is declining it, which a required consent does not allow.
    if field.kind == "consent" and value is not True:
        return CONSENT_REQUIRED
    return None
