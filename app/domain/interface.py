"""The widget's interface language: which languages exist and run right to left, the interface
text of a form (built-in, then the config's ``strings``), the submit's messages in the form's
language, numbers written as the language writes them, and the ``autocomplete`` token a question's
input carries. Standard library only; the text itself is in ``translations``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.domain.specs import FIELD_KINDS
from app.domain.translations import TRANSLATIONS

LANGUAGES: tuple[str, ...] = tuple(TRANSLATIONS)
RIGHT_TO_LEFT = frozenset({"ar", "he"})
DEFAULT_LANGUAGE = "en"
STRING_KEYS: tuple[str, ...] = tuple(TRANSLATIONS[DEFAULT_LANGUAGE])
STRING_MAX = 300
_LIMITS = {"submit": 100}  # a form's submit_label, which the submit string is the default of
# The strings the widget shows (the ask sends these); the others are the submit's messages.
WIDGET_KEYS: tuple[str, ...] = STRING_KEYS[: STRING_KEYS.index("unavailable") + 1]
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "skip_question": ("label",),
    "number_range": ("min", "max"),
    "too_long": ("max",),
    "not_shown_if_equals": ("field", "value"),
    "not_shown_if_in": ("field", "values"),
    "not_shown_if_answered": ("field",),
    "not_shown_if_unanswered": ("field",),
    "not_shown_over_limit": ("max",),
}
_PLACEHOLDER = re.compile(r"\{(\w*)\}")

# (group separator, the fewest digits that are grouped: 5 writes 1234 ungrouped), as the
# browsers' Intl.NumberFormat writes them; ar and he mark a minus left to right.
_GROUPING: dict[str, tuple[str, int]] = {
    "en": (",", 4),
    "de": (".", 4),
    "fr": ("\u202f", 4),
    "es": (".", 5),
    "pt": (".", 4),
    "nl": (".", 4),
    "it": (".", 5),
    "ja": (",", 4),
    "ar": (",", 4),
    "he": (",", 4),
}


def direction(language: str) -> str:
    """``rtl`` for a language written right to left, else ``ltr``."""
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def interface_strings(
    language: str,
    site_language: str,
    site_strings: Mapping[str, str],
    form_strings: Mapping[str, str],
) -> dict[str, str]:
    """Every string of a form in ``language``: the built-in text, the site's ``strings`` when
    the form speaks the site's language, then the form's own ``strings``."""
    strings = dict(TRANSLATIONS[language])
    if language == site_language:
        strings.update(site_strings)
    strings.update(form_strings)
    return strings


def string_problem(key: str, text: str) -> str | None:
    """What is wrong with ``text`` as the string ``key`` of a config, or None."""
    if key not in TRANSLATIONS[DEFAULT_LANGUAGE]:
        return "unknown string; the strings are: " + ", ".join(STRING_KEYS)
    limit = _LIMITS.get(key, STRING_MAX)
    if len(text) > limit:
        return f"must be 1 to {limit} characters long"
    allowed = PLACEHOLDERS.get(key, ())
    unknown = [name for name in _PLACEHOLDER.findall(text) if name not in allowed]
    if unknown:
        takes = ", ".join("{" + name + "}" for name in allowed) if allowed else "none"
        return f"unknown placeholder {{{unknown[0]}}}; this string takes: {takes}"
    return None


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``{name}`` replaced by its value."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def format_number(number: int, language: str) -> str:
    """A whole number as the language writes it (1.000 in German, 1 000 in French)."""
    separator, fewest = _GROUPING[language]
    digits = str(abs(number))
    if len(digits) >= fewest:
        head = len(digits) % 3 or 3
        groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
        digits = separator.join(groups)
    if number >= 0:
        return digits
    return ("\u200e-" if language in RIGHT_TO_LEFT else "-") + digits


class Message(str):
    """A message of the rules for the visitor: its English text (what the rules compare, and
    what an import report shows), made of the string ``key`` of the built-in text and the
    ``values`` of its placeholders, so that :func:`localize_message` says it in any language."""

    key: str
    values: Mapping[str, Any]

    def __new__(cls, key: str, **values: Any) -> Message:
        english = TRANSLATIONS[DEFAULT_LANGUAGE]
        written = {name: _written(value, english, None) for name, value in values.items()}
        message = super().__new__(cls, fill(english[key], written))
        message.key, message.values = key, values
        return message

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, Any]]:  # copies and pickles
        return (self.key,), dict(self.values)


def _written(value: Any, strings: Mapping[str, str], language: str | None) -> str:
    """A placeholder's value as words: yes/no in ``strings``, whole numbers as ``language``
    writes them (None: plain digits), a list one item after another."""
    if isinstance(value, bool):
        return strings["yes" if value else "no"]
    if isinstance(value, int) and language is not None:
        return format_number(value, language)
    if isinstance(value, list | tuple):
        return ", ".join(_written(item, strings, language) for item in value)
    return str(value)


def localize_message(message: str, strings: Mapping[str, str], language: str) -> str:
    """A :class:`Message` of the rules in ``strings`` (a form's interface text), its values
    written in ``language``; any other text comes back as it is."""
    if not isinstance(message, Message):
        return message
    values = {name: _written(v, strings, language) for name, v in message.values.items()}
    return fill(strings[message.key], values)


# ---- autocomplete: what the browser may fill an input with ----

AUTOCOMPLETE_TOKENS: tuple[str, ...] = (
    "off",
    "name",
    "honorific-prefix",
    "given-name",
    "additional-name",
    "family-name",
    "honorific-suffix",
    "nickname",
    "email",
    "username",
    "organization-title",
    "organization",
    "street-address",
    "address-line1",
    "address-line2",
    "address-level1",
    "address-level2",
    "country",
    "country-name",
    "postal-code",
    "tel",
    "url",
    "bday",
    "language",
)
# Every kind with one input or dropdown; not checkboxes and radio buttons.
AUTOCOMPLETE_KINDS: tuple[str, ...] = tuple(
    kind for kind in FIELD_KINDS if kind not in ("multiselect", "boolean", "consent")
)
_BY_KEY: dict[str, str] = {
    "name": "name",
    "full_name": "name",
    "first_name": "given-name",
    "firstname": "given-name",
    "given_name": "given-name",
    "last_name": "family-name",
    "lastname": "family-name",
    "family_name": "family-name",
    "surname": "family-name",
    "company": "organization",
    "company_name": "organization",
    "organization": "organization",
    "organisation": "organization",
    "job_title": "organization-title",
    "jobtitle": "organization-title",
    "phone": "tel",
    "phone_number": "tel",
    "mobile": "tel",
    "telephone": "tel",
    "postal_code": "postal-code",
    "postcode": "postal-code",
    "zip": "postal-code",
    "zip_code": "postal-code",
    "country": "country-name",
    "website": "url",
}
_BY_KIND = {"email": "email", "phone": "tel"}


def autocomplete_for(key: str, kind: str, configured: str | None) -> str | None:
    """The ``autocomplete`` token of a question: the field's own, else one its key or kind
    names (first_name: given-name, company: organization, a phone: tel), else none."""
    if kind not in AUTOCOMPLETE_KINDS:
        return None
    if configured is not None:
        return configured
    autofill = _BY_KEY.get(key) or _BY_KIND.get(kind)
    if autofill == "country-name" and kind == "select":
        return "country"
    return autofill
