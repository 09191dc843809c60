"""Fixtures of the insight screens' tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def analyst(signed_in, site):
    """Ann, an analyst, signed in to the console (Acme's site in place)."""
    signed_in("analyst", "ann@acme.example")
