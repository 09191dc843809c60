"""A config's interface language settings: the ``strings`` maps (site and form), checked
against the built-in strings (``domain.interface``), and the labels a form takes from them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from app.domain.interface import (
    AUTOCOMPLETE_KINDS,
    AUTOCOMPLETE_TOKENS,
    DEFAULT_LANGUAGE,
    LANGUAGES,
    STRING_MAX,
    interface_strings,
    string_problem,
)
from app.services.siteconfig.fields import MappingOf, Text, length, one_of

__all__ = [
    "DEFAULT_LANGUAGE",
    "Strings",
    "autocomplete_problems",
    "autocomplete_setting",
    "labels_in_language",
    "setting",
]


def setting(default: str | None) -> Text:
    """A ``language``: one of the languages Trickle speaks."""
    return Text(load_default=default, validate=one_of(LANGUAGES))


def autocomplete_setting() -> Text:
    """A field's ``autocomplete`` token, or null (derived from its key and kind)."""
    return Text(load_default=None, validate=one_of(AUTOCOMPLETE_TOKENS))


def autocomplete_problems(kind: str, given: Any) -> dict[str, list[str]]:
    if given is not None and kind not in AUTOCOMPLETE_KINDS:
        return {"autocomplete": ["only for kinds " + ", ".join(AUTOCOMPLETE_KINDS)]}
    return {}


class Strings(MappingOf):
    """A ``strings`` map: interface text by string key (``domain.interface``), each 1 to
    STRING_MAX characters, using only the placeholders its built-in text uses."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(lambda key: None, Text(validate=length(1, STRING_MAX)), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        if not isinstance(value, Mapping):
            raise self.make_error("invalid")
        loaded: dict[str, str] = {}
        errors: dict[str, Any] = {}
        try:
            loaded = super()._deserialize(value, attr, data, **kwargs)
        except ValidationError as exc:
            errors, loaded = dict(exc.messages), exc.valid_data or {}
        for key, text in loaded.items():
            problem = string_problem(key, text)
            if problem is not None:
                errors.setdefault(key, []).append(problem)
        if errors:
            raise ValidationError(errors)
        return loaded


# A form's labels that are interface strings when the config names none: (its key, the string's).
OWN_LABELS = (("submit_label", "submit"), ("thank_you", "thank_you"))


def labels_in_language(
    _schema: object, data: dict[str, Any], original: Any, **_kwargs: Any
) -> dict[str, Any]:
    """ConfigIn's last step: the forms that name no ``submit_label`` or ``thank_you`` take their
    strings' own (in English, FormIn's defaults): "Absenden" on a German form."""
    site, given = data["site"], original.get("forms", [])
    for index, form in enumerate(data["forms"]):
        named = given[index] if index < len(given) else {}
        language = form["language"] or site["language"]
        strings = interface_strings(language, site["language"], site["strings"], form["strings"])
        for name, key in OWN_LABELS:
            if name not in named:
                form[name] = strings[key]
    return data
