"""`trickle demo` brings people who went through the whole loop: qualified and handed to sales,
with outcomes and one breached SLA, so the queue and the contact pages are not empty. A second
run adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from app.domain.sla import sla_view
from app.extensions import db
from app.models import Contact, Handoff, OutboxEvent, SalesOutcome


def state(now):
    rows = db.session.execute(
        select(Contact.email, Contact.lifecycle_stage, Handoff)
        .join(Handoff, Handoff.contact_id == Contact.id)
        .order_by(Contact.id, Handoff.id)
    ).all()
    return [
        (email, stage, h.team, sla_view(h.due_at, h.touched_at, now).status, h.closed_by)
        for email, stage, h in rows
    ]


def test_the_demo_hands_people_to_sales_with_outcomes_and_one_breach(runner, clock):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].endswith("; 7 demo contacts added")
    assert state(clock()) == [
        ("ada@northwind.example", "mql", "sales", "due", None),
        ("ben@contoso.example", "mql", "sales", "breached", None),
        ("cleo@fabrikam.example", "mql", "sales", "met", None),
        ("dan@tailspin.example", "opportunity", "sales", "met", "accepted"),
        ("eva@litware.example", "mql", "sales", "met", "rejected"),
        ("finn@adatum.example", "nurture", "sales", "met", "recycled"),
        ("finn@adatum.example", "nurture", "marketing", "due", None),
    ]
    engaged = db.session.scalars(
        select(OutboxEvent.payload).where(OutboxEvent.type == "contact.engaged")
    ).all()
    assert [(e["email"], e["by"]["email"]) for e in engaged] == [
        ("ada@northwind.example", "gus@northwind.example")
    ]
    breaches = db.session.scalars(
        select(OutboxEvent.payload).where(OutboxEvent.type == "contact.sla_breached")
    ).all()
    assert [b["email"] for b in breaches] == ["ben@contoso.example"]
    outcomes = db.session.execute(
        select(SalesOutcome.kind, SalesOutcome.reason, SalesOutcome.amount_cents).order_by(
            SalesOutcome.id
        )
    ).all()
    assert [tuple(o) for o in outcomes] == [
        ("contacted", None, None),
        ("accepted", None, None),
        ("opportunity", None, 2_400_000),
        ("rejected", "bad_fit", None),
        ("recycled", "not_ready", None),
    ]

    again = runner.invoke(args=["demo"])
    assert again.output.splitlines()[0].endswith("; 0 demo contacts added")
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 7
    assert db.session.scalar(select(func.count()).select_from(SalesOutcome)) == 5
    assert db.session.scalar(select(func.count()).select_from(Handoff)) == 7
