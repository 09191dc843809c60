"""The value types of a site config, with the config's wording for every problem.

Stricter than marshmallow's own: a number is never a bool or a numeric string, a flag is only
true or false. Messages are short lower-case phrases; the service prefixes each with its path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import ValidationError, fields, validate

from app.domain.specs import is_storable_text

_NUL = "must not contain NUL characters or lone surrogates"
MESSAGES = {"required": "required", "null": "must not be null", "validator_failed": "invalid"}


def full_match(pattern: re.Pattern[str], message: str) -> validate.Validator:
    def check(value: str) -> None:
        if not pattern.fullmatch(value):
            raise ValidationError(message)

    return check


def one_of(choices: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(choices, error="must be one of: " + ", ".join(choices))


def length(low: int = 0, high: int | None = None) -> validate.Length:
    if high is None:
        return validate.Length(min=low, error="must not be empty")
    return validate.Length(min=low, max=high, error=f"must be 1 to {high} characters long")


def at_least(low: float, inclusive: bool = True) -> validate.Range:
    word = "at least" if inclusive else "more than"
    return validate.Range(min=low, min_inclusive=inclusive, error=f"must be {word} {low}")


def between(low: int, high: int) -> validate.Range:
    return validate.Range(min=low, max=high, error=f"must be between {low} and {high}")


class Text(fields.String):
    """A string without NUL characters (PostgreSQL cannot store them)."""

    default_error_messages = {**MESSAGES, "invalid": "must be a string", "nul": _NUL}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not is_storable_text(text):
            raise self.make_error("nul")
        return text


# Whole numbers are stored in 32-bit columns (PostgreSQL INTEGER); numbers as doubles.
INTEGER_LIMIT = 2**31 - 1
NUMBER_LIMIT = 10**15


class Integer(fields.Field):
    """An int that fits a 32-bit column; unlike marshmallow's, never a bool, float or string."""

    default_error_messages = {
        **MESSAGES,
        "invalid": "must be a whole number",
        "too_large": f"must be between -{INTEGER_LIMIT} and {INTEGER_LIMIT}",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        if abs(value) > INTEGER_LIMIT:
            raise self.make_error("too_large")
        return value


class Number(fields.Field):
    """An int or a finite float of sensible size; never a bool or a string."""

    default_error_messages = {
        **MESSAGES,
        "invalid": "must be a number",
        "too_large": f"must be between -{NUMBER_LIMIT} and {NUMBER_LIMIT}",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if not math.isfinite(value):
            raise self.make_error("invalid")
        if abs(value) > NUMBER_LIMIT:
            raise self.make_error("too_large")
        return value


class Flag(fields.Field):
    default_error_messages = {**MESSAGES, "invalid": "must be true or false"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Scalar(fields.Field):
    """A value a rule compares an answer with: a string, number or boolean."""

    default_error_messages = {
        **MESSAGES,
        "invalid": "must be a string, number or boolean",
        "nul": _NUL,
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str | int | float | bool):
            raise self.make_error("invalid")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.make_error("invalid")
        if isinstance(value, str) and not is_storable_text(value):
            raise self.make_error("nul")
        return value


class ListOf(fields.List):
    default_error_messages = {**MESSAGES, "invalid": "must be a list"}


class Section(fields.Nested):
    default_error_messages = {**MESSAGES, "type": "must be a mapping"}


class MappingOf(fields.Field):
    """A mapping whose keys pass ``key_rule`` and whose values load with ``values``.

    Errors are keyed by the mapping's own key, so a path reads ``engagement.webinar``.
    """

    default_error_messages = {**MESSAGES, "invalid": "must be a mapping"}

    def __init__(
        self, key_rule: Callable[[str], None], values: fields.Field, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.key_rule, self.values = key_rule, values

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        if not isinstance(value, Mapping):
            raise self.make_error("invalid")
        result: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for key, item in value.items():
            try:
                if not isinstance(key, str):
                    raise ValidationError("must be a string key")
                self.key_rule(key)
                result[key] = self.values.deserialize(item, key, value)
            except ValidationError as exc:
                errors[str(key)] = exc.messages
        if errors:
            raise ValidationError(errors, valid_data=result)
        return result


def error_paths(messages: Any, path: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as ``{"fields[4].tier": [...]}``; the root is ``<config>``."""
    found: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, sub in messages.items():
            if key == "_schema":
                where = path
            elif isinstance(key, int):
                where = f"{path}[{key}]"
            else:
                where = f"{path}.{key}" if path else str(key)
            for at, problems in error_paths(sub, where).items():
                found.setdefault(at, []).extend(problems)
    elif isinstance(messages, list) and not all(isinstance(m, str) for m in messages):
        for sub in messages:
            for at, problems in error_paths(sub, path).items():
                found.setdefault(at, []).extend(problems)
    else:
        found[path or "<config>"] = list(messages) if isinstance(messages, list) else [messages]
    return found
