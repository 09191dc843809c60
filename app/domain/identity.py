"""Identity: normalizing emails, company accounts, and what a submitted email does (DESIGN §3)."""

from __future__ import annotations

import base64
import hashlib
import hmac
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
    survivor: Mapping[str, KnownValue],
    absorbed: Mapping[str, KnownValue],
    *,
    verified: bool = True,
) -> dict[str, KnownValue]:
    """The values the survivor of a merge takes from the absorbed contact, by key.

    A key is taken when the absorbed value is non-blank and the survivor's is missing or
    blank; when the merging browser is ``verified``, also when the survivor's is strictly
    older (on equal times the survivor keeps its own). A browser that merely claimed the email
    fills blanks only.
    """
    taken: dict[str, KnownValue] = {}
    for key, offered in absorbed.items():
        if is_blank(offered.value):
            continue
        own = survivor.get(key)
        if own is None or is_blank(own.value) or (verified and own.updated_at < offered.updated_at):
            taken[key] = offered
    return taken


# Signed links and identity hashes (docs/widget.md, "Identifying visitors").
LINK_DIGEST_LENGTH = 22  # base64url characters: 132 bits of HMAC-SHA256
LINK_MAX_DAYS = 400


def _mac(key: str, message: str) -> bytes:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def identity_hash(secret: str, email: str) -> str:
    """What a site's backend passes with a logged-in visitor's email: the hex HMAC-SHA256 of
    the normalized email under the site's identity secret."""
    return hmac.new(secret.encode(), normalize_email(email).encode(), hashlib.sha256).hexdigest()


def hash_matches(secrets: Iterable[str], email: str, given: str) -> bool:
    """``given`` is the identity hash of ``email`` under one of ``secrets`` (constant time)."""
    given = given.strip().lower()
    if not given.isascii():  # no hex digest is anything else (compare_digest refuses it)
        return False
    return any(hmac.compare_digest(identity_hash(s, email), given) for s in secrets)


def email_digest(link_key: str, email: str) -> str:
    """The pseudonym a signed link carries for ``email``: keyed, so the URL reveals nothing."""
    return _b64(_mac(link_key, normalize_email(email)))[:LINK_DIGEST_LENGTH]


def link_signature(secret: str, digest: str, expires: int) -> str:
    return _b64(_mac(secret, f"{digest}.{expires}"))


def mint_link_token(link_key: str, secret: str, email: str, expires: int) -> str:
    """``digest.expires.signature``: names ``email``'s contact until ``expires`` (Unix time)."""
    digest = email_digest(link_key, email)
    return f"{digest}.{expires}.{link_signature(secret, digest, expires)}"


@dataclass(frozen=True)
class LinkClaim:
    digest: str
    expires: int


def read_link_token(
    token: str, secrets: Iterable[str], now: int, max_days: int = LINK_MAX_DAYS
) -> LinkClaim | None:
    """The digest a valid, unexpired link token names; None for anything else (malformed,
    forged, signed by no current secret, expired, or expiring implausibly far ahead)."""
    parts = token.split(".") if isinstance(token, str) and token.isascii() else []
    if len(parts) != 3 or len(parts[0]) != LINK_DIGEST_LENGTH or not parts[1].isdigit():
        return None
    if parts[1] != str(int(parts[1])):  # one spelling per token: no leading zeros
        return None
    digest, expires, signature = parts[0], int(parts[1]), parts[2]
    if not now < expires <= now + max_days * 86400:
        return None
    if not any(hmac.compare_digest(link_signature(s, digest, expires), signature) for s in secrets):
        return None
    return LinkClaim(digest, expires)
