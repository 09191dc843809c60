"""A small known history for the funnel report's tests (tests/insights/test_funnel*.py).

The clock stands at Monday 2026-03-02 09:00 UTC; "last 7 days" is 2026-02-24 to 2026-03-02,
two weeks (Mondays 2026-02-23 and 2026-03-02). Corp has two contacts: Ada (no answer of her
own) wins a deal that Bob's answer, given before the opportunity, influenced.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import (
    BROWSER,
    MARKETING_TEAM,
    Account,
    AccountValue,
    Contact,
    Field,
    Handoff,
    ProfileValue,
    SalesOutcome,
    Site,
    StageChange,
    Submission,
)
from tests.factories import make_site
from tests.sales.support import add_handoff, sales_config

MQL_RULE = {"stage": "mql", "when": {"min_score": 10}}


def funnel_config(decision_label: str = "Decision maker?") -> dict[str, Any]:
    """The sales tests' stages and outcomes, two forms, and two fields worth predicting from."""
    fields = [
        {"key": "email", "label": "Work email", "kind": "email", "tier": "basics",
         "identity": True, "required": True},
        {"key": "company_size", "label": "Company size", "kind": "select", "tier": "basics",
         "scope": "account", "options": ["1-10", "11-50", {"value": "200+", "label": "200 or more"}]},
        {"key": "decision_maker", "label": decision_label, "kind": "boolean", "tier": "basics"},
    ]  # fmt: skip
    forms = [{"key": "blog", "title": "Blog"}, {"key": "demo", "title": "Demo"}]
    return sales_config(fields=fields, forms=forms)


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A time in late February (``day`` ≤ 28) or, for ``day`` 29 and up, early March 2026."""
    month, day = (2, day) if day <= 28 else (3, day - 28)
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


class History:
    """Writes the rows stage moves, outcomes and answers would leave."""

    def __init__(self, config: dict[str, Any]) -> None:
        make_site(config)
        self.site = db.session.scalar(select(Site.id).where(Site.key == "acme"))
        self.fields = {
            f.key: f.id for f in db.session.scalars(select(Field).where(Field.site_id == self.site))
        }
        self.outcomes = 0

    def contact(self, email: str, created: datetime, account: int | None = None) -> int:
        contact = Contact(site_id=self.site, email=email, created_at=created, account_id=account)
        db.session.add(contact)
        db.session.commit()
        return contact.id

    def account(self, domain: str) -> int:
        account = Account(site_id=self.site, domain=domain)
        db.session.add(account)
        db.session.commit()
        return account.id

    def move(self, contact: int, to: str, when: datetime, rule: dict | None = None) -> None:
        db.session.add(
            StageChange(
                site_id=self.site, contact_id=contact, to_stage=to, rule=rule, changed_at=when
            )
        )
        db.session.commit()

    def outcome(self, contact: int, kind: str, when: datetime, **extra: Any) -> int:
        self.outcomes += 1
        row = SalesOutcome(
            site_id=self.site,
            contact_id=contact,
            kind=kind,
            by="rep@acme.example",
            idempotency_key=f"k{self.outcomes}",
            occurred_at=when,
            recorded_at=when,
            **extra,
        )
        db.session.add(row)
        db.session.commit()
        return row.id

    def answer(self, contact: int, form: str, key: str, value: Any, when: datetime) -> None:
        field_id = self.fields[key]
        db.session.add(
            Submission(
                site_id=self.site,
                contact_id=contact,
                field_id=field_id,
                form_key=form,
                value=value,
                created_at=when,
                source=BROWSER,
            )
        )
        db.session.add(ProfileValue(contact_id=contact, field_id=field_id, value=value))
        db.session.commit()

    def account_value(self, account: int, key: str, value: Any) -> None:
        db.session.add(AccountValue(account_id=account, field_id=self.fields[key], value=value))
        db.session.commit()


def known_history(config: dict[str, Any] | None = None) -> History:
    """Five contacts; see each block's comment."""
    h = History(config or funnel_config())
    corp = h.account("corp.example")
    h.account_value(corp, "company_size", "11-50")
    # Ada: no answer of her own; MQL, touched in 6 hours, accepted, opportunity, won.
    ada = h.contact("ada@corp.example", at(24, 6), corp)
    h.move(ada, "lead", at(24, 10), {"stage": "lead", "when": {"fields_known": ["email"]}})
    h.move(ada, "mql", at(25, 10), {**MQL_RULE, "score": 12})
    add_handoff(ada, at(25, 10), at(27, 10), touched_at=at(25, 16), touched_by="rep")
    accepted = h.outcome(ada, "accepted", at(26, 10))
    h.move(ada, "sal", at(26, 10), {"outcome": "accepted", "outcome_id": accepted})
    h.outcome(ada, "opportunity", at(27, 10), external_id="opp-1")
    h.outcome(ada, "won", at(29, 10), external_id="opp-1", amount_cents=120050, currency="EUR")
    # Bob, her colleague: answered the blog form; MQL, never touched (breached), rejected.
    bob = h.contact("bob@corp.example", at(24, 12), corp)
    h.answer(bob, "blog", "decision_maker", True, at(24, 12))
    h.move(bob, "lead", at(24, 18))
    h.move(bob, "mql", at(26, 18), {**MQL_RULE, "score": 11})
    handoff = add_handoff(bob, at(26, 18), at(28, 18))
    _breach(handoff, at(28, 18))
    h.outcome(bob, "rejected", at(30, 7), reason="bad_fit")
    # Cy, this week: a lead from nowhere who won a small deal (no answer: not influenced).
    cy = h.contact("cy@else.example", at(30, 8))
    h.move(cy, "lead", at(30, 8, 30))
    h.outcome(cy, "won", at(30, 8, 50), amount_cents=5000, currency="USD")
    # Dee: answered the demo form; MQL at once, touched late (72 h), recycled to marketing,
    # who touched her within a day.
    dee = h.contact("dee@else.example", at(24, 9))
    h.answer(dee, "demo", "decision_maker", False, at(24, 9))
    h.move(dee, "lead", at(24, 9))
    h.move(dee, "mql", at(24, 9), {**MQL_RULE, "score": 15})
    handoff = add_handoff(dee, at(24, 9), at(26, 9), touched_at=at(27, 9), touched_by="rep")
    _breach(handoff, at(26, 9))
    h.outcome(dee, "recycled", at(27, 9), reason="not_ready")
    add_handoff(dee, at(27, 9), at(34, 9), touched_at=at(28, 9), team=MARKETING_TEAM)
    # Erin, from before the period: her old hand-off is not counted; her outcomes this period are.
    erin = h.contact("erin@else.example", at(10, 9))
    h.answer(erin, "blog", "decision_maker", True, at(10, 9))
    add_handoff(erin, at(10, 9), at(12, 9))
    h.outcome(erin, "rejected", at(24, 11))
    h.outcome(erin, "lost", at(25, 11), reason="competitor")
    return h


def _breach(handoff_id: int, when: datetime) -> None:
    db.session.get(Handoff, handoff_id).breached_at = when
    db.session.commit()
