"""Consent: given through a form against the exact text shown, withdrawn just as easily.

A ``consent`` field's answer is an ordinary profile value (true or false), so the rules,
exports and webhooks read it like any other answer. Beside it, every consent given, refused or
withdrawn is kept as a ``ConsentRecord``: the words shown and their version, when, through
which form, from which browser, and who withdrew it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from datetime import datetime
from typing import Any

from app.domain.interface import Message
from app.extensions import db
from app.models import BROWSER, VERIFIED, ConsentRecord, Contact, Visitor
from app.services.errors import AskExpired, Invalid
from app.services.people import (
    announce_update,
    contact_values,
    find_visitor,
    latest_consents,
    may_replace,
    newest_consent_record,
    qualify,
    site_contact,
)
from app.services.siteconfig import SiteSnapshot, site_snapshot
from app.services.tokens import AskGrant
from app.services.transactions import commit_unit

CONSENT = "consent"
NOT_SHOWN = Message("consent_not_shown")
TEXT_CHANGED = "The consent text changed since it was shown; ask again."
NOT_A_CONSENT = "Not a consent field of this site."
# Who recorded a consent: the widget's form, the visitor withdrawing it, a token, the console.
FORM, VISITOR, API, ADMIN = "form", "visitor", "api", "admin"


def is_consent(site: SiteSnapshot, key: str) -> bool:
    view = site.fields.get(key)
    return view is not None and view.rule.kind == CONSENT


def explain_not_shown(site: SiteSnapshot, grant: AskGrant, errors: dict[str, list[str]]) -> None:
    """A consent answered without having been offered gets its own message (the submit's 422)."""
    for key, messages in errors.items():
        if key not in grant.offered and is_consent(site, key):
            messages[:] = [NOT_SHOWN]


def check_shown_text(site: SiteSnapshot, grant: AskGrant, values: Mapping[str, Any]) -> None:
    """AskExpired (409: the widget asks again) when a consent's words changed since they were
    shown: the answer would otherwise be recorded against a text the visitor never read."""
    for key in values:
        if is_consent(site, key) and grant.consents.get(key) != site.fields[key].consent_version:
            raise AskExpired(TEXT_CHANGED)


def record_answers(
    site: SiteSnapshot,
    contact: Contact,
    visitor: Visitor,
    form_key: str,
    values: Mapping[str, Any],
    applied: Set[str],
    now: datetime,
) -> None:
    """Keep each consent answered in a submit (given or refused) with the text shown.

    Every answer is recorded; one that did not become the value (a claimed browser refusing a
    consent someone else gave: ``applied``, see people.write_values) is kept out of force."""
    for key, value in values.items():
        if not is_consent(site, key):
            continue
        view = site.fields[key]
        db.session.add(
            ConsentRecord(
                site_id=site.id,
                contact_id=contact.id,
                field_id=view.id,
                granted=value is True,
                text=view.consent_text,
                version=view.consent_version,
                form_key=form_key,
                visitor_id=visitor.id,
                source=FORM,
                recorded_at=now,
                applied=key in applied,
            )
        )


def check_consent_keys(site: SiteSnapshot, keys: Iterable[str], name: str = "fields") -> list[str]:
    """``keys`` without repeats; Invalid (422) naming every key that is not a consent field."""
    keys = list(dict.fromkeys(keys))
    wrong = [key for key in keys if not is_consent(site, key)]
    if not keys:
        raise Invalid("Name at least one consent field.", {name: ["Name at least one field."]})
    if wrong:
        raise Invalid(
            "Not consent fields: " + ", ".join(sorted(wrong)) + ".",
            {f"{name}.{key}": [NOT_A_CONSENT] for key in wrong},
        )
    return keys


def withdraw_consents(
    site: SiteSnapshot,
    contact: Contact,
    keys: Iterable[str],
    *,
    source: str,
    actor: str | None,
    visitor: Visitor | None,
    now: datetime,
) -> list[str]:
    """Withdraw the contact's consent for ``keys`` (checked consent fields), in the caller's
    transaction. Returns the keys that were given and are now withdrawn (others: no change).

    The value becomes false, a record keeps who withdrew what version when, and the change is
    forwarded as ``contact.updated`` like any other. A ``visitor`` whose link is only claimed
    withdraws only what it gave itself (people.may_replace); the rest is left as it was.
    """
    current = contact_values(site, contact.id)
    given = latest_consents(site, contact.id)
    withdrawn = []
    for key in keys:
        row = current.get(key)
        in_force = row is not None and row.value is True
        if visitor is not None and not (in_force and may_replace(site, key, row, visitor)):
            _keep_out_of_force(site, contact, visitor, key, source, now)
            continue
        if not in_force:
            continue
        row.value, row.updated_at = False, now
        row.form_key, row.visitor_id = None, visitor.id if visitor is not None else None
        row.source = BROWSER if visitor is not None else source
        row.verified = visitor is None or visitor.trust == VERIFIED
        last = given.get(key)
        db.session.add(
            ConsentRecord(
                site_id=site.id,
                contact_id=contact.id,
                field_id=site.fields[key].id,
                granted=False,
                text=last.text if last is not None else None,
                version=last.version if last is not None else None,
                visitor_id=row.visitor_id,
                source=source,
                actor=actor,
                recorded_at=now,
            )
        )
        withdrawn.append(key)
    if withdrawn:
        contact.updated_at = now
        db.session.flush()
        announce_update(site, contact, withdrawn, now)
        qualify(site, contact, now)
    return withdrawn


def _keep_out_of_force(
    site: SiteSnapshot, contact: Contact, visitor: Visitor, key: str, source: str, now: datetime
) -> None:
    """A browser withdrawing a consent it may not (another gave it) or that is not in force: if
    it had given the consent itself, its withdrawal is recorded out of force, so what it sees
    next follows its own word, whatever anyone else said."""
    field_id = site.fields[key].id
    mine = newest_consent_record(contact.id, visitor.id, field_id)
    if mine is None or not mine.granted:
        return
    db.session.add(
        ConsentRecord(
            site_id=site.id,
            contact_id=contact.id,
            field_id=field_id,
            granted=False,
            text=mine.text,
            version=mine.version,
            visitor_id=visitor.id,
            source=source,
            recorded_at=now,
            applied=False,
        )
    )


def withdraw_for_contact(
    site_key: str,
    contact_id: int,
    keys: Iterable[str],
    *,
    source: str,
    actor: str | None,
    now: datetime,
) -> list[str]:
    """Withdraw on a person's behalf (token API, console); NotFound for another site's id."""
    site = site_snapshot(site_key)
    checked = check_consent_keys(site, keys)

    def work() -> list[str]:
        contact = site_contact(site, contact_id, lock=True)
        return withdraw_consents(
            site, contact, checked, source=source, actor=actor, visitor=None, now=now
        )

    return commit_unit(work)


def withdraw_for_visitor(site_key: str, token: str, keys: Iterable[str], now: datetime) -> None:
    """The visitor behind ``token`` withdraws their own consent (the public endpoint).

    An unknown or forged token has nothing given under it: nothing happens, and the answer
    is the same, so the response says nothing about what was held.
    """
    site = site_snapshot(site_key)
    checked = check_consent_keys(site, keys)

    def work() -> None:
        visitor = find_visitor(site, token)
        if visitor is not None:
            withdraw_consents(
                site,
                visitor.contact,
                checked,
                source=VISITOR,
                actor=None,
                visitor=visitor,
                now=now,
            )

    commit_unit(work)
