"""The lab site's config (a field of every kind an export writes) and a visitor filling it in."""

from __future__ import annotations

import copy
from typing import Any

from flask.testing import FlaskClient

from tests.factories import Widget, acme_config

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


def fill(client: FlaskClient, answers: dict[str, Any], form: str = "signup") -> Widget:
    """A new visitor answering ``answers`` on ``form`` (every key must be offered)."""
    widget = Widget(client, site="lab", form=form)
    offered = widget.ask()
    assert set(answers) <= set(offered), offered
    response = widget.submit(answers)
    assert response.status_code == 200, response.get_json()
    return widget
