"""A site whose fields cover every kind an export writes, and an analyst token for it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.services.accounts import create_token
from tests.conftest import FakeClock
from tests.factories import Widget, acme_config, make_site

LAB_FIELDS: list[dict[str, Any]] = [
    {"key": "email", "label": "Email", "kind": "email", "tier": "basics", "identity": True},
    {"key": "name", "label": "Name", "kind": "text", "tier": "basics", "priority": 10},
    {"key": "notes", "label": "Notes", "kind": "textarea", "tier": "basics", "priority": 20},
    {
        "key": "tags",
        "label": "Tags",
        "kind": "multiselect",
        "tier": "basics",
        "priority": 30,
        "options": ["a,b", "ü", "x"],
    },
    {"key": "employees", "label": "Employees", "kind": "number", "tier": "basics", "priority": 40},
    {
        "key": "subscribed",
        "label": "Subscribed",
        "kind": "boolean",
        "tier": "basics",
        "priority": 50,
    },
    {
        "key": "size",
        "label": "Size",
        "kind": "select",
        "tier": "firmographics",
        "scope": "account",
        "options": ["1-10", "11-50"],
    },
    {"key": "title", "label": "Title", "kind": "text", "tier": "firmographics", "priority": 20},
]
BASE = [
    "contact_id",
    "email",
    "stage",
    "engagement_score",
    "engagement_events",
    "created_at",
    "last_seen_at",
    "completeness",
]


def lab_config() -> dict[str, Any]:
    return acme_config(
        site={"key": "lab", "name": "Lab", "origins": ["https://lab.example"]},
        tiers=[
            {"key": "basics", "rank": 1, "min_score": 0},
            {"key": "firmographics", "rank": 2, "min_score": 0},
        ],
        fields=copy.deepcopy(LAB_FIELDS),
        forms=[
            {"key": "signup", "title": "Sign up", "max_questions": 6, "tiers": ["basics"]},
            {"key": "more", "title": "More", "max_questions": 2, "tiers": ["firmographics"]},
        ],
        stages=[
            {"key": "lead", "when": {"fields_known": ["email"]}},
            {"key": "mql", "when": {"min_score": 15}},
        ],
    )


@pytest.fixture
def lab(app: Flask) -> str:
    make_site(lab_config())
    return "lab"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def analyst_token(lab: str, clock: FakeClock) -> str:
    return create_token(lab, "analyst", "exports", now=clock())[1]


def fill(client: FlaskClient, answers: dict[str, Any], form: str = "signup") -> Widget:
    """A new visitor answering ``answers`` on ``form`` (every key must be offered)."""
    widget = Widget(client, site="lab", form=form)
    offered = widget.ask()
    assert set(answers) <= set(offered), offered
    response = widget.submit(answers)
    assert response.status_code == 200, response.get_json()
    return widget
