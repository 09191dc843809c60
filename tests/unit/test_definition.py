"""The definition part of a config: stages, the hand-off window and sales_outcomes."""

from __future__ import annotations

from app.services.siteconfig import definition_changed, definition_diff, definition_of

BASE = {
    "site": {"key": "acme", "name": "Acme"},
    "stages": [{"key": "mql", "when": {"min_score": 15}, "handoff": True}],
}


def test_defaults_are_filled_in():
    assert definition_of(None) == {"followup_hours": 48, "stages": [], "sales_outcomes": None}
    assert definition_of(BASE)["followup_hours"] == 48


def test_only_the_definition_counts_as_a_change():
    renamed = {**BASE, "site": {"key": "acme", "name": "Acme Inc", "followup_hours": 48}}
    assert not definition_changed(BASE, renamed)
    assert definition_diff(BASE, renamed) == []
    slower = {**BASE, "site": {**BASE["site"], "followup_hours": 72}}
    assert definition_changed(BASE, slower)
    assert definition_diff(BASE, slower)[2:] == [
        "@@ -1,4 +1,4 @@",
        "-followup_hours: 48",
        "+followup_hours: 72",
        " stages:",
        " - key: mql",
        "   when:",
    ]
    assert definition_changed(BASE, {**BASE, "sales_outcomes": {"recycle_to": "nurture"}})
