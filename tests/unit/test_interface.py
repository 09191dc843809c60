"""The interface text's tables (``domain.interface``, ``domain.translations``): every language
complete, the same placeholders everywhere, the English words those of the rules, numbers as the
browsers write them, the submit's messages in a language, and autocomplete tokens."""

from __future__ import annotations

import copy
import re

import pytest

from app.domain import answers
from app.domain.interface import (
    LANGUAGES,
    PLACEHOLDERS,
    STRING_KEYS,
    WIDGET_KEYS,
    Message,
    autocomplete_for,
    direction,
    format_number,
    interface_strings,
    localize_message,
    string_problem,
)
from app.domain.translations import TRANSLATIONS
from app.services.privacy.consent import NOT_SHOWN as CONSENT_NOT_SHOWN


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
        CONSENT_NOT_SHOWN,
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
        (answers.REQUIRED, "de", "Bitte beantworten Sie diese Frage."),
        (Message("too_long", max=5000), "fr", "5\u202f000 caractères au maximum."),
        (Message("too_long", max=80), "ja", "80文字以内で入力してください。"),
        (
            Message("number_range", min=-(10**15), max=10**15),
            "en",
            "Enter a number between -1,000,000,000,000,000 and 1,000,000,000,000,000.",
        ),
        (Message("invalid_choice"), "nl", "Kies een van de aangeboden opties."),
        ("Something the rules never say.", "de", "Something the rules never say."),
    ],
)
def test_a_rules_message_in_a_language(message, language, localized):
    assert localize_message(message, TRANSLATIONS[language], language) == localized


def test_a_message_is_its_english_text_with_plain_numbers():
    assert Message("too_long", max=5000) == "Must be at most 5000 characters."
    assert Message("not_shown_if_in", field="size", values=("1-10", 11, True)) == (
        "This question was not shown. It is asked only when size is one of 1-10, 11, Yes."
    )
    assert copy.deepcopy(Message("too_long", max=5)).values == {"max": 5}


# Each way a dependent question is not shown, in every language: (equals Yes, in 1000 and
# "b", answered, not answered, over a limit of 2).
NOT_SHOWN = [
    Message("not_shown_if_equals", field="decision_maker", value=True),
    Message("not_shown_if_in", field="size", values=(1000, "b")),
    Message("not_shown_if_answered", field="phone"),
    Message("not_shown_if_unanswered", field="phone"),
    Message("not_shown_over_limit", max=2),
]


@pytest.mark.parametrize(
    ("language", "said"),
    [
        (
            "en",
            [
                "This question was not shown. It is asked only when decision_maker is Yes.",
                "This question was not shown. It is asked only when size is one of 1,000, b.",
                "This question was not shown. It is asked only when phone is answered.",
                "This question was not shown. It is asked only when phone is not answered.",
                "This question was not shown. The form shows at most 2 questions at a time.",
            ],
        ),
        (
            "de",
            [
                "Diese Frage wurde nicht angezeigt. Sie wird nur gestellt, wenn decision_maker "
                "Ja ist.",
                "Diese Frage wurde nicht angezeigt. Sie wird nur gestellt, wenn size eines von "
                "1.000, b ist.",
                "Diese Frage wurde nicht angezeigt. Sie wird nur gestellt, wenn phone "
                "beantwortet ist.",
                "Diese Frage wurde nicht angezeigt. Sie wird nur gestellt, wenn phone nicht "
                "beantwortet ist.",
                "Diese Frage wurde nicht angezeigt. Das Formular zeigt höchstens 2 Fragen auf "
                "einmal.",
            ],
        ),
        (
            "fr",
            [
                "Cette question n\u2019a pas été affichée. Elle n\u2019est posée que si "
                "decision_maker vaut Oui.",
                "Cette question n\u2019a pas été affichée. Elle n\u2019est posée que si size "
                "vaut l\u2019une des valeurs 1\u202f000, b.",
                "Cette question n\u2019a pas été affichée. Elle n\u2019est posée que si phone a "
                "une réponse.",
                "Cette question n\u2019a pas été affichée. Elle n\u2019est posée que si phone "
                "n\u2019a pas de réponse.",
                "Cette question n\u2019a pas été affichée. Le formulaire affiche au plus 2 "
                "questions à la fois.",
            ],
        ),
        (
            "es",
            [
                "Esta pregunta no se ha mostrado. Solo se formula cuando decision_maker es Sí.",
                "Esta pregunta no se ha mostrado. Solo se formula cuando size es uno de 1000, b.",
                "Esta pregunta no se ha mostrado. Solo se formula cuando phone tiene respuesta.",
                "Esta pregunta no se ha mostrado. Solo se formula cuando phone no tiene respuesta.",
                "Esta pregunta no se ha mostrado. El formulario muestra como máximo 2 preguntas "
                "a la vez.",
            ],
        ),
        (
            "pt",
            [
                "Esta pergunta não foi mostrada. Só é feita quando decision_maker é Sim.",
                "Esta pergunta não foi mostrada. Só é feita quando size é um de 1.000, b.",
                "Esta pergunta não foi mostrada. Só é feita quando phone tem resposta.",
                "Esta pergunta não foi mostrada. Só é feita quando phone não tem resposta.",
                "Esta pergunta não foi mostrada. O formulário mostra no máximo 2 perguntas de "
                "cada vez.",
            ],
        ),
        (
            "nl",
            [
                "Deze vraag is niet getoond. Ze wordt alleen gesteld als decision_maker Ja is.",
                "Deze vraag is niet getoond. Ze wordt alleen gesteld als size een van 1.000, b is.",
                "Deze vraag is niet getoond. Ze wordt alleen gesteld als phone beantwoord is.",
                "Deze vraag is niet getoond. Ze wordt alleen gesteld als phone niet beantwoord is.",
                "Deze vraag is niet getoond. Het formulier toont maximaal 2 vragen tegelijk.",
            ],
        ),
        (
            "it",
            [
                "Questa domanda non è stata mostrata. Viene posta solo quando decision_maker è Sì.",
                "Questa domanda non è stata mostrata. Viene posta solo quando size è uno tra "
                "1000, b.",
                "Questa domanda non è stata mostrata. Viene posta solo quando phone ha una "
                "risposta.",
                "Questa domanda non è stata mostrata. Viene posta solo quando phone non ha una "
                "risposta.",
                "Questa domanda non è stata mostrata. Il modulo mostra al massimo 2 domande alla "
                "volta.",
            ],
        ),
        (
            "ja",
            [
                "この質問は表示されませんでした。decision_makerがはいの場合にのみ表示されます。",
                "この質問は表示されませんでした。sizeが1,000, bのいずれかの場合にのみ表示されます。",
                "この質問は表示されませんでした。phoneに回答がある場合にのみ表示されます。",
                "この質問は表示されませんでした。phoneに回答がない場合にのみ表示されます。",
                "この質問は表示されませんでした。このフォームに一度に表示される質問は最大2件です。",
            ],
        ),
        (
            "ar",
            [
                "لم يُعرض هذا السؤال. يُطرح فقط عندما تكون قيمة decision_maker هي نعم.",
                "لم يُعرض هذا السؤال. يُطرح فقط عندما تكون قيمة size إحدى القيم: 1,000, b.",
                "لم يُعرض هذا السؤال. يُطرح فقط بعد الإجابة عن phone.",
                "لم يُعرض هذا السؤال. يُطرح فقط ما دام phone بلا إجابة.",
                "لم يُعرض هذا السؤال. يعرض النموذج 2 أسئلة على الأكثر في المرة الواحدة.",
            ],
        ),
        (
            "he",
            [
                "השאלה הזו לא הוצגה. היא נשאלת רק כאשר decision_maker הוא כן.",
                "השאלה הזו לא הוצגה. היא נשאלת רק כאשר size הוא אחד מאלה: 1,000, b.",
                "השאלה הזו לא הוצגה. היא נשאלת רק כאשר יש תשובה ל־phone.",
                "השאלה הזו לא הוצגה. היא נשאלת רק כאשר אין תשובה ל־phone.",
                "השאלה הזו לא הוצגה. הטופס מציג לכל היותר 2 שאלות בכל פעם.",
            ],
        ),
    ],
)
def test_a_question_not_shown_is_explained_in_every_language(language, said):
    strings = TRANSLATIONS[language]
    assert [localize_message(message, strings, language) for message in NOT_SHOWN] == said


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
