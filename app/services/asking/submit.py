"""Submit: accept answers for exactly the questions an ask offered, and nothing else."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.domain.answers import ReviewedSubmission, review_submission
from app.domain.identity import normalize_email
from app.domain.interface import localize_message
from app.domain.selection import select_questions
from app.extensions import db
from app.models import VERIFIED, Contact, IdempotentResponse, Skip, Visitor
from app.services.errors import AskExpired, Invalid
from app.services.insights import count_answers
from app.services.people import (
    ContactRows,
    EventInput,
    add_event,
    announce_update,
    qualify,
    read_contact,
    settle_identity,
    stored_visitor,
    write_values,
)
from app.services.privacy import check_shown_text, explain_not_shown, record_answers
from app.services.siteconfig import FormView, SiteSnapshot, site_snapshot
from app.services.tokens import AskGrant, read_ask_token, read_visitor_token, visitor_token
from app.services.transactions import commit_unit


@dataclass(frozen=True)
class SubmitInput:
    visitor: str
    ask_token: str
    answers: dict[str, Any]
    skipped: list[str] = field(default_factory=list)
    idempotency_key: str | None = None
    honeypot: str | None = None


def submit_answers(
    site_key: str, form_key: str, data: SubmitInput, now: datetime
) -> dict[str, Any]:
    """Validate and store one submit; return the response body (replayed for a repeated key).

    A filled honeypot gets the ordinary thank-you and stores nothing.
    """
    arrived = time.monotonic()
    site = site_snapshot(site_key)
    form = site.form(form_key)
    if data.honeypot:
        return {"visitor": data.visitor, "complete": True, "message": form.thank_you}
    visitor_id = read_visitor_token(site.key, data.visitor)
    grant = read_ask_token(data.ask_token, site.key, form.key, visitor_id, now)
    reviewed = review_answers(site, grant, data.answers, data.skipped)
    body, stored = commit_unit(lambda: _store(site, form, grant, reviewed, data, now))
    if stored:  # not the replay of an earlier response
        answered = [site.fields[key].id for key in reviewed.values]
        skipped = [site.fields[key].id for key in reviewed.skipped]
        conditioned = grant.offer.conditions
        revealed = [site.fields[key].id for key in reviewed.shown if key in conditioned]
        count_answers(site, form.key, answered, skipped, now, data.ask_token, revealed)
    if any(site.fields[key].rule.identity for key in reviewed.values):
        hold_until(arrived + current_app.config["IDENTITY_SUBMIT_FLOOR_SECONDS"])
    return body


def hold_until(moment: float) -> None:
    """Answer no sooner than ``moment`` (``time.monotonic``): merging into a known contact takes
    longer than naming a new one, and the response must not tell which happened."""
    left = moment - time.monotonic()
    if left > 0:
        time.sleep(left)


def review_answers(
    site: SiteSnapshot,
    grant: AskGrant,
    answers: dict[str, Any],
    skipped: list[str],
    form: FormView | None = None,
) -> ReviewedSubmission:
    """Answers checked against exactly what ``grant`` offered: Invalid (422) with every
    message by key, in the language of ``form`` (default: the grant's form as saved; the
    preview's draft otherwise), or AskExpired (409) when an offered field has left the config
    since."""
    if any(key not in site.fields for key in grant.offered):
        raise AskExpired("The form changed since these questions were asked; ask again.")
    reviewed = review_submission(
        {key: site.fields[key].rule for key in grant.offered}, grant.offer, answers, skipped
    )
    if reviewed.errors:
        errors = {key: list(messages) for key, messages in reviewed.errors.items()}
        explain_not_shown(site, grant, errors)
        form = form or site.form(grant.form_key)
        for messages in errors.values():
            messages[:] = [localize_message(m, form.strings, form.language) for m in messages]
        raise Invalid("Some answers were not accepted: " + ", ".join(sorted(errors)) + ".", errors)
    check_shown_text(site, grant, reviewed.values)
    return reviewed


def _store(
    site: SiteSnapshot,
    form: FormView,
    grant: AskGrant,
    reviewed: ReviewedSubmission,
    data: SubmitInput,
    now: datetime,
) -> tuple[dict[str, Any], bool]:
    """The response body, and whether this submit was stored (False: a replayed response)."""
    # A first submit stores the visitor its ask was granted to.
    visitor = stored_visitor(site, data.visitor, now)
    if visitor is None:  # a valid ask token for a visitor since erased
        raise AskExpired("This visitor is no longer known; ask again.")
    replay = _stored_response(visitor, data.idempotency_key)
    if replay is not None:
        return replay, False
    values = dict(reviewed.values)
    contact, merged_keys = _identify(site, visitor, values, now)
    # The contact's rows, read once: the writes below keep them current, and the webhook
    # payload, the stage rules and the browser's next questions all derive from them.
    rows = read_contact(site, contact)
    written = write_values(site, contact, visitor, form.key, values, now, rows)
    in_force = written.applied - written.confirmed
    record_answers(site, contact, visitor, form.key, values, in_force, now)
    # One form_submit per ask: a replayed ask token adds no engagement.
    submit_id = "submit:" + hashlib.sha256(data.ask_token.encode()).hexdigest()[:40]
    add_event(
        site,
        visitor,
        EventInput("form_submit", stage=grant.page_stage or form.stage, external_id=submit_id),
        now,
        rows,
    )
    # After the form's own event: a skip waits for events that come after it.
    _record_skips(site, rows, visitor, form.key, reviewed.skipped, now)
    changed = [*merged_keys, *(k for k in written.changed if k not in merged_keys)]
    announce_update(site, contact, changed, now, rows)
    state = rows.state(now)
    qualify(site, contact, now, state)
    # What the browser is told depends only on what it is entitled to see (its own answers
    # while its link is claimed): a known and an unknown email get the same answer.
    seen = state if visitor.trust == VERIFIED else rows.state(now, visitor)
    selection = select_questions(form.rules, seen, now)
    # The token of the stored visitor (the one sent, unless this submit stored it).
    token = visitor_token(site.key, visitor.public_id)
    body = {"visitor": token, "complete": selection.complete, "message": form.thank_you}
    if data.idempotency_key is not None:
        db.session.add(
            IdempotentResponse(
                visitor_id=visitor.id,
                key=data.idempotency_key,
                status=200,
                body=body,
                created_at=now,
            )
        )
    return body, True


def _stored_response(visitor: Visitor, key: str | None) -> dict[str, Any] | None:
    if key is None:
        return None
    return db.session.scalar(
        select(IdempotentResponse.body).where(
            IdempotentResponse.visitor_id == visitor.id, IdempotentResponse.key == key
        )
    )


def _identify(
    site: SiteSnapshot, visitor: Visitor, values: dict[str, Any], now: datetime
) -> tuple[Contact, list[str]]:
    """Settle who answers; the identity value is stored normalised, as it is compared."""
    email_key = next((k for k in values if site.fields[k].rule.identity), None)
    if email_key is None:
        return visitor.contact, []
    values[email_key] = normalize_email(values[email_key])
    return settle_identity(site, visitor, values[email_key], now)


def _record_skips(
    site: SiteSnapshot,
    rows: ContactRows,
    visitor: Visitor,
    form_key: str,
    keys: tuple[str, ...],
    now: datetime,
) -> None:
    """Each browser's skips are its own (a claimed browser's questions depend on them only).
    The contact's skips are those ``rows`` holds (read with them); new ones join them."""
    field_ids = {site.fields[key].id for key in keys}
    existing = {
        skip.field_id: skip
        for skip in rows.skips or ()
        if skip.visitor_id == visitor.id and skip.field_id in field_ids
    }
    for field_id in field_ids:
        skip = existing.get(field_id)
        if skip is None:
            skip = Skip(contact_id=rows.contact.id, field_id=field_id, visitor_id=visitor.id)
            db.session.add(skip)
            rows.add_skip(skip)
        skip.form_key, skip.skipped_at = form_key, now
        skip.seq_at, skip.own_seq_at = rows.contact.tally_seq, visitor.tally_seq
