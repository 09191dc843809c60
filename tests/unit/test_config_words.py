"""A config change in words (domain.config_words): the lines the History page shows."""

from __future__ import annotations

from app.domain.config_words import config_changes

BEFORE = {
    "site": {"name": "Acme", "followup_hours": 48, "origins": ["https://a.example"]},
    "fields": [
        {"key": "email", "label": "Email"},
        {
            "key": "budget",
            "label": "Budget",
            "options": ["< 10k", {"value": "big", "label": "Big"}],
        },
        {"key": "zip", "label": "ZIP"},
    ],
    "stages": [{"key": "mql", "when": {"min_score": 10}, "handoff": True}],
    "engagement": {"webinar": {"weight": 5}},
}
AFTER = {
    "site": {"name": "Acme", "followup_hours": 24, "origins": ["https://a.example", "https://b.example"], "skip_cooldown": 5},
    "fields": [
        {"key": "zip", "label": "ZIP"},
        {"key": "email", "label": "Work email"},
        {"key": "role", "label": "Role"},
    ],
    "stages": [{"key": "mql", "when": {"min_score": 15, "fields_known": ["email"]}, "handoff": True}],
    "engagement": {"webinar": {"weight": 6}},
    "sales_outcomes": {"rejection_reasons": ["bad_fit"]},
}  # fmt: skip


def test_each_change_is_one_line_in_words():
    assert config_changes(BEFORE, AFTER) == [
        "Site: followup hours “48” → “24”",
        "Site: origins “https://a.example” → “https://a.example, https://b.example”",
        "Site: skip cooldown the default → “5”",
        "Field “Work email” (email): label “Email” → “Work email”",
        "Field “Role” (role) added",
        "Field “Budget” (budget) removed",
        "Fields reordered: zip, email",
        "Stage “mql”: rule “Engagement score ≥ 10” → “Engagement score ≥ 15 and Known: Work email”",
        "Engagement: webinar weight “5” → “6”",
        "Sales outcomes changed",
    ]


def test_no_change_says_nothing_and_the_first_version_says_so():
    assert config_changes(AFTER, AFTER) == []
    assert config_changes(None, AFTER) == ["The first recorded version: everything in it is new."]


def test_a_large_value_only_says_it_changed_and_a_long_one_is_cut():
    before = {
        "fields": [{"key": "budget", "label": "Budget", "options": [{"value": "a", "label": "A"}]}]
    }
    after = {
        "fields": [{"key": "budget", "label": "B" * 80, "options": [{"value": "b", "label": "B"}]}]
    }
    assert config_changes(before, after) == [
        f"Field “{'B' * 80}” (budget): label “Budget” → “{'B' * 59}…”; options changed"
    ]
