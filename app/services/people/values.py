"""Writing values by trust: what a browser's answer may change, and what only it will see.

A browser that merely *claimed* an email (typed it) fills blanks and replaces what it gave
itself; anything else it says is kept in the history as a claim (``applied`` false), shown in the
console and re-applied should the browser later prove who it is. A *verified* browser, an import
and the token API replace values, newest wins. A field's ``overwrite: claimed`` lets claims
replace too. Account values spare colleagues only once trusted (docs/architecture.md, "Trust").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select

from app.domain.specs import is_blank
from app.extensions import db
from app.models import (
    BROWSER,
    VERIFIED,
    AccountValue,
    Contact,
    ProfileValue,
    Submission,
    Visitor,
)
from app.services.people.contacts import account_values, contact_values, newest_consent_record
from app.services.people.state import ContactRows
from app.services.siteconfig import SiteSnapshot


@dataclass
class Written:
    """What a write did: keys whose current value changed, and keys whose answer was applied
    (became the current value, changed or not); the rest were kept as claims."""

    changed: list[str] = field(default_factory=list)
    applied: set[str] = field(default_factory=set)
    # Applied because they said what was held: the holder's provenance (and consent record)
    # stays the one in force.
    confirmed: set[str] = field(default_factory=set)


class Given(NamedTuple):
    """Who gave a value, as its history row keeps it."""

    form_key: str
    visitor_id: int | None
    source: str
    verified: bool
    applied: bool = True


def _keep_history(
    contact: Contact, field_id: int, value: Any, previous: Any, now: datetime, given: Given
) -> None:
    """The history row of one value given for ``contact`` (its provenance, what it replaced)."""
    db.session.add(
        Submission(
            site_id=contact.site_id,
            contact_id=contact.id,
            field_id=field_id,
            value=value,
            previous_value=previous,
            created_at=now,
            **given._asdict(),
        )
    )


def may_replace(site: SiteSnapshot, key: str, row: ProfileValue | None, visitor: Visitor) -> bool:
    """Whether ``visitor``'s answer for ``key`` may become the value ``row`` holds now."""
    if row is None or is_blank(row.value) or visitor.trust == VERIFIED:
        return True
    if site.fields[key].rule.overwrite == "claimed":
        return True
    return row.source == BROWSER and row.visitor_id == visitor.id


def write_values(
    site: SiteSnapshot,
    contact: Contact,
    visitor: Visitor,
    form_key: str,
    values: dict[str, Any],
    now: datetime,
    rows: ContactRows | None = None,
) -> Written:
    """Store a browser's accepted answers with their provenance, by the browser's trust.

    Every answer becomes a history row (carrying the value it replaced, or ``applied`` false
    for a claim that replaced nothing). An account-scope answer is offered to the account.
    ``rows``: the contact's rows as the caller holds them (read here otherwise); the values
    written, and the account values offered, are kept current in them.
    """
    if rows is None:
        current, shared = contact_values(site, contact.id), account_values(site, contact.account_id)
    else:
        current, shared = rows.values, rows.account
    verified = visitor.trust == VERIFIED
    written = Written()
    for key, value in values.items():
        view = site.fields[key]
        row = current.get(key)
        previous = row.value if row is not None else None
        applied = may_replace(site, key, row, visitor)
        if not applied and previous == value:
            applied = True  # it says what is held: a confirmation, the provenance stays
            written.applied.add(key)
            written.confirmed.add(key)
        elif applied:
            if row is None:
                row = current[key] = ProfileValue(contact_id=contact.id, field_id=view.id)
                db.session.add(row)
            row.value, row.updated_at, row.form_key, row.visitor_id = (
                value,
                now,
                form_key,
                visitor.id,
            )
            row.source, row.verified = BROWSER, verified
            written.applied.add(key)
            if previous != value:
                written.changed.append(key)
        given = Given(form_key, visitor.id, BROWSER, verified, applied)
        _keep_history(contact, view.id, value, previous, now, given)
        if view.rule.scope == "account" and contact.account_id is not None and applied:
            offer_account_value(site, shared, contact, key, row, now)
    if values:
        contact.updated_at = now
    return written


def offer_account_value(
    site: SiteSnapshot,
    shared: dict[str, AccountValue],
    contact: Contact,
    key: str,
    given: ProfileValue,
    now: datetime,
) -> None:
    """Offer the contact's value ``given`` of an account-scope field to its account.

    A verified value replaces the account's (newest wins). A claimed one replaces only another
    untrusted candidate, and becomes trusted when a second contact of the account holds the same
    answer; a trusted value is never replaced by a claim.
    """
    row = shared.get(key)
    if row is not None and row.trusted and not given.verified:
        return
    trusted = given.verified or _agreed_by_two(site, contact.account_id, key, given.value)
    if row is None:
        row = shared[key] = AccountValue(account_id=contact.account_id, field_id=given.field_id)
        db.session.add(row)
    row.value, row.updated_at, row.contact_id = given.value, now, contact.id
    row.form_key, row.trusted = given.form_key, trusted


def _agreed_by_two(site: SiteSnapshot, account_id: int | None, key: str, value: Any) -> bool:
    """Two distinct contacts of the account hold ``value`` for ``key`` (pending rows included)."""
    db.session.flush()
    holders = db.session.execute(
        select(ProfileValue.contact_id, ProfileValue.value)
        .join(Contact, Contact.id == ProfileValue.contact_id)
        .where(Contact.account_id == account_id, ProfileValue.field_id == site.fields[key].id)
    )
    return len({row.contact_id for row in holders if row.value == value}) >= 2


def share_account_values(site: SiteSnapshot, contact: Contact) -> None:
    """After a contact joins an account (or merges), offer the account the values of its
    account-scope fields that the account does not hold as trusted yet."""
    if contact.account_id is None:
        return
    shared = account_values(site, contact.account_id)
    for key, row in contact_values(site, contact.id).items():
        held = shared.get(key)
        if site.fields[key].rule.scope != "account" or is_blank(row.value):
            continue
        if held is None or not held.trusted:
            offer_account_value(site, shared, contact, key, row, row.updated_at)


def reapply_claims(site: SiteSnapshot, contact: Contact, visitor: Visitor) -> list[str]:
    """The browser ``visitor`` has just been verified for ``contact``: each field's newest
    answer it gave becomes the value where it is newer than the current one (or fills a blank),
    and the values it gave become verified. Returns the keys whose value changed."""
    current = contact_values(site, contact.id)
    shared = account_values(site, contact.account_id)
    newest: dict[str, Submission] = {}
    answers = db.session.scalars(
        select(Submission)
        .where(Submission.contact_id == contact.id, Submission.visitor_id == visitor.id)
        .order_by(Submission.created_at, Submission.id)
    )
    by_id = site.keys_by_field_id
    for answer in answers:
        if answer.field_id in by_id:
            newest[by_id[answer.field_id]] = answer
    changed: list[str] = []
    for key, answer in newest.items():
        row = current.get(key)
        if row is not None and row.visitor_id == visitor.id and row.source == BROWSER:
            continue  # its own current value (made verified below)
        if row is not None and not is_blank(row.value) and row.updated_at >= answer.created_at:
            continue  # someone said something newer
        if row is None:
            row = current[key] = ProfileValue(contact_id=contact.id, field_id=answer.field_id)
            db.session.add(row)
        if row.value != answer.value:
            changed.append(key)
        row.value, row.updated_at, row.form_key = answer.value, answer.created_at, answer.form_key
        row.visitor_id, row.source = visitor.id, BROWSER
        answer.applied = True
        if site.fields[key].rule.kind == "consent":
            _consent_in_force(contact.id, visitor.id, answer.field_id)
    for key, row in current.items():
        if row.visitor_id == visitor.id and row.source == BROWSER:
            row.verified = True
            if site.fields[key].rule.scope == "account" and contact.account_id is not None:
                offer_account_value(site, shared, contact, key, row, row.updated_at)
    return changed


def _consent_in_force(contact_id: int, visitor_id: int, field_id: int) -> None:
    """The browser's newest consent record for the field becomes the one in force."""
    newest = newest_consent_record(contact_id, visitor_id, field_id)
    if newest is not None:
        newest.applied = True
