"""Loading and writing one contact: its visitor, its values, its consents (what the rules and
the webhook see of them: ``state``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.domain.specs import KnownValue, iso
from app.extensions import db
from app.models import (
    AccountValue,
    ConsentRecord,
    Contact,
    ProfileValue,
    Visitor,
)
from app.services.errors import NotFound
from app.services.siteconfig import SiteSnapshot
from app.services.tokens import new_visitor_id, read_visitor_token, unstored_visitor_id

# A visitor's last_seen_at is refreshed at most this often (by its writes: an ask reads only).
_SEEN_RESOLUTION = timedelta(hours=1)
# Ids are 32-bit on PostgreSQL: a larger one names no row (and must not reach the query).
MAX_ROW_ID = 2**31 - 1

# The widget's statements, built once (a statement is immutable; its values are bound per
# call): building one cost more than SQLite took to run it (docs/benchmarks.md, "Hot path
# profile").
_VISITOR = select(Visitor).where(
    Visitor.public_id == bindparam("public_id"), Visitor.site_id == bindparam("site_id")
)
_VISITOR_LOCKED = _VISITOR.with_for_update()
_CONTACT_LOCKED = (
    select(Contact)
    .where(Contact.id == bindparam("contact_id"))
    .with_for_update(key_share=True)
    .execution_options(populate_existing=True)
)
_VALUES = select(ProfileValue).where(ProfileValue.contact_id == bindparam("contact_id"))
_ACCOUNT_VALUES = select(AccountValue).where(AccountValue.account_id == bindparam("account_id"))


def site_contact(site: SiteSnapshot, contact_id: int, *, lock: bool = False) -> Contact:
    """The contact ``contact_id`` of this site; NotFound for any other id. ``lock``: hold its
    row until commit (a change on someone's behalf waits for an erasure, and the other way)."""
    contact = None
    if 0 < contact_id <= MAX_ROW_ID:
        query = select(Contact).where(Contact.id == contact_id, Contact.site_id == site.id)
        contact = db.session.scalar(query.with_for_update() if lock else query)
    if contact is None:
        raise NotFound(f'No contact {contact_id} on site "{site.key}".')
    return contact


def find_visitor(site: SiteSnapshot, token: str | None) -> Visitor | None:
    """The visitor a token names on this site, its row locked until commit; None for a
    missing, forged or unknown one. (An ask reads without locks: ``people.ask_view``.)

    Every unit that writes for a visitor locks it first, so a merge and a concurrent event or submit of the same browser run one after
    the other, and the second sees the contact the first left behind (PostgreSQL; SQLite has
    one writer at a time anyway). Then it locks the visitor's contact: see ``_lock_contact``.
    """
    public_id = read_visitor_token(site.key, token)
    if public_id is None:
        return None
    params = {"public_id": public_id, "site_id": site.id}
    # Lock the visitor row alone; its contact is read after the lock is granted.
    visitor = db.session.scalars(_VISITOR_LOCKED, params).one_or_none()
    if visitor is not None:
        # Held by the visitor: the session keeps no other reference, and would read the
        # contact again on ``visitor.contact``.
        set_committed_value(visitor, "contact", _lock_contact(visitor.contact_id))
    return visitor


def _lock_contact(contact_id: int) -> Contact | None:
    """Hold the contact's row (FOR NO KEY UPDATE) until commit, and load it fresh.

    The contact is what every write of its browsers changes: its events (an id counted once),
    its values and their history, its stage. Locked first, the writes of two browsers of one
    person, and a merge into that person, run one after the other on the state the previous one
    committed. Without it, an event read the stage before a concurrent merge committed and moved
    it again (two ``mql`` moves), and two events of one id from two browsers could deadlock with
    a merge: each held a share lock on the contact (the events' foreign key) while waiting on
    the other's uncommitted event id, and the merge waited for the row lock in between. NO KEY
    UPDATE still lets unrelated rows reference the contact meanwhile. Order: visitor, then
    contact, then (identity) the email's owner, as erasure takes them.
    """
    return db.session.scalars(_CONTACT_LOCKED, {"contact_id": contact_id}).one_or_none()


def stored_visitor(site: SiteSnapshot, token: str | None, now: datetime) -> Visitor | None:
    """The token's visitor for a write, its row locked (see ``find_visitor``); None when the
    token names nobody (missing, forged, foreign, or its visitor erased).

    An ask stores nobody: the token it gives a new browser names an id no row holds yet, and
    the browser's first write (event, submit, identify) stores the visitor, with a new
    anonymous contact, under that very id, so the ask tokens granted to it hold. Two first
    writes at once both insert it; the second meets the first's row (a unique violation) and
    ``commit_unit`` reruns it, finding that row.
    """
    visitor = find_visitor(site, token)
    if visitor is None:
        public_id = unstored_visitor_id(site.key, token)
        if public_id is not None:
            visitor = _new_visitor(site, public_id, now)
    return visitor


def resolve_visitor(site: SiteSnapshot, token: str | None, now: datetime) -> Visitor:
    """The token's visitor for a write (``stored_visitor``), or a new visitor under a new id
    with a new anonymous contact (a missing, forged, foreign or erased one's token)."""
    visitor = stored_visitor(site, token, now)
    if visitor is None:
        return _new_visitor(site, new_visitor_id(), now)
    _seen(visitor, now)
    return visitor


def _seen(visitor: Visitor, now: datetime) -> None:
    """Refresh the visitor's last_seen_at, at most once per ``_SEEN_RESOLUTION``."""
    if now - visitor.last_seen_at > _SEEN_RESOLUTION:
        # A plain UPDATE: should an erasure have removed the row meanwhile, it changes nothing
        # (an ORM flush would fail on the missing row) and the next submit asks again.
        db.session.execute(
            update(Visitor).where(Visitor.id == visitor.id).values(last_seen_at=now),
            execution_options={"synchronize_session": False},
        )
        set_committed_value(visitor, "last_seen_at", now)


def _new_visitor(site: SiteSnapshot, public_id: str, now: datetime) -> Visitor:
    contact = Contact(site_id=site.id, created_at=now, updated_at=now)
    visitor = Visitor(
        site_id=site.id, public_id=public_id, contact=contact, created_at=now, last_seen_at=now
    )
    db.session.add(visitor)
    db.session.flush()
    return visitor


def contact_values(site: SiteSnapshot, contact_id: int) -> dict[str, ProfileValue]:
    """The contact's current value rows by field key (fields no longer configured left out)."""
    rows = db.session.scalars(_VALUES, {"contact_id": contact_id})
    by_id = site.keys_by_field_id
    return {by_id[row.field_id]: row for row in rows if row.field_id in by_id}


def account_values(site: SiteSnapshot, account_id: int | None) -> dict[str, AccountValue]:
    if account_id is None:
        return {}
    rows = db.session.scalars(_ACCOUNT_VALUES, {"account_id": account_id})
    by_id = site.keys_by_field_id
    return {by_id[row.field_id]: row for row in rows if row.field_id in by_id}


def known(rows: dict[str, Any]) -> dict[str, KnownValue]:
    return {key: KnownValue(row.value, row.updated_at) for key, row in rows.items()}


def latest_consents(site: SiteSnapshot, contact_id: int) -> dict[str, ConsentRecord]:
    """Each consent field's newest record for the contact (its current state)."""
    return _latest_consents(site, [contact_id]).get(contact_id, {})


def _latest_consents(
    site: SiteSnapshot, contact_ids: Sequence[int]
) -> dict[int, dict[str, ConsentRecord]]:
    """``latest_consents`` of many contacts in one statement, by contact id (a contact with
    none left out)."""
    rows = db.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.contact_id.in_(contact_ids), ConsentRecord.applied.is_(True))
        .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
    )
    by_id = site.keys_by_field_id
    latest: dict[int, dict[str, ConsentRecord]] = {}
    for row in rows:
        if row.field_id in by_id:
            latest.setdefault(row.contact_id, {})[by_id[row.field_id]] = row
    return latest


def consent_summary(site: SiteSnapshot, contact_id: int) -> dict[str, dict[str, Any]]:
    """The contact's consent state as webhooks and the data-subject export carry it."""
    return consent_summaries(site, [contact_id]).get(contact_id, {})


def consent_summaries(
    site: SiteSnapshot, contact_ids: Sequence[int]
) -> dict[int, dict[str, dict[str, Any]]]:
    """``consent_summary`` of many contacts in one statement, by contact id (a contact with
    no consent left out)."""
    return {
        contact_id: {
            key: {
                "granted": row.granted,
                "version": row.version,
                "form": row.form_key,
                "source": row.source,
                "at": iso(row.recorded_at),
            }
            for key, row in records.items()
        }
        for contact_id, records in _latest_consents(site, contact_ids).items()
    }


def newest_consent_record(contact_id: int, visitor_id: int, field_id: int) -> ConsentRecord | None:
    """The newest consent record one browser left for one field of the contact (in force or not)."""
    return db.session.scalars(
        select(ConsentRecord)
        .where(
            ConsentRecord.contact_id == contact_id,
            ConsentRecord.visitor_id == visitor_id,
            ConsentRecord.field_id == field_id,
        )
        .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())
        .limit(1)
    ).first()
