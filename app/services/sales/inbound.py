"""The inbound webhook's secret (docs/sales.md, "Inbound webhook"): a CRM workflow signs the
outcomes it sends with the site's ``whsec_`` secret, the Standard Webhooks way. Replacing it
keeps the old one verifying for an overlap, so the CRM can switch without a refused request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.domain.webhooks import verified
from app.extensions import db
from app.models import Site
from app.services.errors import Unauthenticated
from app.services.siteconfig import INBOUND, SecretInfo, live_secrets, rotate_secret, secrets_shown

DEFAULT_INBOUND_OVERLAP_HOURS = 24


def new_inbound_secret(
    site_key: str,
    actor: str | None,
    now: datetime,
    overlap_hours: int = DEFAULT_INBOUND_OVERLAP_HOURS,
) -> str:
    """Give the site a new inbound secret and return it: the only time it is shown. The one
    in use keeps verifying for ``overlap_hours`` (0: it stops at once). NotFound for an unknown
    site; Invalid for an overlap outside 0 to 720 hours."""
    return rotate_secret(site_key, INBOUND, actor, now, overlap_hours)


def inbound_secret_status(site_key: str, now: datetime) -> list[SecretInfo]:
    """The site's live inbound secrets as the console shows them, newest first; an unknown
    site has none."""
    site_id = db.session.scalar(select(Site.id).where(Site.key == site_key))
    return [] if site_id is None else secrets_shown(site_id, INBOUND, now)


def check_inbound_signature(
    site_key: str, message_id: str, timestamp: str, header: str, body: bytes, now: datetime
) -> None:
    """Unauthenticated unless the request is signed with one of the site's live inbound
    secrets within 5 minutes of ``now``; an unknown site is refused alike (it has none)."""
    site_id = db.session.scalar(select(Site.id).where(Site.key == site_key))
    keys = [] if site_id is None else live_secrets(site_id, INBOUND, now)
    if not any(verified(key, message_id, timestamp, header, body, now) for key in keys):
        raise Unauthenticated(
            "The webhook-id, webhook-timestamp and webhook-signature headers do not verify with "
            "the site's inbound secret (or the timestamp is more than 5 minutes off)."
        )
