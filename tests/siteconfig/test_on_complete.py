"""A form's on_complete in the config: show a message, open a page, start a download; checked
at import (http/https or a path on the page's site only), exported, and sent with each ask."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Form, Site
from app.services.errors import Invalid
from app.services.siteconfig import export_site_config
from tests.factories import Widget, acme_config, make_site

ONE_OF = "needs exactly one of: message, open, download"
URL_RULE = 'must be an absolute http or https URL, like "https://www.example.com/guide.pdf"'
PATH_RULE = (
    'must be a path like "/guide.pdf" (no "//" at the start, no backslash or spaces), or an'
    " absolute http or https URL"
)


def with_on_complete(on_complete: Any) -> dict[str, Any]:
    config = acme_config()
    config["forms"][0]["on_complete"] = on_complete
    return config


def stored() -> tuple[int, Any]:
    """The site's config version and the blog form's on_complete, as stored."""
    version = db.session.scalar(select(Site.config_version))
    return version, db.session.scalar(select(Form.on_complete).where(Form.key == "blog"))


@pytest.mark.parametrize(
    "on_complete",
    [
        {"message": "Your guide is in your inbox."},
        {"open": "https://www.acme.example/thanks", "label": "See what is next"},
        {"download": "https://cdn.acme.example/guide.pdf"},
        {"download": "/files/guide.pdf?v=2", "label": "Download the guide"},
    ],
)
def test_on_complete_is_stored_exported_and_sent_with_the_ask(client, app, on_complete):
    make_site(with_on_complete(on_complete))
    assert export_site_config("acme")["forms"][0]["on_complete"] == on_complete
    response = Widget(client).post("/forms/blog/ask", {})
    assert response.get_json()["form"]["on_complete"] == on_complete


def test_a_form_without_on_complete_sends_none(client, site):
    assert "on_complete" not in Widget(client).post("/forms/blog/ask", {}).get_json()["form"]
    assert "on_complete" not in export_site_config("acme")["forms"][0]


@pytest.mark.parametrize(
    ("on_complete", "problems"),
    [
        ({"open": "javascript:alert(1)"}, {"open": [URL_RULE]}),
        ({"download": "data:text/html,<script>alert(1)</script>"}, {"download": [URL_RULE]}),
        ({"open": "JavaScript:alert(1)"}, {"open": [URL_RULE]}),
        ({"open": "ftp://files.acme.example/guide.pdf"}, {"open": [URL_RULE]}),
        ({"open": "guide.pdf"}, {"open": [URL_RULE]}),
        ({"open": "https://"}, {"open": [URL_RULE]}),
        ({"open": "https://www.acme.example/a b"}, {"open": ["must not contain spaces"]}),
        ({"download": "//evil.example/guide.pdf"}, {"download": [PATH_RULE]}),
        ({"download": "/\\evil.example/guide.pdf"}, {"download": [PATH_RULE]}),
        ({"download": "/guide.pdf\n"}, {"download": [PATH_RULE]}),
        ({}, {"": [ONE_OF]}),
        ({"message": "Thanks", "open": "https://www.acme.example/"}, {"": [ONE_OF]}),
        ({"message": "Thanks", "label": "Go"}, {"label": ["only with open or download"]}),
        ({"open": "https://www.acme.example/", "target": "_top"}, {"target": ["unknown key"]}),
        ({"message": ""}, {"message": ["must be 1 to 2000 characters long"]}),
        ("https://www.acme.example/", {"": ["must be a mapping"]}),
    ],
)
def test_a_bad_on_complete_is_refused_by_path_and_stores_nothing(app, site, on_complete, problems):
    before = stored()
    with pytest.raises(Invalid) as refused:
        make_site(with_on_complete(on_complete))
    prefix = "forms[0].on_complete"
    assert refused.value.fields == {
        f"{prefix}.{key}" if key else prefix: messages for key, messages in problems.items()
    }
    assert stored() == before
