"""A site whose fields cover every kind an export writes, and an analyst token for it."""

from __future__ import annotations

import pytest
from flask import Flask

from app.services.accounts import create_token
from tests.clock import FakeClock
from tests.exports.support import lab_config
from tests.factories import make_site


@pytest.fixture
def lab(app: Flask) -> str:
    make_site(lab_config())
    return "lab"


@pytest.fixture
def analyst_token(lab: str, clock: FakeClock) -> str:
    return create_token(lab, "analyst", "exports", now=clock())[1]
