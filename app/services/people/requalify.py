"""Re-qualifying a site's contacts after its definition changed (issue 21, docs/sales.md).

An applied change of the definition marks the site (``siteconfig`` sets ``requalify_version``
in the change's transaction); the worker then judges every contact of the site by the rules
now in force, in batches by contact id, each batch its own committed unit: moves forward are
recorded with the new rule and forwarded (``contact.stage_changed``), a contact that crosses
the hand-off stage is handed off, nobody moves back, and a recycled contact still waits for its
``requalify_score``. The site row holds how far it got (the console and ``trickle config
requalify`` show it); a second change while one runs starts it over for the new version.

Contacts created after it began are not in it (``requalify_upto``): their own writes judged
them by the new rules already. Each batch locks the site row (``FOR NO KEY UPDATE``: a
concurrent import waits for the batch, new rows of the site do not) and the batch's contacts
as an event locks them; a second worker skips a site whose batch is running, so no contact is
judged twice for one version.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import func, select

from app.clock import current_time
from app.domain.wording import count_text
from app.extensions import db
from app.models import Contact, Site
from app.services.errors import NotFound
from app.services.people.qualification import qualify
from app.services.siteconfig import SiteSnapshot, request_requalification, site_snapshot
from app.services.transactions import commit_unit

# Contacts judged per committed unit (the worker's setting ``REQUALIFY_BATCH``).
REQUALIFY_BATCH = 500

_TO_DO = Site.requalify_version.is_not(None) & Site.requalify_finished_at.is_(None)


@dataclass(frozen=True)
class Requalification:
    """How far a site's re-qualification got: for config ``version``, ``done`` of ``total``
    contacts judged (None before it began), ``moved`` of them moved forward."""

    site: str
    version: int
    total: int | None
    done: int
    moved: int
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def running(self) -> bool:
        return self.finished_at is None

    @property
    def summary(self) -> str:
        """Where it stands, in words (the console adds when it finished)."""
        version = self.version
        if self.total is None:
            return f"Re-qualification for version {version} is queued: the worker starts it soon."
        done, total, moved = count_text(self.done), count_text(self.total), self.moved
        if self.running:
            return f"Re-qualifying contacts for version {version}: {done} of {total}"
        noun = "contact" if moved == 1 else "contacts"
        return f"Re-qualified for version {version}: {count_text(moved)} {noun} moved of {done}"


def _progress(row: Site) -> Requalification:
    return Requalification(
        row.key,
        row.requalify_version or 0,
        row.requalify_total,
        row.requalify_done,
        row.requalify_moved,
        row.requalify_started_at,
        row.requalify_finished_at,
    )


def requalification_status(site_key: str) -> Requalification | None:
    """The site's latest re-qualification (running or done); None when it never had one.
    NotFound for an unknown site."""
    row = db.session.scalar(select(Site).where(Site.key == site_key))
    if row is None:
        raise NotFound(f'No site "{site_key}".')
    return _progress(row) if row.requalify_version is not None else None


def requalify_batch(
    site_id: int, size: int, now: datetime, *, skip_locked: bool = True
) -> Requalification | None:
    """Judge the site's next ``size`` contacts again, in the caller's unit, and record the
    progress. None when the site has nothing to do, or (``skip_locked``) another worker is
    running a batch of it."""
    row = db.session.scalar(
        select(Site)
        .where(Site.id == site_id, _TO_DO)
        .with_for_update(key_share=True, skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )
    if row is None:
        return None
    site = site_snapshot(row.key)
    if row.requalify_cursor is None:
        _begin(row, now)
    contacts = _next_contacts(site, row.requalify_cursor or 0, row.requalify_upto or 0, size)
    for contact in contacts:
        if qualify(site, contact, now) is not None:
            row.requalify_moved += 1
    row.requalify_done += len(contacts)
    if contacts:
        row.requalify_cursor = contacts[-1].id
    if len(contacts) < size or (row.requalify_cursor or 0) >= (row.requalify_upto or 0):
        row.requalify_finished_at = now
    return _progress(row)


def _begin(row: Site, now: datetime) -> None:
    """Fix what the run covers: the contacts there are now, up to the newest."""
    upto, total = db.session.execute(
        select(func.coalesce(func.max(Contact.id), 0), func.count(Contact.id)).where(
            Contact.site_id == row.id
        )
    ).one()
    row.requalify_cursor = 0
    row.requalify_upto = upto
    row.requalify_total = total
    row.requalify_started_at = now


def _next_contacts(site: SiteSnapshot, after: int, upto: int, size: int) -> list[Contact]:
    """The next contacts by id, locked as an event locks its contact and loaded fresh."""
    return list(
        db.session.scalars(
            select(Contact)
            .where(Contact.site_id == site.id, Contact.id > after, Contact.id <= upto)
            .order_by(Contact.id)
            .limit(size)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    )


def requalify_due_sites(now: datetime, size: int = REQUALIFY_BATCH) -> list[Requalification]:
    """One batch of every site with a re-qualification to do (the worker's turn), each batch
    its own committed unit; what each got to. A site another worker is running is skipped."""
    ids = db.session.scalars(select(Site.id).where(_TO_DO).order_by(Site.id)).all()
    db.session.commit()
    done = (commit_unit(partial(requalify_batch, site_id, size, now)) for site_id in ids)
    return [progress for progress in done if progress is not None]


def requalify_site(site_key: str, size: int = REQUALIFY_BATCH) -> Iterator[Requalification]:
    """Re-qualify ``site_key`` now, to the end, yielding the progress after each batch
    (``trickle config requalify``): the one to do or running goes on (a batch a worker is
    running is waited for, not skipped); with none, one starts for the current version.
    NotFound for an unknown site."""
    request_requalification(site_key)
    site_id = db.session.scalar(select(Site.id).where(Site.key == site_key))
    while True:
        batch = partial(requalify_batch, site_id, size, current_time(), skip_locked=False)
        progress = commit_unit(batch)
        if progress is None:  # a worker ran the last batch meanwhile
            return
        yield progress
        if not progress.running:
            return
