"""Hand-offs with a service level: opened when a contact reaches the hand-off stage by the
rules (sales owe it a first touch within ``followup_hours``), or when sales recycle it back to
marketing (marketing owe it a touch within ``recycle_followup_days``).

A contact has at most one open hand-off: opening one closes the one before. Touches and the
closes by sales outcomes are the sales package's (``sales.sla``); this module only opens them,
in the caller's unit, so the stage move and its hand-off are one fact.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from app.extensions import db
from app.models import SALES_TEAM, Contact, Handoff
from app.services.siteconfig import SiteSnapshot


def crosses_handoff(site: SiteSnapshot, from_stage: str | None, to_stage: str) -> bool:
    """True when a move from ``from_stage`` to ``to_stage`` reaches the site's hand-off stage
    or passes it from before it: the moment sales take over."""
    keys = [stage.key for stage in site.stages]
    if site.handoff_stage is None or to_stage not in keys:
        return False
    at = keys.index(site.handoff_stage)
    was = keys.index(from_stage) if from_stage in keys else -1
    return was < at <= keys.index(to_stage)


def open_handoff(
    site: SiteSnapshot,
    contact: Contact,
    team: str,
    stage: str | None,
    started_at: datetime,
    window: timedelta | None,
    *,
    may_hold_one: bool = True,
) -> Handoff:
    """Open a hand-off of ``contact`` to ``team`` at ``started_at``, due ``window`` later (no
    window: None), closing the contact's open one (``requalified`` when a recycled contact comes
    back to sales, else ``handed_off``).

    Only a recycled contact can hold an open hand-off when it reaches the hand-off stage again
    (the stages move back only by a recycle, to ``recycle_to``): for any other move to sales
    there is nothing to close, and the statement is spared (``may_hold_one`` False)."""
    if may_hold_one:
        db.session.execute(
            update(Handoff)
            .where(Handoff.contact_id == contact.id, Handoff.closed_at.is_(None))
            .values(
                closed_at=started_at,
                closed_by="requalified" if team == SALES_TEAM else "handed_off",
            ),
            execution_options={"synchronize_session": False},
        )
    handoff = Handoff(
        site_id=site.id,
        contact_id=contact.id,
        team=team,
        stage=stage,
        started_at=started_at,
        due_at=None if window is None else started_at + window,
    )
    db.session.add(handoff)
    return handoff


def sales_window(site: SiteSnapshot) -> timedelta | None:
    """How long sales have for a first touch: ``followup_hours`` (None for a window of 0)."""
    return timedelta(hours=site.followup_hours) if site.followup_hours > 0 else None


def marketing_window(site: SiteSnapshot) -> timedelta | None:
    """How long marketing have to touch a recycled contact: ``recycle_followup_days``."""
    days = (site.sales_outcomes or {}).get("recycle_followup_days")
    return timedelta(days=days) if days else None
