"""Recording a sales outcome on a contact: one unit that validates it against the site's
``sales_outcomes`` config, keeps it once per idempotency key, moves the contact's stage by the
config (forward; ``recycled`` back to nurture) and forwards ``contact.outcome_recorded``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.domain.identity import normalize_email
from app.domain.sales import OutcomeInput, outcome_problems, outcome_stage
from app.domain.specs import is_storable_text, iso
from app.domain.wording import amount_text
from app.extensions import db
from app.models import Contact, SalesOutcome
from app.services.errors import Invalid, NotFound
from app.services.outbox import record_outbox
from app.services.people import load_contact_state, record_stage_move, site_contact
from app.services.sales.sla import note_outcome
from app.services.siteconfig import SiteSnapshot, site_snapshot
from app.services.transactions import commit_unit

ContactRef = int | str  # a contact's id, or its email


def record_outcome(
    site_key: str, contact: ContactRef, data: OutcomeInput, now: datetime
) -> dict[str, Any]:
    """Record ``data`` on the contact ``contact`` names (id or email) and return it as JSON-ready
    data. NotFound for an unknown contact (another site's too); Invalid, naming each field, for
    an outcome the rules refuse. The same idempotency key again gets the first answer back and
    records nothing."""
    site = site_snapshot(site_key)

    def work() -> dict[str, Any]:
        person = _find_contact(site, contact)
        kept = db.session.scalar(
            select(SalesOutcome).where(
                SalesOutcome.site_id == site.id,
                SalesOutcome.idempotency_key == data.idempotency_key,
            )
        )
        if kept is not None:  # a replay: judged when it was first sent
            return outcome_view(kept)
        problems = outcome_problems(data, site.sales_outcomes, now)
        if problems:
            raise Invalid("Invalid outcome: " + ", ".join(sorted(problems)) + ".", problems)
        return outcome_view(_record(site, person, data, now))

    return commit_unit(work)


def _find_contact(site: SiteSnapshot, ref: ContactRef) -> Contact:
    """The contact, its row locked (outcomes of one contact are recorded one at a time)."""
    if isinstance(ref, int):
        return site_contact(site, ref, lock=True)
    email = normalize_email(ref)
    found = None
    if is_storable_text(email):
        query = select(Contact).where(Contact.site_id == site.id, Contact.email == email)
        found = db.session.scalar(query.with_for_update())
    if found is None:
        raise NotFound(f'No contact with that email on site "{site.key}".')
    return found


def _record(
    site: SiteSnapshot, contact: Contact, data: OutcomeInput, now: datetime
) -> SalesOutcome:
    latest = db.session.scalar(
        select(func.max(SalesOutcome.occurred_at)).where(SalesOutcome.contact_id == contact.id)
    )
    in_order = latest is None or data.occurred_at >= latest
    stage_keys = [stage.key for stage in site.stages]
    current = contact.lifecycle_stage
    target = outcome_stage(data.kind, site.sales_outcomes, stage_keys, current, in_order)
    row = SalesOutcome(
        site_id=site.id,
        contact_id=contact.id,
        kind=data.kind,
        reason=data.reason,
        note=data.note,
        external_id=data.external_id,
        amount_cents=None if data.amount is None else int(data.amount * 100),
        currency=data.currency,
        by=data.by,
        idempotency_key=data.idempotency_key,
        occurred_at=data.occurred_at,
        recorded_at=now,
        from_stage=current if target else None,
        to_stage=target,
    )
    db.session.add(row)
    db.session.flush()  # the id, for the webhook
    view = outcome_view(row)
    record_outbox(
        site.id,
        "contact.outcome_recorded",
        contact.id,
        {"email": contact.email, **view},
        now,
    )
    if target is not None:
        rule: dict[str, Any] = {"outcome": data.kind, "outcome_id": row.id}
        if data.kind == "recycled":
            rule["reason"] = data.reason
        contact.requalify_score = _requalify_score(site, contact, data.kind, now)
        record_stage_move(site, contact, current, target, rule, now)
    note_outcome(site, contact, row, in_order, now)
    return row


def _requalify_score(
    site: SiteSnapshot, contact: Contact, kind: str, now: datetime
) -> float | None:
    """For a recycle with ``requalify_after``: the score the contact must reach before the
    stage rules move it on again (its score now plus ``min_new_score``). Any other move by an
    outcome lifts the hold: sales took the contact back."""
    requalify = (site.sales_outcomes or {}).get("requalify_after")
    if kind != "recycled" or not requalify:
        return None
    return load_contact_state(site, contact, now).score + requalify["min_new_score"]


def outcome_view(row: SalesOutcome) -> dict[str, Any]:
    """An outcome as the API answers it and the webhook carries it."""
    return {
        "id": row.id,
        "contact_id": row.contact_id,
        "kind": row.kind,
        "reason": row.reason,
        "note": row.note,
        "external_id": row.external_id,
        "amount": _amount(row.amount_cents),
        "currency": row.currency,
        "by": row.by,
        "occurred_at": iso(row.occurred_at),
        "recorded_at": iso(row.recorded_at),
        "stage": None if row.to_stage is None else {"from": row.from_stage, "to": row.to_stage},
    }


def _amount(cents: int | None) -> str | None:
    """Hundredths as the decimal string the API answers: 120050 is "1200.50"."""
    return None if cents is None else amount_text(cents)
