"""Proving who a browser is: identity hashes (sites where people log in) and signed links
(marketing email). Either makes the browser's link to the contact ``verified``.

Anything that does not verify (a forged, expired, other-site or other-contact hash or link, a
site without an identity secret) is treated as absent: the browser stays what it was and the
answer is the same whether or not the email is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.domain.identity import (
    LINK_MAX_DAYS,
    hash_matches,
    mint_link_token,
    normalize_email,
    read_link_token,
)
from app.extensions import db
from app.models import Contact, Visitor
from app.services.errors import Invalid
from app.services.people.contacts import contact_values, resolve_visitor
from app.services.people.identity import settle_identity
from app.services.people.qualification import qualify
from app.services.people.state import announce_update
from app.services.people.values import write_values
from app.services.siteconfig import (
    IDENTITY,
    SecretInfo,
    SiteSnapshot,
    live_secrets,
    rotate_secret,
    secrets_shown,
    site_snapshot,
)
from app.services.tokens import visitor_token
from app.services.transactions import commit_unit

DEFAULT_OVERLAP_HOURS = 72
LINK_DAYS = 30
LINK_PARAMETER = "trickle"  # the query parameter a signed link carries (docs/widget.md)
NOT_SET_UP = (
    "Identity verification is not set up on this site: an admin generates its identity"
    " secret on the site settings page."
)


def active_secrets(site_id: int, now: datetime) -> list[str]:
    """The identity secrets that sign now: the current one, and replaced ones in their overlap."""
    return live_secrets(site_id, IDENTITY, now)


def secret_status(site_key: str, now: datetime) -> list[SecretInfo]:
    """The site's live identity secrets as the console shows them (last characters only)."""
    return secrets_shown(site_snapshot(site_key).id, IDENTITY, now)


def new_identity_secret(
    site_key: str, actor: str | None, now: datetime, overlap_hours: int = DEFAULT_OVERLAP_HOURS
) -> str:
    """Generate the site's identity secret (returned once, to be shown once). A secret already
    in use keeps signing for ``overlap_hours`` (0: it stops now), so sites can roll over."""
    return rotate_secret(site_key, IDENTITY, actor, now, overlap_hours)


@dataclass(frozen=True)
class SignedLink:
    email: str
    token: str
    expires_at: datetime


def mint_links(
    site_key: str, emails: list[str], now: datetime, days: int = LINK_DAYS
) -> list[SignedLink]:
    """Link tokens for ``emails`` valid ``days`` days, signed with the current secret."""
    if not 1 <= days <= LINK_MAX_DAYS:
        raise Invalid(
            f"Links last 1 to {LINK_MAX_DAYS} days.", {"days": [f"Enter 1 to {LINK_MAX_DAYS}."]}
        )
    site = site_snapshot(site_key)
    current = active_secrets(site.id, now)
    if not current:
        raise Invalid(NOT_SET_UP)
    expires = int(now.timestamp()) + days * 86400
    return [
        SignedLink(
            normalize_email(email),
            mint_link_token(site.link_key, current[0], email, expires),
            datetime.fromtimestamp(expires, tz=now.tzinfo),
        )
        for email in emails
    ]


@dataclass(frozen=True)
class Identified:
    visitor: str  # the visitor token
    verified: bool


def identify_visitor(
    site_key: str,
    token: str | None,
    now: datetime,
    *,
    email: str | None = None,
    identity_hash: str | None = None,
    link: str | None = None,
) -> Identified:
    """Verify the browser behind ``token`` by an email with its identity hash, or by a signed
    link token. Verified: the browser becomes that contact (merging its anonymous contact, or
    moving to it) with a verified link, and its claims are re-applied. Otherwise nothing changes
    but a first-time visitor being created."""
    site = site_snapshot(site_key)

    def work() -> tuple[str, bool]:
        visitor = resolve_visitor(site, token, now)
        signing = active_secrets(site.id, now)
        proven = _proven_email(site, signing, now, email, identity_hash, link)
        if proven is None:
            return visitor.public_id, False
        address, method = proven
        contact, changed = settle_identity(site, visitor, address, now, verified_by=method)
        changed += _know_the_email(site, contact, visitor, address, now)
        announce_update(site, contact, changed, now)
        qualify(site, contact, now)
        return visitor.public_id, True

    public_id, verified = commit_unit(work)
    return Identified(visitor_token(site.key, public_id), verified)


IDENTIFIED = "identify"  # the form key the identity value is recorded under when proven


def _know_the_email(
    site: SiteSnapshot, contact: Contact, visitor: Visitor, email: str, now: datetime
) -> list[str]:
    """A proven email is the identity field's value (nobody need be asked it again)."""
    key = next((k for k, view in site.fields.items() if view.rule.identity), None)
    if key is None or key in contact_values(site, contact.id):
        return []
    return write_values(site, contact, visitor, IDENTIFIED, {key: email}, now).changed


def _proven_email(
    site: SiteSnapshot,
    signing: list[str],
    now: datetime,
    email: str | None,
    identity_hash: str | None,
    link: str | None,
) -> tuple[str, str] | None:
    """The email proven and how (identity_hash, link); None when nothing proves one."""
    if not signing:
        return None
    if email is not None and identity_hash is not None:
        if hash_matches(signing, email, identity_hash):
            return normalize_email(email), "identity_hash"
        return None
    if link is None:
        return None
    claim = read_link_token(link, signing, int(now.timestamp()))
    if claim is None:
        return None
    address = db.session.scalar(
        select(Contact.email).where(
            Contact.site_id == site.id, Contact.email_digest == claim.digest
        )
    )
    return (address, "link") if address is not None else None
