"""The console's editors do not show the interface language settings (site and form
``language`` and ``strings``, a field's ``autocomplete``): saving a site, form or field there
keeps them as the config has them (issue 22.6)."""

from __future__ import annotations

import pytest

from app.services.siteconfig import export_site_config, import_site_config
from tests.console import post_form
from tests.factories import acme_config


@pytest.fixture
def german_site(app, signed_in):
    config = acme_config()
    config["site"].update(language="de", strings={"skip": "Später"})
    config["forms"][0].update(language="fr", strings={"yes": "Oui !"})
    config["fields"][1]["autocomplete"] = "nickname"
    import_site_config(config)
    signed_in("marketer", "mia@acme.example")


def test_saving_site_settings_form_and_field_keeps_the_language_settings(client, german_site):
    settings = {
        "name": "Acme GmbH",
        "origins": "https://www.acme.example",
        "skip_cooldown": "3",
        "followup_hours": "48",
    }
    assert post_form(client, "/admin/sites/acme/settings", settings).status_code == 302
    form = {"title": "Restez informé", "max_questions": "3", "submit_label": "Envoyer"}
    form |= {"thank_you": "Merci !", "tiers": ["basics"]}
    assert post_form(client, "/admin/sites/acme/forms/blog", form).status_code == 302
    field = {"label": "Vorname", "kind": "text", "tier": "basics", "priority": "10"}
    field |= {"scope": "contact", "ask_if_field": "", "ask_if_op": "equals"}
    assert post_form(client, "/admin/sites/acme/fields/first_name", field).status_code == 302

    config = export_site_config("acme")
    assert config["site"]["name"] == "Acme GmbH"
    assert (config["site"]["language"], config["site"]["strings"]) == ("de", {"skip": "Später"})
    blog = config["forms"][0]
    assert (blog["title"], blog["language"], blog["strings"]) == (
        "Restez informé",
        "fr",
        {"yes": "Oui !"},
    )
    first_name = config["fields"][1]
    assert (first_name["label"], first_name["autocomplete"]) == ("Vorname", "nickname")
