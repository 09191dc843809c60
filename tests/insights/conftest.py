"""Fixtures of the insight screens' tests."""

from __future__ import annotations

import pytest

from tests.factories import acme_config, make_site


@pytest.fixture
def analyst(signed_in, site):
    """Ann, an analyst, signed in to the console (Acme's site in place)."""
    signed_in("analyst", "ann@acme.example")


@pytest.fixture
def two_forms(app):
    """Acme's site with a second form, ``short`` (first name and company), after ``blog``."""
    config = acme_config()
    config["forms"].append(
        {"key": "short", "title": "Quick one", "fields": ["first_name", "company"]}
    )
    return make_site(config)
