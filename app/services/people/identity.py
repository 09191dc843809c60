"""Who a visitor is once they give an email: identify, merge into the owner, or re-point."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import aliased

from app.domain.identity import (
    IdentityAction,
    account_domain,
    decide_identity,
    email_digest,
    merge_values,
    normalize_email,
)
from app.domain.specs import ContactRef
from app.extensions import db
from app.models import (
    CLAIMED,
    VERIFIED,
    Account,
    AccountValue,
    ConsentRecord,
    Contact,
    ContactMerge,
    EngagementEvent,
    Handoff,
    ProfileValue,
    SalesOutcome,
    Skip,
    Submission,
    Visitor,
)
from app.services.outbox import follow_merge, record_outbox
from app.services.people.contacts import contact_values, known
from app.services.people.tallies import merge_tallies, rebuild_contact_tally, reset_own_tally
from app.services.people.values import reapply_claims, share_account_values
from app.services.siteconfig import SiteSnapshot


def settle_identity(
    site: SiteSnapshot,
    visitor: Visitor,
    email: str,
    now: datetime,
    *,
    verified_by: str | None = None,
) -> tuple[Contact, list[str]]:
    """Apply DESIGN §3 identity to ``visitor`` giving ``email``.

    A typed email makes a ``claimed`` link (a browser already on that contact keeps its
    trust); ``verified_by`` (identity_hash, link) makes it ``verified`` and re-applies the
    browser's claims. Returns the contact the visitor is now, and the keys that contact took.
    """
    contact, taken = _settle(site, visitor, normalize_email(email), now, verified_by is not None)
    if verified_by is None:
        return contact, taken
    return contact, [
        *taken,
        *(k for k in verify_link(site, visitor, contact, verified_by, now) if k not in taken),
    ]


def _settle(
    site: SiteSnapshot, visitor: Visitor, email: str, now: datetime, verified: bool
) -> tuple[Contact, list[str]]:
    contact = visitor.contact
    # Locked: an erasure of the owner running now either finishes first (then there is no
    # owner) or waits, so nothing is merged into a contact that is being erased.
    owner = db.session.scalars(
        select(Contact).where(Contact.site_id == site.id, Contact.email == email).with_for_update()
    ).one_or_none()
    decision = decide_identity(
        ContactRef(contact.id, contact.email),
        email,
        ContactRef(owner.id, owner.email) if owner is not None else None,
    )
    if decision.action is IdentityAction.IDENTIFY:
        contact.email, contact.email_digest = email, email_digest(site.link_key, email)
        _set_trust(visitor, CLAIMED)
        join_account(site, contact, now)
    elif decision.action is IdentityAction.MERGE:
        assert owner is not None
        _set_trust(visitor, CLAIMED)
        return owner, merge_contact(
            site, absorbed=contact, survivor=owner, visitor=visitor, now=now, verified=verified
        )
    elif decision.action is IdentityAction.REPOINT:
        assert owner is not None
        _repoint(site, visitor, owner)
        return owner, []
    elif decision.action is IdentityAction.REPOINT_NEW:
        fresh = Contact(
            site_id=site.id,
            email=email,
            email_digest=email_digest(site.link_key, email),
            created_at=now,
            updated_at=now,
        )
        db.session.add(fresh)
        db.session.flush()
        join_account(site, fresh, now)
        _repoint(site, visitor, fresh)
        return fresh, []
    return contact, []


def _set_trust(
    visitor: Visitor, trust: str, by: str | None = None, at: datetime | None = None
) -> None:
    visitor.trust, visitor.verified_by, visitor.verified_at = trust, by, at


def _repoint(site: SiteSnapshot, visitor: Visitor, contact: Contact) -> None:
    """The browser is someone else now: a new link, claimed until proven, and nothing of its
    own there yet (its events stay with the contact it was)."""
    visitor.contact = contact
    _set_trust(visitor, CLAIMED)
    db.session.flush()
    reset_own_tally(site, visitor)


def verify_link(
    site: SiteSnapshot, visitor: Visitor, contact: Contact, by: str, now: datetime
) -> list[str]:
    """``visitor`` proved it is ``contact``: its link becomes verified, and what it claimed
    is re-applied with the verified rules (newest wins). Returns the keys whose value changed."""
    if visitor.trust == VERIFIED:
        return []
    _set_trust(visitor, VERIFIED, by, now)
    db.session.flush()
    return reapply_claims(site, contact, visitor)


def company_domain(email: str) -> str | None:
    """The domain of the account ``email`` joins: None for free mail (the built-in list and
    the deployment's ``EXTRA_FREE_MAIL_DOMAINS``)."""
    extra = current_app.config["EXTRA_FREE_MAIL_DOMAINS"].split(",")
    return account_domain(email, [d.strip().lower() for d in extra if d.strip()])


def join_account(site: SiteSnapshot, contact: Contact, now: datetime) -> None:
    """Link an identified contact to its company's account (none for free-mail addresses)."""
    domain = company_domain(contact.email or "")
    if domain is None:
        return
    account = db.session.scalars(
        select(Account).where(Account.site_id == site.id, Account.domain == domain)
    ).one_or_none()
    if account is None:
        account = Account(site_id=site.id, domain=domain, created_at=now)
        db.session.add(account)
        db.session.flush()
    contact.account_id = account.id
    db.session.flush()
    share_account_values(site, contact)


def merge_contact(
    site: SiteSnapshot,
    absorbed: Contact,
    survivor: Contact,
    visitor: Visitor,
    now: datetime,
    *,
    verified: bool = False,
) -> list[str]:
    """Fold ``absorbed`` (anonymous) into ``survivor``: its non-blank values fill the
    survivor's blanks (and, for a ``verified`` browser, replace older ones); history, events,
    skips and browsers move over, the merge is recorded and forwarded.

    Returns the keys whose value the survivor took from ``absorbed``.
    """
    taken = _take_values(site, absorbed, survivor, verified)
    seq = survivor.tally_seq + absorbed.tally_seq
    stale = merge_tallies(site, absorbed, survivor)
    _move_rows(absorbed.id, survivor.id)
    if stale:
        rebuild_contact_tally(site, survivor, seq)
    db.session.add(
        ContactMerge(
            site_id=site.id,
            survivor_id=survivor.id,
            merged_contact_id=absorbed.id,
            visitor_id=visitor.id,
            merged_at=now,
        )
    )
    follow_merge(absorbed.id, survivor.id)
    record_outbox(
        site.id,
        "contact.merged",
        survivor.id,
        {"contact_id": survivor.id, "merged_contact_id": absorbed.id},
        now,
    )
    survivor.updated_at = now
    db.session.flush()
    share_account_values(site, survivor)
    db.session.expire(visitor)
    db.session.delete(absorbed)
    db.session.flush()
    return taken


def _move_rows(absorbed_id: int, survivor_id: int) -> None:
    """History, events, skips, consents, browsers, sales outcomes and earlier merges move to
    the survivor."""
    _drop_duplicates(absorbed_id, survivor_id)
    for model, column in (
        (Submission, Submission.contact_id),
        (EngagementEvent, EngagementEvent.contact_id),
        (Skip, Skip.contact_id),
        (Visitor, Visitor.contact_id),
        (AccountValue, AccountValue.contact_id),
        (ConsentRecord, ConsentRecord.contact_id),
        (SalesOutcome, SalesOutcome.contact_id),
        (Handoff, Handoff.contact_id),
    ):
        db.session.execute(
            update(model).where(column == absorbed_id).values(contact_id=survivor_id),
            execution_options={"synchronize_session": False},
        )
    db.session.execute(
        update(ContactMerge)
        .where(ContactMerge.survivor_id == absorbed_id)
        .values(survivor_id=survivor_id)
    )


def _take_values(
    site: SiteSnapshot, absorbed: Contact, survivor: Contact, verified: bool
) -> list[str]:
    mine, theirs = contact_values(site, survivor.id), contact_values(site, absorbed.id)
    taken = list(merge_values(known(mine), known(theirs), verified=verified))
    for key in taken:
        source = theirs[key]
        row = mine.get(key) or ProfileValue(contact_id=survivor.id, field_id=source.field_id)
        row.value, row.updated_at = source.value, source.updated_at
        row.form_key, row.visitor_id = source.form_key, source.visitor_id
        row.source, row.verified = source.source, source.verified or verified
        db.session.add(row)
    # What the survivor did not take (and does not already hold) stays in the history as claims,
    # and its consent records out of force: neither is what the survivor holds.
    kept_out = [
        row.field_id
        for key, row in theirs.items()
        if key not in taken and (key not in mine or mine[key].value != row.value)
    ]
    for model in (Submission, ConsentRecord):
        db.session.execute(
            update(model)
            .where(model.contact_id == absorbed.id, model.field_id.in_(kept_out))
            .values(applied=False),
            execution_options={"synchronize_session": False},
        )
    return taken


def _drop_duplicates(absorbed_id: int, survivor_id: int) -> None:
    """Rows the survivor already has a counterpart of: the same skip, a current value. (An
    event id both count: ``merge_tallies`` stops counting the later copy; both stay, for their
    browsers' own views.)"""
    theirs = aliased(Skip)
    same_skip = (
        select(theirs.id)
        .where(
            theirs.contact_id == survivor_id,
            theirs.field_id == Skip.field_id,
            theirs.visitor_id == Skip.visitor_id,
        )
        .exists()
    )
    db.session.execute(delete(Skip).where(Skip.contact_id == absorbed_id, same_skip))
    db.session.execute(delete(ProfileValue).where(ProfileValue.contact_id == absorbed_id))
