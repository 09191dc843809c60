"""How far what is held on a person is trusted, in the console's words: each value's trust
(verified, claimed, imported, …), each browser's link to the person, and the values the rules
see. Read by the contact page and by explain, from ``people.load_person_records``.

Read only: nothing here writes or commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.services.people import PersonRecords
from app.services.siteconfig import SiteSnapshot

IMPORTED_SOURCES = frozenset({"import", "crm"})
# How a browser proved who it is (Visitor.verified_by), as the console says it.
VERIFIED_BY = {
    "identity_hash": "identity hash",
    "link": "signed link",
    "upgrade": "upgrade (its contact's first browser)",
}


def value_trust(source: str, verified: bool) -> str:
    """One word for a value's (or an answer's) trust: ``imported`` (a file import, a CRM),
    ``API`` (the token API), ``verified`` (a browser that proved who it is) or ``claimed`` (a
    browser that only typed the email)."""
    if source in IMPORTED_SOURCES:
        return "imported"
    if source == "api":
        return "API"
    return "verified" if verified else "claimed"


def account_trust(trusted: bool) -> str:
    """An account value either spares colleagues the question (confirmed) or not yet."""
    return "confirmed" if trusted else "candidate"


@dataclass(frozen=True)
class CurrentValue:
    key: str
    label: str
    value: Any
    form_key: str | None  # None for an account value (the account keeps no form)
    updated_at: datetime
    from_account: bool
    trust: str  # value_trust's word, or account_trust's for an account value
    browser: str | None = None  # "Browser 2": which of the person's browsers gave it


@dataclass(frozen=True)
class BrowserEntry:
    label: str  # "Browser 1", oldest first
    public_id: str
    trust: str  # claimed | verified
    verified_by: str | None  # VERIFIED_BY's words
    verified_at: datetime | None
    first_seen: datetime
    last_seen: datetime

    @property
    def short_id(self) -> str:
        return self.public_id[:8]


def browser_label(held: PersonRecords, visitor_id: int | None) -> str | None:
    """ "Browser N" for one of the person's browsers (numbered oldest first); None otherwise."""
    for number, visitor in enumerate(held.visitors, start=1):
        if visitor.id == visitor_id:
            return f"Browser {number}"
    return None


def browser_entries(held: PersonRecords) -> tuple[BrowserEntry, ...]:
    """The person's browsers, oldest first, with how far each is trusted to be them."""
    return tuple(
        BrowserEntry(
            f"Browser {number}",
            v.public_id,
            v.trust,
            VERIFIED_BY.get(v.verified_by or "", v.verified_by),
            v.verified_at,
            v.created_at,
            v.last_seen_at,
        )
        for number, v in enumerate(held.visitors, start=1)
    )


def current_values(site: SiteSnapshot, held: PersonRecords) -> tuple[CurrentValue, ...]:
    """One row per active field that holds a value, in field order; own values over the
    account's, each with its trust."""
    by_id = site.keys_by_field_id
    own = {by_id[row.field_id]: row for row in held.profile if row.field_id in by_id}
    shared = {
        by_id[row.field_id]: row
        for row in held.account_values
        if row.field_id in by_id and row.account_id == held.contact.account_id
    }
    values = []
    for key, view in site.fields.items():
        if key in own:
            row = own[key]
            values.append(
                CurrentValue(
                    key,
                    view.label,
                    row.value,
                    row.form_key,
                    row.updated_at,
                    False,
                    value_trust(row.source, row.verified),
                    browser_label(held, row.visitor_id),
                )
            )
        elif view.rule.scope == "account" and key in shared:
            row = shared[key]
            values.append(
                CurrentValue(
                    key,
                    view.label,
                    row.value,
                    None,
                    row.updated_at,
                    True,
                    account_trust(row.trusted),
                )
            )
    return tuple(values)
