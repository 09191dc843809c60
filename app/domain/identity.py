"""Identity: normalizing emails, company accounts, and what a submitted email does (DESIGN §3)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from app.domain.specs import ContactRef, KnownValue, is_blank

# Consumer mailboxes: people at these domains share no company, so they form no account.
FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "yahoo.de",
        "ymail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "t-online.de",
        "freenet.de",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "libero.it",
        "mail.ru",
        "yandex.ru",
        "yandex.com",
        "qq.com",
        "163.com",
        "126.com",
        "naver.com",
        "zoho.com",
        "mail.com",
        "fastmail.com",
        "tutanota.com",
        "hey.com",
    }
)


def normalize_email(raw: str) -> str:
    """The address as stored and compared: surrounding whitespace removed, lower-cased."""
    return raw.strip().lower()


def account_domain(email: str, extra_free_mail: Iterable[str] = ()) -> str | None:
    """The lower-case domain naming the account of ``email``.

    None when there is no '@' (or nothing after it) or the domain is free mail
    (``FREE_MAIL_DOMAINS`` or ``extra_free_mail``, compared case-insensitively).
    """
    _, at, domain = email.strip().rpartition("@")
    domain = domain.lower()
    if not at or not domain:
        return None
    extra = {d.strip().lower() for d in extra_free_mail}
    if domain in FREE_MAIL_DOMAINS or domain in extra:
        return None
    return domain


class IdentityAction(StrEnum):
    """What submitting an email does to the visitor's contact."""

    KEEP = "keep"  # the email is already this contact's
    IDENTIFY = "identify"  # anonymous, nobody has the email: set it on this contact
    MERGE = "merge"  # anonymous, another contact has it: merge this one into the owner
    REPOINT = "repoint"  # has another email, owner exists: visitor moves to owner, no merge
    REPOINT_NEW = "repoint_new"  # has another email, nobody has it: visitor moves to a new contact


@dataclass(frozen=True)
class IdentityDecision:
    action: IdentityAction
    target_id: int | None = None  # the owner's id for MERGE and REPOINT


def decide_identity(current: ContactRef, email: str, owner: ContactRef | None) -> IdentityDecision:
    """Decide what ``email`` (already normalized) does for the visitor's ``current`` contact.

    ``owner`` is the contact of the same site holding ``email``, if any (it may be ``current``).
    A contact with a different email is never merged: that is someone else on a shared browser.
    """
    if (owner is not None and owner.id == current.id) or _same_email(current.email, email):
        return IdentityDecision(IdentityAction.KEEP)
    anonymous = current.email is None or is_blank(current.email)
    if owner is None:
        return IdentityDecision(
            IdentityAction.IDENTIFY if anonymous else IdentityAction.REPOINT_NEW
        )
    action = IdentityAction.MERGE if anonymous else IdentityAction.REPOINT
    return IdentityDecision(action, target_id=owner.id)


def _same_email(stored: str | None, email: str) -> bool:
    return stored is not None and normalize_email(stored) == normalize_email(email)


def merge_values(
    survivor: Mapping[str, KnownValue], absorbed: Mapping[str, KnownValue]
) -> dict[str, KnownValue]:
    """The values the survivor of a merge takes from the absorbed contact, by key.

    A key is taken when the absorbed value is non-blank and the survivor's is missing, blank
    or strictly older; on equal times the survivor keeps its own.
    """
    taken: dict[str, KnownValue] = {}
    for key, offered in absorbed.items():
        if is_blank(offered.value):
            continue
        own = survivor.get(key)
        if own is None or is_blank(own.value) or own.updated_at < offered.updated_at:
            taken[key] = offered
    return taken
