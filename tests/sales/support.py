"""A site whose stages and sales_outcomes section the sales tests share, and its helpers."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import SALES_TEAM, Contact, Handoff, OutboxEvent, Site, StageChange
from app.services.accounts import create_token
from tests.factories import Widget, acme_config, make_site

NEVER = {"min_score": 1_000_000}  # stages only sales outcomes move a contact to
STAGES = [
    {"key": "lead", "when": {"fields_known": ["email"]}},
    {"key": "nurture", "when": NEVER},
    {"key": "mql", "when": {"min_score": 10}, "handoff": True},
    {"key": "sal", "when": NEVER},
    {"key": "opportunity", "when": NEVER},
    {"key": "customer", "when": NEVER},
]
SALES = {
    "rejection_reasons": ["bad_fit", "no_budget", "not_ready"],
    "loss_reasons": ["price", "competitor"],
    "stages": {"accepted": "sal", "opportunity": "opportunity", "won": "customer"},
    "recycle_to": "nurture",
    "requalify_after": {"min_new_score": 15},
}


def sales_config(**overrides: Any) -> dict[str, Any]:
    return acme_config(**{"stages": STAGES, "sales_outcomes": SALES, **overrides})


def add_contact(site_key: str, email: str | None, stage: str | None = "mql") -> int:
    site_id = db.session.scalar(select(Site.id).where(Site.key == site_key))
    contact = Contact(site_id=site_id, email=email, lifecycle_stage=stage)
    db.session.add(contact)
    db.session.commit()
    return contact.id


def sales_site(now: datetime, config: dict[str, Any] | None = None) -> str:
    """Acme with the sales config; returns an admin token of it."""
    make_site(config or sales_config())
    return create_token("acme", "admin", "CRM", now=now)[1]


def stage_of(contact_id: int) -> str | None:
    db.session.expire_all()
    return db.session.get(Contact, contact_id).lifecycle_stage


def moves() -> list[tuple[str | None, str, dict | None]]:
    rows = db.session.scalars(select(StageChange).order_by(StageChange.id))
    return [(c.from_stage, c.to_stage, c.rule) for c in rows]


def outbox() -> list[tuple[str, dict]]:
    return [(e.type, e.payload) for e in db.session.scalars(select(OutboxEvent).order_by("id"))]


def add_handoff(
    contact_id: int,
    started_at: datetime,
    due_at: datetime | None = None,
    *,
    touched_at: datetime | None = None,
    touched_by: str | None = None,
    touch_kind: str | None = None,
    team: str = SALES_TEAM,
    closed_at: datetime | None = None,
    stage: str | None = "mql",
) -> int:
    """A hand-off row as the stage moves and outcomes would leave it (the queue only reads
    them)."""
    contact = db.session.get(Contact, contact_id)
    handoff = Handoff(
        site_id=contact.site_id,
        contact_id=contact_id,
        team=team,
        stage=stage,
        started_at=started_at,
        due_at=due_at,
        touched_at=touched_at,
        touched_by=touched_by,
        touch_kind=touch_kind,
        closed_at=closed_at,
        closed_by="accepted" if closed_at else None,
    )
    db.session.add(handoff)
    db.session.commit()
    return handoff.id


def stricter(min_score: int) -> dict:
    """The sales config with the mql rule asking for ``min_score``."""
    config = sales_config()
    config["stages"] = copy.deepcopy(STAGES)
    config["stages"][2]["when"] = {"min_score": min_score}
    return config


def engage(client, email: str, webinars: int) -> Widget:
    widget = Widget(client)
    widget.ask()
    assert widget.submit({"email": email}).status_code == 200  # 2 points
    for _ in range(webinars):
        widget.event("webinar")  # 5 points each
    return widget
