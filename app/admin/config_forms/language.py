"""The interface language settings of the site and form editors: the language, and one input
per built-in string (``domain.interface``), empty for the built-in text, which its placeholder
shows in the chosen language. The config import checks what is typed (an unknown language, a
placeholder the string does not take), exactly as for a config file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wtforms import Form, FormField, SelectChoice, SelectField, StringField

from app.admin.forms import blank_none
from app.domain.interface import DEFAULT_LANGUAGE, LANGUAGES, STRING_KEYS, interface_strings

# Each language by its own name, as a speaker looks for it in the list.
LANGUAGE_NAMES = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "nl": "Nederlands",
    "it": "Italiano",
    "ja": "日本語",
    "ar": "العربية",
    "he": "עברית",
}
LANGUAGE_CHOICES = [SelectChoice(code, f"{LANGUAGE_NAMES[code]} ({code})") for code in LANGUAGES]


def language_field(label: str, description: str, *choices: SelectChoice) -> SelectField:
    """A language select. Its choice is checked by the config import, which names the
    languages, so a value not listed gets the same message as in a config file."""
    return SelectField(
        label,
        choices=[*choices, *LANGUAGE_CHOICES],
        default=choices[0].value if choices else "en",
        description=description,
        validate_choice=False,
    )


def strings_field(description: str) -> FormField:
    """The ``strings`` map: an input named ``strings-<key>`` per built-in string."""
    inputs = {key: StringField(key, filters=[blank_none]) for key in STRING_KEYS}
    return FormField(
        type("StringsForm", (Form,), inputs), "Interface text", description=description
    )


def load_strings(field: FormField, strings: Mapping[str, str]) -> None:
    for text in field:
        text.data = strings.get(text.short_name)


def strings_entry(field: FormField) -> dict[str, str]:
    """The strings typed, by key; the empty ones are left to the built-in text."""
    return {text.short_name: text.data for text in field if text.data is not None}


def show_defaults(field: FormField, defaults: Mapping[str, str]) -> None:
    """Each string's input shows, as its placeholder, the text it stands for when empty."""
    for text in field:
        text.render_kw = {"placeholder": defaults[text.short_name]}


def fallback_strings(language: str | None, site: Mapping[str, Any]) -> dict[str, str]:
    """What each string of a form in ``language`` (None: the site's) says when the form leaves
    it empty: the built-in text, and the ``site``'s own strings where it speaks the site's
    language. The site's editor passes no ``site``: the built-in text alone."""
    site_language = site.get("language") or DEFAULT_LANGUAGE
    language = language or site_language
    if language not in LANGUAGES:  # a bad choice, refused by the import: any text will do
        language = DEFAULT_LANGUAGE
    return interface_strings(language, site_language, site.get("strings") or {}, {})
