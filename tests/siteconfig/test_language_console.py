"""The console edits the interface language (issue 22.6, 22.7): the site's language and its own
strings on Settings, a form's language and strings on its editor, a field's autofill token on
its editor. Every string shows its fallback text, in the chosen language, as a placeholder;
what is typed is checked by the config import, as in a file (a problem next to its input,
nothing saved); every save needs the CSRF token; the live preview speaks the draft's language."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.domain.interface import AUTOCOMPLETE_TOKENS, LANGUAGES
from app.extensions import db
from app.models import ConfigRevision
from app.services.siteconfig import export_site_config, import_site_config, site_snapshot
from tests.console import csrf_token, field_errors, post_form
from tests.factories import acme_config

SETTINGS = "/admin/sites/acme/settings"
BLOG = "/admin/sites/acme/forms/blog"
FIRST_NAME = "/admin/sites/acme/fields/first_name"
SITE = {
    "name": "Acme Analytics",
    "origins": "https://www.acme.example",
    "skip_cooldown": "3",
    "followup_hours": "48",
}
FORM = {"title": "Stay in the loop", "stage": "early", "max_questions": "3", "tiers": ["basics"]}
FIELD = {"label": "First name", "kind": "text", "tier": "basics", "priority": "10"}
FIELD |= {"scope": "contact", "overwrite": "verified", "max_length": "80", "ask_if_op": "equals"}


@pytest.fixture
def marketer(site, signed_in):
    signed_in("marketer", "mia@acme.example")


def revisions() -> int:
    return db.session.scalar(select(func.count()).select_from(ConfigRevision))


def attribute(html: str, input_id: str, name: str) -> str | None:
    """An attribute of the input (or select, textarea) with id ``input_id``, unescaped."""
    tag = re.search(rf'<(?:input|textarea|select)\b[^>]*\bid="{input_id}"[^>]*>', html)
    value = re.search(rf'\b{name}="([^"]*)"', tag.group(0))
    return unescape(value.group(1)) if value else None


def refused(client, path: str, data: dict) -> dict[str, str]:
    """Post ``data`` to ``path``; assert it was refused and saved nothing; its field errors."""
    before, saved = export_site_config("acme"), revisions()
    response = post_form(client, path, data)
    assert response.status_code == 422
    assert (export_site_config("acme"), revisions()) == (before, saved)
    return field_errors(response.get_data(as_text=True))


def selected(html: str, select_id: str) -> str:
    start = html.index(f'id="{select_id}"')
    options = html[start : html.index("</select>", start)]
    return re.search(r'<option selected value="([^"]*)"', options).group(1)


# ---- the site: Settings ----


def test_settings_show_the_language_and_each_string_with_its_builtin_text(client, marketer):
    html = client.get(SETTINGS).get_data(as_text=True)
    assert html.count('id="language"') == 1
    start = html.index('id="language"')
    options = re.findall(r'<option[^>]*value="(\w+)"', html[start : html.index("</select>", start)])
    assert tuple(options) == LANGUAGES
    assert selected(html, "language") == "en"
    assert attribute(html, "strings-submit", "placeholder") == "Submit"
    assert attribute(html, "strings-unavailable", "placeholder") == (
        "This form is unavailable right now."
    )
    assert attribute(html, "strings-submit", "value") in (None, "")
    assert '<details class="input-group" id="strings">' in html  # folded: nothing of its own


def test_settings_save_the_language_and_the_strings_typed(client, marketer):
    data = {**SITE, "language": "de", "strings-skip": "<b>Später</b>", "strings-submit": " "}
    assert post_form(client, SETTINGS, data).status_code == 302
    site = export_site_config("acme")["site"]
    assert (site["language"], site["strings"]) == ("de", {"skip": "<b>Später</b>"})

    html = client.get(SETTINGS).get_data(as_text=True)
    assert selected(html, "language") == "de"
    assert 'value="&lt;b&gt;Später&lt;/b&gt;"' in html  # text, never markup
    assert attribute(html, "strings-submit", "placeholder") == "Absenden"
    assert attribute(html, "strings-skip", "placeholder") == "Überspringen"
    assert '<details class="input-group" id="strings" open>' in html

    # Emptied again: the built-in text, and no strings left in the config.
    assert post_form(client, SETTINGS, {**SITE, "language": "de"}).status_code == 302
    assert "strings" not in export_site_config("acme")["site"]


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"language": "xx"},
            {"language": "must be one of: " + ", ".join(LANGUAGES)},
        ),
        (
            {"language": "fr", "strings-too_long": "Au plus {min}."},
            {"strings-too_long": "unknown placeholder {min}; this string takes: {max}"},
        ),
        (
            {"language": "fr", "strings-submit": "x" * 101},
            {"strings-submit": "must be 1 to 100 characters long"},
        ),
    ],
)
def test_settings_refuse_what_a_config_file_may_not_say(client, marketer, data, errors):
    assert refused(client, SETTINGS, {**SITE, **data}) == errors


def test_without_the_csrf_token_settings_save_nothing(client, marketer):
    saved = revisions()
    response = client.post(SETTINGS, data={**SITE, "language": "de", "strings-skip": "Später"})
    assert response.status_code == 400
    assert "language" not in export_site_config("acme")["site"]
    assert revisions() == saved


# ---- a form ----


@pytest.fixture
def german_site(app, signed_in):
    config = acme_config()
    config["site"].update(language="de", strings={"skip": "Später"})
    import_site_config(config)
    signed_in("marketer", "mia@acme.example")


def test_a_form_in_its_own_language_takes_that_languages_labels(client, german_site):
    data = {**FORM, "language": "fr", "strings-yes": "Oui !", "submit_label": ""}
    assert post_form(client, BLOG, {**data, "thank_you": ""}).status_code == 302
    blog = export_site_config("acme")["forms"][0]
    assert (blog["language"], blog["strings"]) == ("fr", {"yes": "Oui !"})
    assert labels() == ("Envoyer", "Merci\u00a0!")
    assert ("submit_label" in blog, "thank_you" in blog) == (False, False)  # the language's own

    html = client.get(BLOG).get_data(as_text=True)
    assert selected(html, "language") == "fr"
    assert attribute(html, "strings-yes", "value") == "Oui !"
    # Not the German site's "Später": its strings count on German forms only.
    assert attribute(html, "strings-skip", "placeholder") == "Passer"
    # The language's own word shows as the empty input's placeholder, so it follows the language.
    assert attribute(html, "submit_label", "value") == ""
    assert attribute(html, "submit_label", "placeholder") == "Envoyer"

    # Back to the site's language: German, with the site's own strings.
    assert post_form(client, BLOG, FORM).status_code == 302
    blog = export_site_config("acme")["forms"][0]
    assert ("language" in blog, "strings" in blog) == (False, False)
    assert labels() == ("Absenden", "Vielen Dank!")
    html = client.get(BLOG).get_data(as_text=True)
    assert selected(html, "language") == ""
    assert attribute(html, "strings-skip", "placeholder") == "Später"


def labels() -> tuple[str, str]:
    """The blog form's submit label and thank-you as visitors get them."""
    blog = site_snapshot("acme").forms["blog"]
    return blog.submit_label, blog.thank_you


def test_a_form_without_labels_follows_a_change_of_the_sites_language(client, german_site):
    assert post_form(client, BLOG, FORM).status_code == 302  # no labels of its own
    assert labels() == ("Absenden", "Vielen Dank!")
    assert post_form(client, SETTINGS, {**SITE, "language": "fr"}).status_code == 302
    assert labels() == ("Envoyer", "Merci\u00a0!")
    # The site's own word for a string counts as the language's own too.
    data = {**SITE, "language": "fr", "strings-submit": "C'est parti"}
    assert post_form(client, SETTINGS, data).status_code == 302
    assert labels() == ("C'est parti", "Merci\u00a0!")
    assert post_form(client, SETTINGS, {**SITE, "language": "en"}).status_code == 302
    assert labels() == ("Submit", "Thank you!")
    assert "submit_label" not in export_site_config("acme")["forms"][0]


def test_a_label_of_your_own_stays_whatever_the_language(client, german_site):
    data = {**FORM, "language": "ja", "submit_label": "Go", "thank_you": "Thanks!"}
    assert post_form(client, BLOG, data).status_code == 302
    blog = export_site_config("acme")["forms"][0]
    assert (blog["language"], blog["submit_label"], blog["thank_you"]) == ("ja", "Go", "Thanks!")
    html = client.get(BLOG).get_data(as_text=True)
    assert attribute(html, "submit_label", "value") == "Go"
    assert attribute(html, "submit_label", "placeholder") == "送信"


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"language": "klingon"},
            {"language": "must be one of: " + ", ".join(LANGUAGES)},
        ),
        (
            {"strings-skip_question": "{name} überspringen", "strings-yes": "Jawohl"},
            {"strings-skip_question": "unknown placeholder {name}; this string takes: {label}"},
        ),
    ],
)
def test_a_forms_bad_language_settings_are_refused_next_to_their_input(
    client, german_site, data, errors
):
    assert refused(client, BLOG, {**FORM, **data}) == errors


def test_without_the_csrf_token_a_form_saves_nothing(client, german_site):
    saved = revisions()
    response = client.post(BLOG, data={**FORM, "language": "fr"})
    assert response.status_code == 400
    assert "language" not in export_site_config("acme")["forms"][0]
    assert revisions() == saved


def test_the_live_preview_speaks_the_drafts_language(client, german_site):
    page = client.get(BLOG).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    draft = {**FORM, "language": "he", "strings-skip": "אחר כך", "visitor-score": "0"}
    body = {"csrf_token": csrf_token(client, BLOG), "version": version, **draft}
    response = client.post(BLOG + "/preview", data=body)
    assert response.status_code == 200, response.get_json()
    preview = client.get(response.get_json()["url"]).get_data(as_text=True)
    api = urlsplit(re.search(r'data-api="([^"]+)"', preview).group(1)).path
    asked = client.post(api + "/api/v1/sites/acme/forms/blog/ask", json={}).get_json()
    form = asked["form"]
    assert (form["language"], form["dir"], form["submit_label"]) == ("he", "rtl", "שליחה")
    assert form["strings"]["skip"] == "אחר כך"
    # Its submit checks the answers in the draft's language too (nothing is stored).
    sent = {"ask_token": asked["ask_token"], "answers": {"email": ""}}
    response = client.post(api + "/api/v1/sites/acme/forms/blog/submit", json=sent)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"email": ["זוהי שאלת חובה."]}
    assert export_site_config("acme")["forms"][0].get("language") is None  # nothing saved


# ---- a field's autofill ----


def test_a_fields_autofill_token_is_chosen_and_automatic_says_what_it_means(client, marketer):
    html = client.get(FIRST_NAME).get_data(as_text=True)
    start = html.index('id="autocomplete"')
    options = html[start : html.index("</select>", start)]
    assert '<option selected value="">Automatic (given-name)</option>' in options
    assert re.findall(r'<option[^>]*value="([\w-]+)"', options) == list(AUTOCOMPLETE_TOKENS)

    assert post_form(client, FIRST_NAME, {**FIELD, "autocomplete": "nickname"}).status_code == 302
    assert export_site_config("acme")["fields"][1]["autocomplete"] == "nickname"
    assert selected(client.get(FIRST_NAME).get_data(as_text=True), "autocomplete") == "nickname"

    assert post_form(client, FIRST_NAME, {**FIELD, "autocomplete": ""}).status_code == 302
    assert "autocomplete" not in export_site_config("acme")["fields"][1]


@pytest.mark.parametrize(
    ("path", "data", "error"),
    [
        (FIRST_NAME, {**FIELD, "autocomplete": "fax"}, "must be one of: "),
        (
            "/admin/sites/acme/fields/decision_maker",
            {**FIELD, "label": "Sign off?", "kind": "boolean", "tier": "qualification"}
            | {"max_length": "", "autocomplete": "tel"},
            "only for kinds text, textarea, email, phone, url, number, select",
        ),
    ],
)
def test_a_bad_autofill_token_is_refused_next_to_its_input(client, marketer, path, data, error):
    errors = refused(client, path, data)
    assert list(errors) == ["autocomplete"]
    assert errors["autocomplete"].startswith(error)


def test_without_the_csrf_token_a_field_saves_nothing(client, marketer):
    saved = revisions()
    response = client.post(FIRST_NAME, data={**FIELD, "autocomplete": "nickname"})
    assert response.status_code == 400
    assert "autocomplete" not in export_site_config("acme")["fields"][1]
    assert revisions() == saved
