"""The form page's embed card names the allowed origins and links to where they are set; a
form's on_complete is set in the form editor."""

from __future__ import annotations

import pytest

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
