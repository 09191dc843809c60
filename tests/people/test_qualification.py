"""Stage moves after submits and events: recorded with their rule, forwarded, forward only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.domain.specs import ContactState, KnownValue
from app.extensions import db
from app.models import Contact, OutboxEvent, StageChange
from app.services.people import qualify
from app.services.siteconfig import site_snapshot
from tests.factories import Widget, acme_config, make_site

STAGES = [
    {"key": "lead", "when": {"fields_known": ["email"]}},
    {"key": "mql", "when": {"min_score": 10, "fields_known": ["company"]}},
]


@pytest.fixture
def client(app):
    make_site(acme_config(stages=STAGES))
    return app.test_client()


def moves():
    return [
        (c.from_stage, c.to_stage, c.rule, c.changed_at.isoformat())
        for c in db.session.scalars(select(StageChange).order_by(StageChange.id))
    ]


def forwarded():
    return [
        e.payload
        for e in db.session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.type == "contact.stage_changed")
            .order_by(OutboxEvent.id)
        )
    ]


def test_a_submit_and_later_events_move_the_contact_forward(client, clock):
    widget = Widget(client)
    widget.ask()
    assert widget.submit({"email": "ada@acme-corp.example", "company": "Acme"}).status_code == 200
    contact = db.session.scalar(select(Contact))
    assert contact.lifecycle_stage == "lead"  # score 2: the form_submit
    lead_at = clock().isoformat()
    clock.advance(hours=1)
    widget.event("webinar")  # 7: not yet
    assert len(moves()) == 1
    clock.advance(hours=1)
    widget.event("webinar")  # 12: mql
    mql_at = clock().isoformat()
    widget.event("page_view")  # still mql: no move
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).lifecycle_stage == "mql"
    assert moves() == [
        (None, "lead", {"stage": "lead", "when": {"fields_known": ["email"]}}, lead_at),
        (
            "lead",
            "mql",
            {"stage": "mql", "when": {"min_score": 10, "fields_known": ["company"]}},
            mql_at,
        ),
    ]
    assert forwarded() == [
        {
            "contact_id": contact.id,
            "email": "ada@acme-corp.example",
            "from_stage": None,
            "to_stage": "lead",
            "rule": {"stage": "lead", "when": {"fields_known": ["email"]}},
            "changed_at": lead_at.replace("+00:00", "Z"),
            "follow_up_by": None,
            "rule_words": ["Known: Work email"],
            "answers": {
                "email": {
                    "label": "Work email",
                    "value": "ada@acme-corp.example",
                    "text": "ada@acme-corp.example",
                }
            },
        },
        {
            "contact_id": contact.id,
            "email": "ada@acme-corp.example",
            "from_stage": "lead",
            "to_stage": "mql",
            "rule": {"stage": "mql", "when": {"min_score": 10, "fields_known": ["company"]}},
            "changed_at": mql_at.replace("+00:00", "Z"),
            # mql is the hand-off stage by default; followup_hours defaults to 48
            "follow_up_by": "2026-03-04T11:00:00Z",
            "rule_words": ["Engagement score ≥ 10", "Known: Company"],
            "answers": {"company": {"label": "Company", "value": "Acme", "text": "Acme"}},
        },
    ]


def test_an_event_already_counted_moves_nothing(client, clock):
    widget = Widget(client)
    widget.ask()
    widget.submit({"email": "bo@acme-corp.example", "company": "Acme"})
    widget.event("webinar", id="w-1")
    widget.event("webinar", id="w-1")  # the same event again: not counted, no move
    assert [to for _, to, _, _ in moves()] == ["lead"]


def test_rules_that_would_move_a_contact_back_do_nothing(client, clock):
    widget = Widget(client)
    widget.ask()
    widget.submit({"email": "di@acme-corp.example", "company": "Acme"})
    widget.event("webinar")
    widget.event("webinar")  # score 12: mql
    assert [to for _, to, _, _ in moves()] == ["lead", "mql"]
    # The bar is raised and lead now needs a field she never gave: she is below both rules.
    stricter = [
        {"key": "lead", "when": {"fields_known": ["email", "zip"]}},
        {"key": "mql", "when": {"min_score": 100, "fields_known": ["company"]}},
    ]
    make_site(acme_config(stages=stricter))
    widget.event("webinar")
    widget.ask()
    assert widget.submit({"first_name": "Di"}).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(Contact.lifecycle_stage)) == "mql"
    assert [to for _, to, _, _ in moves()] == ["lead", "mql"]
    assert [p["to_stage"] for p in forwarded()] == ["lead", "mql"]


def test_a_site_without_stages_moves_no_one(app, clock):
    make_site()
    client = app.test_client()
    widget = Widget(client)
    widget.ask()
    widget.submit({"email": "cy@acme-corp.example", "company": "Acme"})
    assert db.session.scalar(select(Contact.lifecycle_stage)) is None
    assert moves() == []
    assert forwarded() == []


def test_the_flagged_stage_is_the_hand_off_and_carries_the_deadline(app, clock):
    stages = [
        {"key": "lead", "when": {"fields_known": ["email"]}, "handoff": True},
        {"key": "mql", "when": {"min_score": 10, "fields_known": ["company"]}},
    ]
    config = acme_config(stages=stages)
    config["site"]["followup_hours"] = 24
    make_site(config)
    widget = Widget(app.test_client())
    widget.ask()
    widget.submit({"email": "di@acme-corp.example", "company": "Acme"})
    widget.event("webinar")
    widget.event("webinar")
    assert [(p["to_stage"], p["follow_up_by"]) for p in forwarded()] == [
        ("lead", "2026-03-03T09:00:00Z"),
        ("mql", None),
    ]


def test_overdue_hand_offs_are_listed(app, clock):
    from app.domain.sales import OutcomeInput
    from app.services.insights import list_contacts
    from app.services.sales import record_outcome

    make_site(acme_config(stages=STAGES))
    client = app.test_client()

    def reach_mql(email):
        widget = Widget(client)
        widget.ask()
        widget.submit({"email": email, "company": "Acme"})
        widget.event("webinar")
        widget.event("webinar")
        return widget

    reach_mql("old@acme-corp.example")
    clock.advance(hours=40)
    reach_mql("new@acme-corp.example")
    clock.advance(hours=8, minutes=1)  # the first is 48 h 1 min on mql, the second 8 h 1 min
    listing = list_contacts("acme", "", 1, now=clock(), overdue="sales")
    assert [row.email for row in listing.rows] == ["old@acme-corp.example"]
    assert (listing.total, listing.handoff_stage, listing.followup_hours) == (1, "mql", 48)
    assert list_contacts("acme", "", 1, now=clock()).total == 2
    clock.advance(hours=40)
    assert list_contacts("acme", "", 1, now=clock(), overdue="sales").total == 2
    # A contact sales touched is not overdue any more, even touched late: its clock stopped.
    record_outcome(
        "acme",
        "old@acme-corp.example",
        OutcomeInput("contacted", "rep@acme.example", "call-1", clock()),
        clock(),
    )
    listing = list_contacts("acme", "", 1, now=clock(), overdue="sales")
    assert [row.email for row in listing.rows] == ["new@acme-corp.example"]


def test_a_site_without_a_hand_off_stage_has_no_overdue_contacts(app, clock):
    from app.services.insights import list_contacts

    make_site(acme_config(stages=[{"key": "lead", "when": {"fields_known": ["email"]}}]))
    widget = Widget(app.test_client())
    widget.ask()
    widget.submit({"email": "el@acme-corp.example", "company": "Acme"})
    clock.advance(days=30)
    listing = list_contacts("acme", "", 1, now=clock(), overdue="sales")
    assert (listing.total, listing.handoff_stage) == (0, None)


def test_the_webhook_says_the_rule_and_the_answers_that_made_it_hold_in_words(app, clock):
    """Options by their labels, booleans as Yes/No, a company's value when the contact has
    none (the rules judged it so); a field the rule does not name is left out."""
    rule = {
        "min_score": 3,
        "fields_known": ["email", "company_size"],
        "field_equals": {"decision_maker": True},
    }
    site = make_site(acme_config(stages=[{"key": "sql", "when": rule}]))
    contact = Contact(site_id=site.id, email="ada@acme-corp.example")
    db.session.add(contact)
    db.session.commit()
    known = {
        "email": KnownValue("ada@acme-corp.example", clock()),
        "decision_maker": KnownValue(True, clock()),
        "job_title": KnownValue("CTO", clock()),
    }
    state = ContactState(
        values=known, account_values={"company_size": KnownValue("200+", clock())}, score=4
    )
    assert qualify(site_snapshot("acme"), contact, clock(), state) is not None
    db.session.commit()
    [payload] = forwarded()
    assert (payload["rule_words"], payload["answers"]) == (
        [
            "Engagement score ≥ 3",
            "Known: Work email, Company size",
            "Do you sign off on purchases? is Yes",
        ],
        {
            "email": {
                "label": "Work email",
                "value": "ada@acme-corp.example",
                "text": "ada@acme-corp.example",
            },
            "company_size": {"label": "Company size", "value": "200+", "text": "More than 200"},
            "decision_maker": {
                "label": "Do you sign off on purchases?",
                "value": True,
                "text": "Yes",
            },
        },
    )
