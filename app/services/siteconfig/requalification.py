"""What an applied change of the definition sets off (issue 21): the ``definition.changed``
event for the destinations that subscribe to it, and the site marked for re-qualification.

Every applied config goes through ``import_site_config`` (the console's edits, uploads,
``trickle import-config``, approved proposals), which calls ``announce_definition_change`` in
its transaction: the revision, its event and the mark commit together or not at all. The
worker then judges the site's contacts again by the new rules (``people.requalify``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.domain.specs import iso
from app.extensions import db
from app.models import ConfigRevision, Site
from app.services.errors import NotFound
from app.services.outbox import record_outbox
from app.services.siteconfig.definition import definition_changed, definition_diff
from app.services.transactions import commit_unit

DEFINITION_CHANGED = "definition.changed"


def announce_definition_change(
    site: Site, revision: ConfigRevision, now: datetime, approved_by: str | None = None
) -> bool:
    """When ``revision`` (just recorded for ``site``) defines a qualified lead differently from
    the revision before it, record ``definition.changed`` and mark the site for
    re-qualification, in the caller's unit; True then. A site's first revision changes
    nothing (there was no definition before it, and no contact to judge again).

    ``approved_by``: who of the other team approved the change (None while the change needed
    no approval)."""
    previous = db.session.execute(
        select(ConfigRevision.version, ConfigRevision.config)
        .where(ConfigRevision.site_id == site.id, ConfigRevision.version < revision.version)
        .order_by(ConfigRevision.version.desc())
        .limit(1)
    ).first()
    if previous is None or not definition_changed(previous.config, revision.config):
        return False
    payload = {
        "site": site.key,
        "from_version": previous.version,
        "to_version": revision.version,
        "diff": definition_diff(previous.config, revision.config),
        "author": revision.author,
        "approved_by": approved_by,
        "changed_at": iso(now),
    }
    record_outbox(site.id, DEFINITION_CHANGED, None, payload, now)
    mark_for_requalification(site, revision.version)
    return True


def mark_for_requalification(site: Site, version: int) -> None:
    """Ask the worker to judge every contact of ``site`` again for config ``version``, from
    the first: one still running for an earlier version starts over (the rules it applied
    are not the ones in force any more)."""
    site.requalify_version = version
    site.requalify_cursor = None
    site.requalify_upto = None
    site.requalify_total = None
    site.requalify_done = 0
    site.requalify_moved = 0
    site.requalify_started_at = None
    site.requalify_finished_at = None


def request_requalification(site_key: str) -> int:
    """Mark ``site_key`` for re-qualification at its current config version unless one is
    already to do or running (``trickle config requalify``: after an engagement change, say);
    returns the version. NotFound for an unknown site."""

    def work() -> int:
        site = db.session.scalar(select(Site).where(Site.key == site_key).with_for_update())
        if site is None:
            raise NotFound(f'No site "{site_key}".')
        if site.requalify_version is None or site.requalify_finished_at is not None:
            mark_for_requalification(site, site.config_version)
        return site.requalify_version

    return commit_unit(work)
