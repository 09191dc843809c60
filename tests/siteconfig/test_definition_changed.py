"""``definition.changed``: an applied config that changes the definition (stages,
followup_hours, sales_outcomes) records it once, with the diff, and marks the site for
re-qualification; any other change records nothing. Destinations may subscribe to it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Delivery, OutboxEvent, Site
from app.services.errors import Invalid
from tests.factories import acme_config, make_site

STAGES = [{"key": "lead", "when": {"fields_known": ["email"]}}]
HOOK = {
    "key": "crm",
    "url": "https://crm.example/hooks",
    "events": ["definition.changed"],
}


def events() -> list[dict]:
    rows = db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.type == "definition.changed").order_by("id")
    )
    return [row.payload for row in rows]


def requalify_version() -> int | None:
    db.session.expire_all()
    return db.session.scalar(select(Site.requalify_version))


def test_a_change_of_the_definition_records_it_once_with_its_diff(app, clock):
    make_site(acme_config(stages=STAGES))
    assert (events(), requalify_version()) == ([], None)  # the first revision changes nothing
    config = acme_config(stages=STAGES)
    config["site"] = {**config["site"], "followup_hours": 24}
    make_site(config)
    assert events() == [
        {
            "site": "acme",
            "from_version": 1,
            "to_version": 2,
            "diff": [
                "--- definition before",
                "+++ definition after",
                "@@ -1,4 +1,4 @@",
                "-followup_hours: 48",
                "+followup_hours: 24",
                " stages:",
                " - key: lead",
                "   when:",
            ],
            "author": "trickle import-config",
            "approved_by": None,
            "changed_at": "2026-03-02T09:00:00Z",
        }
    ]
    assert requalify_version() == 2


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda c: c["fields"][0].update(label="Email"), id="a label"),
        pytest.param(lambda c: c["engagement"].update(page_view=2), id="a weight"),
        pytest.param(lambda c: c["forms"][0].update(title="News"), id="a form"),
    ],
)
def test_a_change_outside_the_definition_records_nothing(app, change):
    make_site(acme_config(stages=STAGES))
    config = acme_config(stages=STAGES)
    change(config)
    make_site(config)
    assert (events(), requalify_version()) == ([], None)


def test_a_destination_subscribed_to_it_gets_it(app):
    make_site(acme_config(stages=STAGES, destinations=[HOOK]))
    make_site(
        acme_config(stages=[*STAGES, {"key": "mql", "when": {"min_score": 5}}], destinations=[HOOK])
    )
    [delivery] = db.session.scalars(select(Delivery))
    assert (delivery.event_type, delivery.contact_id) == ("definition.changed", None)
    assert b'"type":"definition.changed"' in delivery.body


def test_an_unknown_event_is_still_refused(app):
    with pytest.raises(Invalid) as refused:
        make_site(acme_config(destinations=[{**HOOK, "events": ["definition.changes"]}]))
    assert list(refused.value.fields) == ["destinations[0].events[0]"]
    assert db.session.scalar(select(Site.id)) is None
