"""The form page's embed card names the allowed origins and links to where they are set; a
form's on_complete is set in the form editor."""

from __future__ import annotations

from html import unescape

import pytest

from app.services.siteconfig import export_site_config
from tests.console import field_errors, post_form
from tests.factories import acme_config, make_site


@pytest.fixture
def marketer(signed_in):
    signed_in("marketer", "mia@acme.example")


def origins_line(client) -> str:
    """The embed card's line on allowed origins, as the form page renders it."""
    html = client.get("/admin/sites/acme/forms/blog").get_data(as_text=True)
    start = html.index('<p class="origins">')
    return " ".join(html[start : html.index("</p>", start)].split())


def test_the_embed_card_names_the_origins_and_links_to_settings(client, site, marketer):
    assert origins_line(client) == (
        '<p class="origins">Allowed origins: <code>https://www.acme.example</code> Add one under'
        ' <a href="/admin/sites/acme/settings#origins">Settings → Allowed origins</a>'
        " (<code>site.origins</code> in the config file). On any other origin the form shows"
        " “This form is unavailable right now.” and the browser console says why."
    )
    settings = client.get("/admin/sites/acme/settings").get_data(as_text=True)
    assert 'id="origins"' in settings


def test_the_embed_card_says_when_no_origin_is_allowed(client, app, marketer):
    config = acme_config()
    config["site"] = {**config["site"], "origins": []}
    make_site(config)
    assert origins_line(client).startswith('<p class="origins">Allowed origins: none yet. Add')


BLOG = {
    "title": "Stay in the loop",
    "stage": "early",
    "max_questions": "3",
    "submit_label": "Subscribe",
    "thank_you": "Thanks!",
}


@pytest.mark.parametrize(
    ("inputs", "on_complete"),
    [
        (
            {"on_complete_action": "download", "on_complete_value": " /files/guide.pdf "},
            {"download": "/files/guide.pdf"},
        ),
        (
            {
                "on_complete_action": "open",
                "on_complete_value": "https://www.acme.example/next",
                "on_complete_label": "See what is next",
            },
            {"open": "https://www.acme.example/next", "label": "See what is next"},
        ),
        (
            {
                "on_complete_action": "message",
                "on_complete_value": "Check your inbox.",
                "on_complete_label": "ignored for a message",
            },
            {"message": "Check your inbox."},
        ),
    ],
)
def test_a_marketer_sets_on_complete(client, site, marketer, inputs, on_complete):
    response = post_form(client, "/admin/sites/acme/forms/blog", {**BLOG, **inputs})
    assert response.status_code == 302
    assert export_site_config("acme")["forms"][0]["on_complete"] == on_complete
    page = client.get("/admin/sites/acme/forms/blog").get_data(as_text=True)
    assert f'<option selected value="{next(iter(on_complete))}">' in page


def test_choosing_nothing_more_clears_on_complete(client, app, marketer):
    config = acme_config()
    config["forms"][0]["on_complete"] = {"message": "Check your inbox."}
    make_site(config)
    data = {**BLOG, "on_complete_action": "", "on_complete_value": "Check your inbox."}
    assert post_form(client, "/admin/sites/acme/forms/blog", data).status_code == 302
    assert "on_complete" not in export_site_config("acme")["forms"][0]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (
            "javascript:alert(1)",
            'must be an absolute http or https URL, like "https://www.example.com/guide.pdf"',
        ),
        (
            "//evil.example/guide.pdf",
            'must be a path like "/guide.pdf" (no "//" at the start, no backslash or spaces),'
            " or an absolute http or https URL",
        ),
        ("  ", "Enter the message, or the page's address."),
    ],
)
def test_a_bad_address_is_shown_at_its_input_and_nothing_is_saved(
    client, site, marketer, value, problem
):
    data = {**BLOG, "on_complete_action": "open", "on_complete_value": value}
    response = post_form(client, "/admin/sites/acme/forms/blog", data)
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True))
    assert {key: unescape(text) for key, text in errors.items()} == {"on_complete_value": problem}
    assert "on_complete" not in export_site_config("acme")["forms"][0]
