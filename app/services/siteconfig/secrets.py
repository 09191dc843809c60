"""Secrets a site's own systems sign with, kept per purpose: ``identity`` (identity hashes and
signed links, docs/identity.md) and ``inbound`` (the CRM's inbound webhooks, docs/sales.md).

Each is stored (a signature can only be checked with it), shown once when made, never
exported. Replacing one keeps the old one signing for an overlap, so the systems that sign can
switch without a gap; the console shows only each secret's last characters.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from app.extensions import db
from app.models import Site, SiteSecret
from app.services.errors import Invalid, NotFound
from app.services.siteconfig.signing import generate_signing_secret
from app.services.transactions import commit_unit

IDENTITY, INBOUND = "identity", "inbound"
IDENTITY_PREFIX = "tis_"
MAX_OVERLAP_HOURS = 24 * 30


@dataclass(frozen=True)
class SecretInfo:
    """What the console shows of a secret: never the secret, only its last characters."""

    hint: str
    created_at: datetime
    created_by: str | None
    expires_at: datetime | None


def _live(site_id: int, purpose: str, now: datetime):
    return (
        select(SiteSecret)
        .where(
            SiteSecret.site_id == site_id,
            SiteSecret.purpose == purpose,
            or_(SiteSecret.expires_at.is_(None), SiteSecret.expires_at > now),
        )
        .order_by(SiteSecret.id.desc())
    )


def live_secrets(site_id: int, purpose: str, now: datetime) -> list[str]:
    """The secrets that sign now, newest first: the current one, and replaced ones in their
    overlap."""
    return [row.secret for row in db.session.scalars(_live(site_id, purpose, now))]


def secrets_shown(site_id: int, purpose: str, now: datetime) -> list[SecretInfo]:
    """The live secrets as the console shows them, newest first."""
    return [
        SecretInfo("…" + row.secret[-4:], row.created_at, row.created_by, row.expires_at)
        for row in db.session.scalars(_live(site_id, purpose, now))
    ]


def rotate_secret(
    site_key: str, purpose: str, actor: str | None, now: datetime, overlap_hours: int
) -> str:
    """Make the site's new ``purpose`` secret and return it (to be shown once). The secrets in
    use keep signing for ``overlap_hours`` (0: they stop now). NotFound for an unknown site;
    Invalid (naming ``overlap_hours``) for an overlap outside 0 to 720 hours."""
    if not 0 <= overlap_hours <= MAX_OVERLAP_HOURS:
        raise Invalid(
            f"The overlap must be 0 to {MAX_OVERLAP_HOURS} hours.",
            {"overlap_hours": [f"Enter 0 to {MAX_OVERLAP_HOURS} hours."]},
        )
    secret = (
        generate_signing_secret()
        if purpose == INBOUND
        else IDENTITY_PREFIX + secrets.token_urlsafe(32)
    )

    def work() -> None:
        site_id = db.session.scalar(select(Site.id).where(Site.key == site_key))
        if site_id is None:
            raise NotFound(f'No site "{site_key}".')
        until = now + timedelta(hours=overlap_hours)
        for row in db.session.scalars(_live(site_id, purpose, until)):
            row.expires_at = until
        db.session.add(
            SiteSecret(
                site_id=site_id, purpose=purpose, secret=secret, created_at=now, created_by=actor
            )
        )

    commit_unit(work)
    return secret
