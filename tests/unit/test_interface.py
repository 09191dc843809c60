"""The interface text's tables (``domain.interface``, ``domain.translations``): every language
complete, the same placeholders everywhere, the English words those of the rules, numbers as the
browsers write them, the submit's messages in a language, and autocomplete tokens."""

from __future__ import annotations

import re

import pytest

from app.domain import answers
from app.domain.interface import (
    LANGUAGES,
    PLACEHOLDERS,
    STRING_KEYS,
    WIDGET_KEYS,
    autocomplete_for,
    direction,
    format_number,
    interface_strings,
    localize_message,
    string_problem,
)
from app.domain.translations import TRANSLATIONS
from app.services.privacy.consent import NOT_SHOWN


def test_the_languages_and_their_directions():
    assert LANGUAGES == ("en", "de", "fr", "es", "pt", "nl", "it", "ja", "ar", "he")
    assert [direction(language) for language in LANGUAGES] == ["ltr"] * 8 + ["rtl"] * 2


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_string_with_the_same_placeholders(language):
    strings = TRANSLATIONS[language]
    assert list(strings) == list(STRING_KEYS)
    for key, text in strings.items():
        assert text.strip() == text and text, key
        assert sorted(re.findall(r"\{(\w+)\}", text)) == sorted(PLACEHOLDERS.get(key, ())), key
        assert string_problem(key, text) is None


def test_the_english_strings_are_the_rules_own_messages():
    english = TRANSLATIONS["en"]
    messages = [
        answers.REQUIRED,
        answers.CONSENT_REQUIRED,
        answers.NOT_ASKED,
        answers.BOTH_ANSWERED_AND_SKIPPED,
        NOT_SHOWN,
    ]
    assert all(message in english.values() for message in messages)
    assert WIDGET_KEYS[0] == "submit" and WIDGET_KEYS[-1] == "unavailable"


@pytest.mark.parametrize(
    ("language", "written"),
    [
        ("en", ["5", "1,234", "12,345", "-1,000,000,000,000,000"]),
        ("de", ["5", "1.234", "12.345", "-1.000.000.000.000.000"]),
        (
            "fr",
            ["5", "1\u202f234", "12\u202f345", "-1\u202f000\u202f000\u202f000\u202f000\u202f000"],
        ),
        ("es", ["5", "1234", "12.345", "-1.000.000.000.000.000"]),
        ("it", ["5", "1234", "12.345", "-1.000.000.000.000.000"]),
        ("ja", ["5", "1,234", "12,345", "-1,000,000,000,000,000"]),
        ("ar", ["5", "1,234", "12,345", "\u200e-1,000,000,000,000,000"]),
        ("he", ["5", "1,234", "12,345", "\u200e-1,000,000,000,000,000"]),
    ],
)
def test_numbers_are_written_as_intl_numberformat_writes_them(language, written):
    assert [format_number(n, language) for n in (5, 1234, 12345, -(10**15))] == written


@pytest.mark.parametrize(
    ("message", "language", "localized"),
    [
        ("This question is required.", "de", "Bitte beantworten Sie diese Frage."),
        ("Must be at most 5000 characters.", "fr", "5\u202f000 caractères au maximum."),
        ("Must be at most 80 characters.", "ja", "80文字以内で入力してください。"),
        (
            "Enter a number between -1000000000000000 and 1000000000000000.",
            "en",
            "Enter a number between -1,000,000,000,000,000 and 1,000,000,000,000,000.",
        ),
        ("Choose one of the offered options.", "nl", "Kies een van de aangeboden opties."),
        ("Something the rules never say.", "de", "Something the rules never say."),
    ],
)
def test_a_rules_message_in_a_language(message, language, localized):
    assert localize_message(message, TRANSLATIONS[language], language) == localized


def test_a_replacement_counts_for_the_site_language_and_the_forms_own():
    site = {"skip": "Later"}
    assert interface_strings("de", "de", {"skip": "Später"}, {})["skip"] == "Später"
    assert interface_strings("fr", "de", {"skip": "Später"}, {})["skip"] == "Passer"
    assert interface_strings("en", "en", site, {"skip": "Not now"})["skip"] == "Not now"
    assert localize_message(answers.REQUIRED, {"required": "Please."}, "en") == "Please."


@pytest.mark.parametrize(
    ("key", "text", "problem"),
    [
        ("submit", "Go", None),
        ("too_long", "Up to {max}.", None),
        ("skip_question", "{label}?", None),
        ("submitt", "Go", "unknown string; the strings are: " + ", ".join(STRING_KEYS)),
        ("too_long", "{min}", "unknown placeholder {min}; this string takes: {max}"),
        ("number_range", "{}", "unknown placeholder {}; this string takes: {min}, {max}"),
        ("submit", "x" * 101, "must be 1 to 100 characters long"),
        ("skip", "x" * 301, "must be 1 to 300 characters long"),
    ],
)
def test_string_problems(key, text, problem):
    assert string_problem(key, text) == problem


@pytest.mark.parametrize(
    ("key", "kind", "configured", "token"),
    [
        ("first_name", "text", None, "given-name"),
        ("last_name", "text", None, "family-name"),
        ("company", "text", None, "organization"),
        ("organisation", "text", None, "organization"),
        ("job_title", "text", None, "organization-title"),
        ("zip", "text", None, "postal-code"),
        ("country", "text", None, "country-name"),
        ("country", "select", None, "country"),
        ("work_email", "email", None, "email"),
        ("mobile", "phone", None, "tel"),
        ("hotline", "phone", None, "tel"),
        ("website", "url", None, "url"),
        ("homepage", "url", None, None),
        ("industry", "select", None, None),
        ("first_name", "text", "off", "off"),
        ("phone", "boolean", None, None),
        ("newsletter", "consent", None, None),
    ],
)
def test_autocomplete_tokens(key, kind, configured, token):
    assert autocomplete_for(key, kind, configured) == token
