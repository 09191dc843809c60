"""The widget's interface text in the site's or a form's language (issue 22.6): the strings the
ask sends, the config's replacements, the submit's messages in the form's language, and each
question's autocomplete token (22.7). Bad settings are refused by path, storing nothing."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select

from app.domain.interface import AUTOCOMPLETE_KINDS, AUTOCOMPLETE_TOKENS
from app.domain.translations import TRANSLATIONS
from app.extensions import db
from app.models import Field, Form, Site
from app.services.errors import Invalid
from app.services.siteconfig import export_site_config, import_site_config, site_snapshot
from tests.factories import Widget, acme_config

WIDGET_KEYS = [
    "submit",
    "thank_you",
    "skip",
    "skip_question",
    "yes",
    "no",
    "choose",
    "sending",
    "leave_empty",
    "required",
    "consent_required",
    "invalid_email",
    "invalid_phone",
    "invalid_url",
    "invalid_number",
    "number_range",
    "too_long",
    "send_failed",
    "download_link",
    "open_link",
    "unavailable",
]
GERMAN = {key: TRANSLATIONS["de"][key] for key in WIDGET_KEYS}


def language_config(site: dict[str, Any] | None = None, **blog: Any) -> dict[str, Any]:
    """Acme with settings added to its site and its blog form (whose labels it leaves out, so
    they come from the strings), and a second form, "news", with nothing of its own."""
    config = acme_config()
    config["site"].update(site or {})
    form = {"key": "blog", "title": "Bleiben Sie auf dem Laufenden", "stage": "early", **blog}
    config["forms"] = [form, {"key": "news", "title": "News"}]
    return config


def ask_form(client, form: str = "blog") -> dict[str, Any]:
    widget = Widget(client, form=form)
    widget.ask()
    return widget.post(f"/forms/{form}/ask", {"visitor": widget.visitor}).get_json()["form"]


def test_an_english_site_sends_the_english_strings(client, site):
    form = ask_form(client)
    assert (form["language"], form["dir"]) == ("en", "ltr")
    assert form["strings"] == {key: TRANSLATIONS["en"][key] for key in WIDGET_KEYS}
    assert form["strings"]["skip_question"] == "Skip {label}"


def test_a_german_site_asks_in_german_with_its_own_replacement(client, app):
    import_site_config(language_config({"language": "de", "strings": {"skip": "Später"}}))
    form = ask_form(client)
    assert form == {
        "title": "Bleiben Sie auf dem Laufenden",
        "submit_label": "Absenden",  # no submit_label: the form's strings name it
        "language": "de",
        "dir": "ltr",
        "strings": {**GERMAN, "skip": "Später"},
        "max_questions": 3,
    }
    assert ask_form(client, "news")["strings"]["skip"] == "Später"


def test_a_form_in_another_language_takes_its_own_strings_not_the_sites(client, app):
    config = language_config(
        {"language": "de", "strings": {"skip": "Später"}},
        language="ar",
        strings={"submit": "أرسل الآن"},
    )
    import_site_config(config)
    form = ask_form(client)
    assert (form["language"], form["dir"], form["submit_label"]) == ("ar", "rtl", "أرسل الآن")
    assert form["strings"]["skip"] == "تخطي"  # the German site's replacement is not Arabic
    assert form["strings"]["submit"] == "أرسل الآن"
    news = ask_form(client, "news")
    assert (news["language"], news["dir"], news["submit_label"]) == ("de", "ltr", "Absenden")


def test_a_submit_answers_in_the_forms_language(client, app):
    import_site_config(language_config({"language": "fr"}, always_ask=["first_name"]))
    widget = Widget(client)
    assert widget.ask() == ["email", "first_name", "company"]
    response = widget.submit({"email": "kein", "first_name": "x" * 81})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {
        "email": ["Saisissez une adresse e-mail valide."],
        "first_name": ["80 caractères au maximum."],
    }
    response = widget.submit({"email": "lea@zorblax.example"}, skipped=["first_name", "company"])
    assert response.get_json()["message"] == "Merci\u00a0!"  # thank_you from the strings


@pytest.mark.parametrize(
    ("language", "required"),
    [
        ("de", "Bitte beantworten Sie diese Frage."),
        ("ja", "この質問は必須です。"),
        ("he", "זוהי שאלת חובה."),
    ],
)
def test_a_missing_answer_is_reported_in_the_language(client, app, language, required):
    import_site_config(language_config({"language": language}))
    widget = Widget(client)
    assert widget.ask() == ["email", "first_name", "company"]
    response = widget.submit({"first_name": "Lea"})
    assert response.get_json()["error"]["fields"] == {"email": [required]}


def test_a_number_too_large_is_refused_with_the_bounds_written_in_the_language(client, app):
    config = language_config({"language": "de"}, fields=["email", "employees"])
    config["tiers"][1]["min_score"] = 0
    import_site_config(config)
    widget = Widget(client)
    assert widget.ask() == ["email", "employees"]
    response = widget.submit({"email": "lea@zorblax.example", "employees": 10**16})
    assert response.get_json()["error"]["fields"] == {
        "employees": [
            "Geben Sie eine Zahl zwischen -1.000.000.000.000.000 und 1.000.000.000.000.000 ein."
        ]
    }


def test_a_replaced_message_is_also_the_servers(client, app):
    config = language_config({"strings": {"required": "We need this one."}})
    import_site_config(config)
    widget = Widget(client)
    assert widget.ask() == ["email", "first_name", "company"]
    response = widget.submit({"first_name": "Lea"})
    assert response.get_json()["error"]["fields"] == {"email": ["We need this one."]}


def test_questions_carry_an_autocomplete_token_by_key_kind_or_config(client, app):
    config = language_config(fields=["email", "first_name", "company", "zip", "job_title"])
    config["forms"][0]["max_questions"] = 10
    config["tiers"][1]["min_score"] = 0
    config["fields"][3]["autocomplete"] = "off"  # zip: the site says no
    import_site_config(config)
    widget = Widget(client)
    widget.ask()
    questions = widget.post("/forms/blog/ask", {"visitor": widget.visitor}).get_json()["questions"]
    assert {q["key"]: q.get("autocomplete") for q in questions} == {
        "email": "email",
        "first_name": "given-name",
        "company": "organization",
        "zip": "off",
        "job_title": "organization-title",
    }


def test_export_writes_language_strings_and_autocomplete_and_reads_them_back(app):
    config = language_config(
        {"language": "nl", "strings": {"skip": "Later"}}, language="it", strings={"yes": "Certo"}
    )
    config["fields"][1]["autocomplete"] = "nickname"
    import_site_config(config)
    exported = export_site_config("acme")
    assert (exported["site"]["language"], exported["site"]["strings"]) == ("nl", {"skip": "Later"})
    blog, news = exported["forms"]
    assert (blog["language"], blog["strings"]) == ("it", {"yes": "Certo"})
    # Labels that are the language's own words are left out: they follow the language.
    assert [sorted({"submit_label", "thank_you"} & set(form)) for form in (blog, news)] == [[], []]
    forms = site_snapshot("acme").forms
    assert (forms["blog"].submit_label, forms["blog"].thank_you) == ("Invia", "Grazie!")
    assert (forms["news"].submit_label, forms["news"].thank_you) == ("Versturen", "Bedankt!")
    assert "language" not in news and "strings" not in news
    assert exported["fields"][1]["autocomplete"] == "nickname"
    import_site_config(exported)
    assert export_site_config("acme") == exported


# ---- bad settings: refused by path, nothing stored ----

UNKNOWN_LANGUAGE = "must be one of: en, de, fr, es, pt, nl, it, ja, ar, he"
STRING_KEYS = ", ".join(TRANSLATIONS["en"])


def _site(**values: Any):
    return lambda config: config["site"].update(values)


def _form(**values: Any):
    return lambda config: config["forms"][0].update(values)


def _field(**values: Any):
    return lambda config: config["fields"][1].update(values)


BAD_SETTINGS = [
    ("unknown site language", _site(language="klingon"), {"site.language": [UNKNOWN_LANGUAGE]}),
    ("a language not a string", _site(language=7), {"site.language": ["must be a string"]}),
    ("unknown form language", _form(language="EN"), {"forms[0].language": [UNKNOWN_LANGUAGE]}),
    (
        "unknown string key",
        _site(strings={"sumbit": "Go"}),
        {"site.strings.sumbit": ["unknown string; the strings are: " + STRING_KEYS]},
    ),
    (
        "too long a string",
        _form(strings={"skip": "x" * 301}),
        {"forms[0].strings.skip": ["must be 1 to 300 characters long"]},
    ),
    (
        "an empty string",
        _form(strings={"skip": ""}),
        {"forms[0].strings.skip": ["must be 1 to 300 characters long"]},
    ),
    (
        "too long a submit string",
        _site(strings={"submit": "x" * 101}),
        {"site.strings.submit": ["must be 1 to 100 characters long"]},
    ),
    (
        "unknown placeholder",
        _site(strings={"too_long": "At most {count} characters."}),
        {"site.strings.too_long": ["unknown placeholder {count}; this string takes: {max}"]},
    ),
    (
        "a placeholder in a string that takes none",
        _site(strings={"skip": "Skip {label}"}),
        {"site.strings.skip": ["unknown placeholder {label}; this string takes: none"]},
    ),
    ("strings not a mapping", _site(strings=["Go"]), {"site.strings": ["must be a mapping"]}),
    (
        "a string not text",
        _site(strings={"skip": 5}),
        {"site.strings.skip": ["must be a string"]},
    ),
    (
        "unknown autocomplete token",
        _field(autocomplete="first-name"),
        {"fields[1].autocomplete": ["must be one of: " + ", ".join(AUTOCOMPLETE_TOKENS)]},
    ),
    (
        "autocomplete on a yes/no question",
        lambda config: config["fields"][8].update(autocomplete="off"),
        {"fields[8].autocomplete": ["only for kinds " + ", ".join(AUTOCOMPLETE_KINDS)]},
    ),
]


def stored() -> tuple[Any, ...]:
    db.session.expire_all()
    counts = tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Field, Form))
    return export_site_config("acme"), db.session.scalar(select(Site.config_version)), counts


@pytest.mark.parametrize(
    ("change", "problems"), [c[1:] for c in BAD_SETTINGS], ids=[c[0] for c in BAD_SETTINGS]
)
def test_bad_language_settings_are_refused_by_path_and_store_nothing(app, change, problems):
    import_site_config(acme_config())
    before = stored()
    config = copy.deepcopy(acme_config())
    change(config)
    with pytest.raises(Invalid) as caught:
        import_site_config(config)
    assert (caught.value.message, caught.value.fields) == ("The config has 1 error.", problems)
    assert stored() == before
