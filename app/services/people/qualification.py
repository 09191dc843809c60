"""Moving contacts forward through the site's lifecycle stages, after every submit and event.

The move, its record and its webhook commit with the change that earned them (the caller's
transaction): "MQL at T" is one fact in the console, the export and the CRM.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.qualification import StageMove, next_stage
from app.domain.specs import ContactState, iso, iso_or_none
from app.domain.wording import rule_answers, rule_words
from app.extensions import db
from app.models import Contact, StageChange
from app.services.outbox import record_outbox
from app.services.people.handoffs import SALES_TEAM, crosses_handoff, open_handoff, sales_window
from app.services.people.state import load_contact_state
from app.services.siteconfig import SiteSnapshot


def qualify(
    site: SiteSnapshot, contact: Contact, now: datetime, state: ContactState | None = None
) -> StageMove | None:
    """Move ``contact`` to the furthest stage whose rule holds, if that is forward; record the
    move with its rule and forward ``contact.stage_changed``. None when nothing moves, and while
    a contact sales recycled has not reached its ``requalify_score``."""
    if not site.stages:
        return None
    state = state or load_contact_state(site, contact, now)
    if contact.requalify_score is not None:
        if state.score < contact.requalify_score:
            return None  # recycled by sales: held until the new engagement is there
        contact.requalify_score = None
    move = next_stage(site.stages, contact.lifecycle_stage, state)
    if move is None:
        return None
    rule = move.rule.as_config()
    record_stage_move(site, contact, move.from_stage, move.to_stage, rule, now, state)
    if crosses_handoff(site, move.from_stage, move.to_stage):
        recycled = move.from_stage is not None and move.from_stage == _recycle_to(site)
        window = sales_window(site)
        open_handoff(site, contact, SALES_TEAM, move.to_stage, now, window, may_hold_one=recycled)
    return move


def record_stage_move(
    site: SiteSnapshot,
    contact: Contact,
    from_stage: str | None,
    to_stage: str,
    rule: dict[str, Any],
    now: datetime,
    state: ContactState | None = None,
) -> None:
    """Put ``contact`` on ``to_stage``, record the move with what caused it (``rule``: the stage
    rule, or the sales outcome) and forward ``contact.stage_changed``, in the caller's unit.

    The webhook says the rule in words too (``rule_words``, as the sales brief shows it) and,
    from ``state`` (what the rules judged), the answers of the fields the rule names; a move by
    a sales outcome has none."""
    contact.lifecycle_stage = to_stage
    db.session.add(
        StageChange(
            site_id=site.id,
            contact_id=contact.id,
            from_stage=from_stage,
            to_stage=to_stage,
            rule=rule,
            changed_at=now,
        )
    )
    labels, options = site.field_labels, site.field_options
    payload = {
        "contact_id": contact.id,
        "email": contact.email,
        "from_stage": from_stage,
        "to_stage": to_stage,
        "rule": rule,
        "changed_at": iso(now),
        "follow_up_by": iso_or_none(follow_up_by(site, to_stage, now)),
        "rule_words": list(rule_words(rule, labels, options)),
        "answers": rule_answers(rule, state, labels, options) if state else {},
    }
    record_outbox(site.id, "contact.stage_changed", contact.id, payload, now)


def follow_up_by(site: SiteSnapshot, stage: str, reached_at: datetime) -> datetime | None:
    """When sales must have followed up a contact that reached ``stage`` at ``reached_at``:
    ``followup_hours`` later for the hand-off stage (None for others, or a window of 0)."""
    window = sales_window(site)
    if stage != site.handoff_stage or window is None:
        return None
    return reached_at + window


def _recycle_to(site: SiteSnapshot) -> str | None:
    """The stage sales recycle contacts back to (``sales_outcomes.recycle_to``), if any."""
    return (site.sales_outcomes or {}).get("recycle_to")
