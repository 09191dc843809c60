"""Who a visitor is once they give an email: identify, merge into the owner, or re-point."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import delete, select, update

from app.domain.identity import (
    IdentityAction,
    account_domain,
    decide_identity,
    merge_values,
    normalize_email,
)
from app.domain.specs import ContactRef
from app.extensions import db
from app.models import (
    Account,
    AccountValue,
    ConsentRecord,
    Contact,
    ContactMerge,
    EngagementEvent,
    ProfileValue,
    Skip,
    Submission,
    Visitor,
)
from app.services.outbox import follow_merge, record_outbox
from app.services.people.contacts import contact_values, known, share_account_values
from app.services.siteconfig import SiteSnapshot


def settle_identity(
    site: SiteSnapshot, visitor: Visitor, email: str, now: datetime
) -> tuple[Contact, list[str]]:
    """Apply DESIGN §3 identity to ``visitor`` giving ``email``.

    Returns the contact the visitor is now, and the keys that contact took from a merge.
    """
    email = normalize_email(email)
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
        contact.email = email
        join_account(site, contact, now)
    elif decision.action is IdentityAction.MERGE:
        assert owner is not None
        return owner, merge_contact(
            site, absorbed=contact, survivor=owner, visitor=visitor, now=now
        )
    elif decision.action is IdentityAction.REPOINT:
        assert owner is not None
        _repoint(visitor, owner)
        return owner, []
    elif decision.action is IdentityAction.REPOINT_NEW:
        fresh = Contact(site_id=site.id, email=email, created_at=now, updated_at=now)
        db.session.add(fresh)
        db.session.flush()
        join_account(site, fresh, now)
        _repoint(visitor, fresh)
        return fresh, []
    return contact, []


def _repoint(visitor: Visitor, contact: Contact) -> None:
    visitor.contact = contact
    db.session.flush()


def join_account(site: SiteSnapshot, contact: Contact, now: datetime) -> None:
    """Link an identified contact to its company's account (none for free-mail addresses)."""
    extra = current_app.config["EXTRA_FREE_MAIL_DOMAINS"].split(",")
    domain = account_domain(contact.email or "", [d.strip().lower() for d in extra if d.strip()])
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
    site: SiteSnapshot, absorbed: Contact, survivor: Contact, visitor: Visitor, now: datetime
) -> list[str]:
    """Fold ``absorbed`` (anonymous) into ``survivor``: newer non-blank values win, history,
    events, skips and browsers move over, the merge is recorded and forwarded.

    Returns the keys whose value the survivor took from ``absorbed``.
    """
    taken = _take_values(site, absorbed, survivor)
    _move_rows(absorbed.id, survivor.id)
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
    """History, events, skips, consents, browsers and earlier merges move to the survivor."""
    _drop_duplicates(absorbed_id, survivor_id)
    for model, column in (
        (Submission, Submission.contact_id),
        (EngagementEvent, EngagementEvent.contact_id),
        (Skip, Skip.contact_id),
        (Visitor, Visitor.contact_id),
        (AccountValue, AccountValue.contact_id),
        (ConsentRecord, ConsentRecord.contact_id),
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


def _take_values(site: SiteSnapshot, absorbed: Contact, survivor: Contact) -> list[str]:
    mine, theirs = contact_values(site, survivor.id), contact_values(site, absorbed.id)
    taken = list(merge_values(known(mine), known(theirs)))
    for key in taken:
        source = theirs[key]
        row = mine.get(key) or ProfileValue(contact_id=survivor.id, field_id=source.field_id)
        row.value, row.updated_at = source.value, source.updated_at
        row.form_key, row.visitor_id = source.form_key, source.visitor_id
        db.session.add(row)
    return taken


def _drop_duplicates(absorbed_id: int, survivor_id: int) -> None:
    """Rows the survivor already has a counterpart of: the same event id, the same skipped field."""
    survivor_event_ids = select(EngagementEvent.external_id).where(
        EngagementEvent.contact_id == survivor_id, EngagementEvent.external_id.is_not(None)
    )
    db.session.execute(
        delete(EngagementEvent).where(
            EngagementEvent.contact_id == absorbed_id,
            EngagementEvent.external_id.in_(survivor_event_ids),
        )
    )
    survivor_skips = select(Skip.field_id).where(Skip.contact_id == survivor_id)
    db.session.execute(
        delete(Skip).where(Skip.contact_id == absorbed_id, Skip.field_id.in_(survivor_skips))
    )
    db.session.execute(delete(ProfileValue).where(ProfileValue.contact_id == absorbed_id))
