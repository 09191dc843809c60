"""The demo's people: a handful of visitors who answered the demo forms and engaged, were handed
to sales, and got the outcomes a real week brings (one waiting, one breached, one contacted,
one accepted with an opportunity, one rejected, one recycled; and a colleague of the waiting
one whose demo request is hot activity on her account), so the console's queue, brief,
contact pages and hand-off SLA have something to show on first run.

Everything goes through the same services a browser and the CRM use (ask, submit, events,
outcomes), at times in the recent past. Loading again adds nothing: a person already on the
site is left as they are, and outcomes carry idempotency keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app.domain.sales import OutcomeInput
from app.extensions import db
from app.models import Contact, Site
from app.services.asking import SubmitInput, ask_questions, submit_answers
from app.services.people import EventInput, record_engagement
from app.services.sales import breach_overdue_handoffs, record_outcome

FORM = "pricing"
REP = "sales@demo.example"


@dataclass(frozen=True)
class Person:
    answers: dict[str, Any]
    visited_hours_ago: float  # when they came, answered and qualified
    events: tuple[str, ...] = ("webinar", "webinar", "demo_request")
    # (kind, hours ago, extra) outcomes sales reported, oldest first
    outcomes: tuple[tuple[str, float, dict[str, Any]], ...] = ()


def _person(email: str, first: str, company: str, title: str, **more: Any) -> dict[str, Any]:
    return {
        "email": email,
        "first_name": first,
        "company": company,
        "zip": "10115",
        "company_size": "51-200",
        "industry": "Software & SaaS",
        "job_title": title,
        "decision_maker": False,
        "timeline": "quarter",
        **more,
    }


PEOPLE: tuple[Person, ...] = (
    # Handed off three hours ago: waiting on the queue, due in 45 hours.
    Person(_person("ada@northwind.example", "Ada", "Northwind", "Head of Growth"), 3),
    # Handed off 50 hours ago and never touched: the breached SLA.
    Person(
        _person("ben@contoso.example", "Ben", "Contoso", "Marketing Ops Lead", timeline="now"),
        50,
    ),
    # Contacted within the window, no decision yet.
    Person(
        _person("cleo@fabrikam.example", "Cleo", "Fabrikam", "CRM Manager"),
        30,
        outcomes=(("contacted", 20, {"note": "Left a voicemail; she asked for a call Friday."}),),
    ),
    # Accepted, then an opportunity was opened in the CRM.
    Person(
        _person(
            "dan@tailspin.example",
            "Dan",
            "Tailspin Toys",
            "VP Marketing",
            company_size="201-1000",
            timeline="now",
        ),
        120,
        outcomes=(
            ("accepted", 100, {"note": "Budget confirmed on the call."}),
            ("opportunity", 48, {"external_id": "OPP-1042", "amount": "24000", "currency": "EUR"}),
        ),
    ),
    # Rejected: not a fit.
    Person(
        _person("eva@litware.example", "Eva", "Litware", "Student", company_size="1-10"),
        96,
        outcomes=(("rejected", 90, {"reason": "bad_fit", "note": "Researching for a thesis."}),),
    ),
    # Ada's colleague asked for a demo an hour ago: hot activity on Ada's account (the queue
    # marks her). Not handed off himself: no job title given, so not an mql.
    Person(
        {"email": "gus@northwind.example", "first_name": "Gus", "company": "Northwind"},
        1,
        events=("demo_request",),
    ),
    # Recycled to nurture: not ready this year; marketing owe a touch within 14 days.
    Person(
        _person("finn@adatum.example", "Finn", "Adatum", "Growth Marketer", timeline="year"),
        240,
        outcomes=(("recycled", 230, {"reason": "not_ready", "note": "Revisit in Q3."}),),
    ),
)


def load_demo_people(site_key: str, now: datetime) -> int:
    """Add the demo's people to ``site_key`` (those not there yet); returns how many were
    added. Then mark the hand-offs already past due as breached, as the worker would."""
    site_id = db.session.scalar(select(Site.id).where(Site.key == site_key))
    known = set(db.session.scalars(select(Contact.email).where(Contact.site_id == site_id)))
    added = 0
    for number, person in enumerate(PEOPLE):
        if person.answers["email"] in known:
            continue
        _visit(site_key, number, person, now - timedelta(hours=person.visited_hours_ago))
        _report(site_key, person, now)
        added += 1
    breach_overdue_handoffs(now)
    return added


def _visit(site_key: str, number: int, person: Person, at: datetime) -> None:
    """Answer what the pricing form asks (it asks more as engagement grows) around the
    person's events, a minute apart."""
    token = _answer(site_key, None, person, at)
    for step, kind in enumerate(person.events, start=1):
        moment = at + timedelta(minutes=step)
        event = EventInput(kind, external_id=f"demo-{number}-{step}")
        token = record_engagement(site_key, token, event, moment)
    for step in range(3):  # ask until nothing is left that this person would answer
        token = _answer(site_key, token, person, at + timedelta(minutes=10 + step))


def _answer(site_key: str, token: str | None, person: Person, at: datetime) -> str:
    asked = ask_questions(site_key, FORM, token, "late", at)
    keys = [question.rule.key for question in asked.questions]
    answers = {key: person.answers[key] for key in keys if key in person.answers}
    if not answers:
        return asked.visitor
    body = submit_answers(site_key, FORM, SubmitInput(asked.visitor, asked.ask_token, answers), at)
    return body["visitor"]


def _report(site_key: str, person: Person, now: datetime) -> None:
    email = person.answers["email"]
    for kind, hours_ago, extra in person.outcomes:
        details = dict(extra)
        if "amount" in details:
            details["amount"] = Decimal(details["amount"])
        data = OutcomeInput(
            kind=kind,
            by=REP,
            idempotency_key=f"demo-{email}-{kind}",
            occurred_at=now - timedelta(hours=hours_ago),
            **details,
        )
        record_outcome(site_key, email, data, now - timedelta(hours=hours_ago))
