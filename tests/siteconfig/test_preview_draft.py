"""Preview as you type: the form page posts its editor's unsaved values, the console checks
them as a save would and answers a preview page for them; nothing is ever saved."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ConfigRevision, Contact, Visitor
from app.services.asking import preview_draft
from app.services.siteconfig import EditRefused, export_site_config
from tests.console import csrf_token

PAGE = "/admin/sites/acme/forms/blog"
DRAFT = PAGE + "/preview"

# The blog form as its editor shows it (tests/factories.py), as the browser would post it.
EDITOR = {
    "title": "Stay in the loop",
    "stage": "early",
    "max_questions": "3",
    "submit_label": "Subscribe",
    "thank_you": "Thanks!",
    "consent_field": "",
}


@pytest.fixture
def marketer(signed_in):
    signed_in("marketer", "mia@acme.example")


def _revisions() -> int:
    return db.session.scalar(select(func.count()).select_from(ConfigRevision))


def _post(client, data: dict, token: str | None = None):
    version = re.search(r'name="version" value="(\d+)"', client.get(PAGE).get_data(as_text=True))
    body = {"csrf_token": token or csrf_token(client, PAGE), "version": version.group(1), **data}
    return client.post(DRAFT, data=body)


def _ask(client, url: str) -> dict:
    html = client.get(url).get_data(as_text=True)
    api = re.search(r'data-api="([^"]+)"', html).group(1)
    response = client.post(api + "/api/v1/sites/acme/forms/blog/ask", json={})
    assert response.status_code == 200
    return response.get_json()


def test_the_preview_shows_unsaved_values_and_saves_nothing(client, site, marketer):
    before = export_site_config("acme")
    draft = {
        **EDITOR,
        "title": "<i>Get the report</i>",
        "intro": "Two questions, then it is yours.",
        "submit_label": "Download",
        "max_questions": "2",
        "fields": ["zip", "job_title"],
        "always_ask": ["zip"],
        "visitor-score": "6",
    }
    response = _post(client, draft)
    assert response.status_code == 200
    url = response.get_json()["url"]
    assert urlsplit(url).path == DRAFT
    html = client.get(url).get_data(as_text=True)
    assert "Visitor: score 6, stage reached none, 0 fields known. Unsaved changes shown." in html
    body = _ask(client, url)
    assert body["form"].pop("strings")["skip"] == "Skip"  # the saved form's interface text
    assert body["form"] == {
        "title": "<i>Get the report</i>",
        "intro": "Two questions, then it is yours.",
        "submit_label": "Download",
        "language": "en",
        "dir": "ltr",
        "max_questions": 2,
    }
    assert [q["key"] for q in body["questions"]] == ["zip", "job_title"]
    assert _revisions() == 1
    assert export_site_config("acme") == before
    for model in (Contact, Visitor):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0


def test_the_saved_form_is_previewed_when_the_editor_sends_nothing(client, site, marketer):
    response = _post(client, {"visitor-stage": "late", "visitor-known": ["email"]})
    assert response.status_code == 200
    html = client.get(response.get_json()["url"]).get_data(as_text=True)
    assert "Visitor: score 0, stage reached late, 1 field known.</p>" in html
    body = _ask(client, response.get_json()["url"])
    assert body["form"]["title"] == "Stay in the loop"
    assert [q["key"] for q in body["questions"]] == ["first_name", "company", "zip"]


@pytest.mark.parametrize(
    ("change", "problems"),
    [
        ({"title": " "}, ["Title: This field is required."]),
        ({"max_questions": "11"}, ["Questions at a time: Number must be between 1 and 10."]),
        ({"max_questions": "two"}, ["Questions at a time: Not a valid integer value."]),
        ({"fields": ["nope"]}, ["Single fields: 'nope' is not a valid choice for this field."]),
        ({"consent_field": "email"}, ["Consent line: Not a valid choice."]),
    ],
)
def test_a_draft_that_would_not_save_is_not_previewed(client, site, marketer, change, problems):
    response = _post(client, {**EDITOR, **change})
    assert response.status_code == 422
    assert response.get_json() == {"problems": problems}
    assert _revisions() == 1


def test_a_draft_is_checked_as_a_save_would_check_it(app, site):
    entry = {"key": "blog", "title": "T", "fields": ["zip"], "consent": {"field": "zip"}}
    with pytest.raises(EditRefused) as refused:
        preview_draft("acme", "blog", entry)
    assert refused.value.lines() == [
        'Form "blog", consent.field: field "zip" is not of kind consent'
    ]
    entry = {"key": "blog", "title": "T", "fields": ["zip"], "always_ask": ["email"]}
    assert preview_draft("acme", "blog", entry) == {
        "title": "T",
        "submit_label": "Submit",
        "thank_you": "Thank you!",
        "max_questions": 3,
        "tiers": [],
        "fields": ["zip"],
        "always_ask": ["email"],
    }
    assert _revisions() == 1


def test_a_draft_too_long_for_a_url_is_refused_with_the_way_out(client, site, marketer):
    text = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(63))[:2000]
    long = {"intro": text, "thank_you": text[::-1], "complete_message": text[1::2] * 2}
    response = _post(client, {**EDITOR, **long})
    assert response.status_code == 422
    assert response.get_json() == {
        "problems": ["This form has too much text to preview before saving: save it to preview it."]
    }


def test_without_the_csrf_token_nothing_is_previewed(client, site, marketer):
    response = client.post(DRAFT, data={**EDITOR})
    assert response.status_code == 400


def test_an_analyst_previews_the_saved_form_only_by_reading(client, site, signed_in):
    signed_in("analyst", "ann@acme.example")
    response = _post(client, {"visitor-score": "12"})
    assert response.status_code == 200
    assert _ask(client, response.get_json()["url"])["form"]["title"] == "Stay in the loop"
    assert _revisions() == 1


def test_a_forged_or_foreign_preview_token_is_404(client, site, marketer):
    url = _post(client, {**EDITOR, "title": "Draft"}).get_json()["url"]
    token = parse_qs(urlsplit(url).query)["preview"][0]
    assert client.get(DRAFT + "?preview=" + token[:-3] + "xyz").status_code == 404
    assert client.get("/admin/sites/acme/forms/nope/preview?preview=" + token).status_code == 404
    assert client.get(DRAFT + "?preview=" + token).status_code == 200


def test_the_form_page_names_its_preview_controls_apart(client, site, marketer):
    html = client.get(PAGE).get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    assert '<label for="visitor-stage">Latest stage reached</label>' in html
    assert '<select id="visitor-stage" name="visitor-stage">' in html
    assert '<label for="stage">Page stage</label>' in html
