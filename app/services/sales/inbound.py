"""The inbound webhook's secret (docs/sales.md, "Inbound webhook"): a CRM workflow signs the
outcomes it sends with the site's ``whsec_`` secret, the Standard Webhooks way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.domain.webhooks import verified
from app.extensions import db
from app.models import Site
from app.services.errors import NotFound, Unauthenticated
from app.services.siteconfig import generate_signing_secret
from app.services.transactions import commit_unit


def new_inbound_secret(site_key: str) -> str:
    """Give the site a new inbound secret (replacing any, which stops verifying at once) and
    return it: the only time it is shown. NotFound for an unknown site."""
    secret = generate_signing_secret()

    def work() -> None:
        site = db.session.scalar(select(Site).where(Site.key == site_key).with_for_update())
        if site is None:
            raise NotFound(f'No site "{site_key}".')
        site.inbound_secret = secret

    commit_unit(work)
    return secret


def check_inbound_signature(
    site_key: str, message_id: str, timestamp: str, header: str, body: bytes, now: datetime
) -> None:
    """Unauthenticated unless the site has an inbound secret and the request is signed with it
    within 5 minutes of ``now``; an unknown site is refused alike (it has no secret)."""
    secret = db.session.scalar(select(Site.inbound_secret).where(Site.key == site_key))
    if secret is None or not verified(secret, message_id, timestamp, header, body, now):
        raise Unauthenticated(
            "The webhook-id, webhook-timestamp and webhook-signature headers do not verify with "
            "the site's inbound secret (or the timestamp is more than 5 minutes off)."
        )
