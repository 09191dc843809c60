"""The sales_outcomes config section: optional, checked by path, exported as imported."""

from __future__ import annotations

import copy

import pytest

from app.services.errors import Invalid
from app.services.siteconfig import export_site_config, import_site_config
from tests.factories import acme_config
from tests.sales.support import SALES, STAGES, sales_config


def test_the_section_round_trips_through_export(app):
    import_site_config(sales_config())
    exported = export_site_config("acme")
    assert exported["sales_outcomes"] == SALES
    import_site_config(exported)
    assert export_site_config("acme") == exported


def test_a_config_without_it_exports_without_it(app):
    import_site_config(acme_config(stages=STAGES))
    assert "sales_outcomes" not in export_site_config("acme")


def test_keys_at_their_defaults_are_left_out(app):
    import_site_config(acme_config(stages=STAGES, sales_outcomes={"recycle_to": "nurture"}))
    assert export_site_config("acme")["sales_outcomes"] == {"recycle_to": "nurture"}


def problems(section: object) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as raised:
        import_site_config(acme_config(stages=STAGES, sales_outcomes=section))
    return raised.value.fields


def test_stages_must_name_configured_lifecycle_stages(app):
    section = copy.deepcopy(SALES)
    section["stages"] = {"accepted": "sql", "opportunity": "opportunity", "won": "Customer"}
    section["recycle_to"] = "later"
    assert problems(section) == {
        "sales_outcomes.stages.accepted": ['unknown lifecycle stage "sql"'],
        "sales_outcomes.stages.won": [
            "must be lower-case letters, digits and _, starting with a letter (at most 64)",
            'unknown lifecycle stage "Customer"',
        ],
        "sales_outcomes.recycle_to": ['unknown lifecycle stage "later"'],
    }


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ([], {"sales_outcomes": ["must be a mapping"]}),
        ({"reasons": []}, {"sales_outcomes.reasons": ["unknown key"]}),
        (
            {"rejection_reasons": ["a", "a"]},
            {"sales_outcomes.rejection_reasons[1]": ["listed twice"]},
        ),
        ({"loss_reasons": "price"}, {"sales_outcomes.loss_reasons": ["must be a list"]}),
        ({"stages": {"lost": "lead"}}, {"sales_outcomes.stages.lost": ["unknown key"]}),
        (
            {"requalify_after": {"min_new_score": -1}},
            {"sales_outcomes.requalify_after.min_new_score": ["must be at least 0"]},
        ),
        (
            {"recycle_followup_days": 0},
            {"sales_outcomes.recycle_followup_days": ["must be at least 1"]},
        ),
        (
            {"recycle_followup_days": "two weeks"},
            {"sales_outcomes.recycle_followup_days": ["must be a whole number"]},
        ),
    ],
)
def test_bad_sections_are_reported_by_path(app, section, expected):
    assert problems(section) == expected
