"""Retention: what a site keeps only for a while, removed once a day.

Two per-site settings (null: keep forever). ``anonymous_retention_days``: anonymous contacts that
never submitted anything and have been idle that long go, through the same erasure a data-subject
request uses (so receivers that got them are told). ``delivery_retention_days``: the webhook
delivery log (delivered and dead deliveries, their attempts, and the stored events no delivery
needs any more) older than that goes. Pending deliveries are never touched.

The delivery worker runs ``run_due`` (each site at most once a day, claimed in the database so
that several workers never run the same site twice); ``trickle retention run`` runs it at once.
Work is done in batches, each committed on its own, so a large backlog never holds one long
transaction and an interrupted run keeps what it removed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)

from app.extensions import db
from app.models import (
    Contact,
    Delivery,
    DeliveryAttempt,
    EngagementEvent,
    OutboxEvent,
    Site,
    Submission,
    Visitor,
)
from app.models.delivery import DEAD, DELIVERED
from app.services.privacy.erasure import RETENTION, erase_contacts
from app.services.siteconfig import SiteSnapshot, site_snapshot
from app.services.transactions import commit_unit

log = logging.getLogger("trickle.retention")

BATCH = 500
EVERY = timedelta(hours=24)
FINISHED = (DELIVERED, DEAD)


@dataclass
class RetentionReport:
    """What one run removed from one site."""

    site: str
    anonymous_retention_days: int | None = None
    delivery_retention_days: int | None = None
    contacts: int = 0  # anonymous contacts
    deliveries: int = 0
    attempts: int = 0
    webhook_events: int = 0
    # Every row removed with the contacts, by table (their events, visitors, ...).
    contact_rows: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for logs and the command, e.g. ``acme: 12 anonymous contacts, ... removed``."""
        if self.anonymous_retention_days is None and self.delivery_retention_days is None:
            return f"{self.site}: no retention set, nothing removed"
        counts = (
            _count(self.contacts, "anonymous contact"),
            _count(self.deliveries, "delivery", "deliveries"),
            _count(self.attempts, "attempt"),
            _count(self.webhook_events, "webhook event"),
        )
        return f"{self.site}: {', '.join(counts)} removed"


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def run_retention(site_key: str, now: datetime) -> RetentionReport:
    """Apply ``site_key``'s retention now, whenever it last ran; NotFound for an unknown site.

    It records the run (``retention_ran_at``), so the daily job counts its day from now.
    """
    site = site_snapshot(site_key)
    db.session.execute(update(Site).where(Site.id == site.id).values(retention_ran_at=now))
    db.session.commit()
    return _run(site, now)


def run_sites(now: datetime, site_key: str | None = None) -> list[RetentionReport]:
    """``run_retention`` for ``site_key``, or for every site in key order (the command)."""
    if site_key is not None:
        return [run_retention(site_key, now)]
    keys = list(db.session.scalars(select(Site.key).order_by(Site.key)))
    return [run_retention(key, now) for key in keys]


def run_due(now: datetime) -> list[RetentionReport]:
    """Apply retention to every site that has some and did not run in the last 24 hours.

    Each site is claimed first with a conditional update of ``retention_ran_at``: of several
    workers, only the one whose update changed the row runs it. A site that fails is logged and
    left until the next day; the other sites still run.
    """
    due = or_(Site.retention_ran_at.is_(None), Site.retention_ran_at <= now - EVERY)
    keeps_everything = and_(
        Site.anonymous_retention_days.is_(None), Site.delivery_retention_days.is_(None)
    )
    keys = list(
        db.session.scalars(select(Site.key).where(due, ~keeps_everything).order_by(Site.key))
    )
    db.session.commit()
    reports = []
    for key in keys:
        if not _claim(key, due, now):
            continue  # another worker took it
        try:
            reports.append(_run(site_snapshot(key), now))
        except Exception:
            db.session.rollback()
            log.exception("retention %s failed; it runs again tomorrow", key)
    return reports


def _claim(site_key: str, due: ColumnElement[bool], now: datetime) -> bool:
    """Mark the site as run now if it is still due; False when another worker was first."""
    claim = update(Site).where(Site.key == site_key, due).values(retention_ran_at=now)
    claimed: Any = db.session.execute(claim.execution_options(synchronize_session=False))
    db.session.commit()
    return bool(claimed.rowcount == 1)


def _run(site: SiteSnapshot, now: datetime) -> RetentionReport:
    anonymous_days, delivery_days = db.session.execute(
        select(Site.anonymous_retention_days, Site.delivery_retention_days).where(
            Site.id == site.id
        )
    ).one()
    db.session.commit()
    report = RetentionReport(site.key, anonymous_days, delivery_days)
    if anonymous_days is not None:
        cutoff = now - timedelta(days=anonymous_days)
        report.contact_rows = _in_batches(partial(_anonymous_batch, site, cutoff, now))
        report.contacts = report.contact_rows.get("contacts", 0)
    if delivery_days is not None:
        cutoff = now - timedelta(days=delivery_days)
        log_rows = _in_batches(partial(_delivery_batch, site.id, cutoff))
        log_rows |= _in_batches(partial(_event_batch, site.id, cutoff))
        report.deliveries = log_rows.get("deliveries", 0)
        report.attempts = log_rows.get("attempts", 0)
        report.webhook_events = log_rows.get("webhook_events", 0)
    log.info("retention %s", report.summary())
    return report


Batch = Callable[[int], tuple[int | None, dict[str, int]]]


def _in_batches(work: Batch) -> dict[str, int]:
    """Run ``work`` on the rows after the last id it saw, each batch its own committed unit,
    until it finds none; the counts summed. Paging by id ends even when a batch spares rows."""
    totals: dict[str, int] = {}
    after: int | None = 0
    while after is not None:
        after, counts = commit_unit(partial(work, after))
        for table, count in counts.items():
            totals[table] = totals.get(table, 0) + count
    return totals


def _idle_anonymous(site_id: int, cutoff: datetime) -> Select[tuple[int]]:
    """Anonymous contacts that never submitted and show no sign of life since ``cutoff``."""
    return select(Contact.id).where(
        Contact.site_id == site_id,
        Contact.email.is_(None),
        Contact.created_at < cutoff,
        Contact.updated_at < cutoff,
        ~exists().where(Submission.contact_id == Contact.id),
        ~exists().where(Visitor.contact_id == Contact.id, Visitor.last_seen_at >= cutoff),
        ~exists().where(
            EngagementEvent.contact_id == Contact.id, EngagementEvent.occurred_at >= cutoff
        ),
    )


def _anonymous_batch(
    site: SiteSnapshot, cutoff: datetime, now: datetime, after: int
) -> tuple[int | None, dict[str, int]]:
    """Erase the next batch of idle anonymous contacts; rows removed by table."""
    query = _idle_anonymous(site.id, cutoff)
    ids = list(
        db.session.scalars(query.where(Contact.id > after).order_by(Contact.id).limit(BATCH))
    )
    if not ids:
        return None, {}
    # Lock their browsers (as a submit or an event does first), then look again: a contact
    # whose browser came back meanwhile is spared.
    db.session.execute(
        select(Visitor.id).where(Visitor.contact_id.in_(ids)).order_by(Visitor.id).with_for_update()
    )
    idle = list(db.session.scalars(query.where(Contact.id.in_(ids))))
    erased = erase_contacts(site, idle, reason=RETENTION, requested_by=None, now=now)
    return ids[-1], erased.removed


def _delivery_batch(
    site_id: int, cutoff: datetime, after: int
) -> tuple[int | None, dict[str, int]]:
    """Delete the next batch of finished deliveries older than ``cutoff``, with their attempts
    (counted, so not left to the foreign key's cascade)."""
    ids = list(
        db.session.scalars(
            select(Delivery.id)
            .where(
                Delivery.site_id == site_id,
                Delivery.status.in_(FINISHED),
                # Its age counts from when it finished: a dead letter stays replayable for
                # the whole window, however long its retries took.
                func.coalesce(Delivery.delivered_at, Delivery.dead_at, Delivery.created_at)
                < cutoff,
                Delivery.id > after,
            )
            .order_by(Delivery.id)
            .limit(BATCH)
            .with_for_update()
        )
    )
    if not ids:
        return None, {}
    # Locked, so a replay waits; the status is checked again for engines that do not lock.
    finished = select(Delivery.id).where(Delivery.id.in_(ids), Delivery.status.in_(FINISHED))
    attempts = _delete(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(finished)))
    removed = _delete(delete(Delivery).where(Delivery.id.in_(ids), Delivery.status.in_(FINISHED)))
    return ids[-1], {"deliveries": removed, "attempts": attempts}


def _event_batch(site_id: int, cutoff: datetime, after: int) -> tuple[int | None, dict[str, int]]:
    """Delete the next batch of stored webhook events older than ``cutoff`` that no delivery
    points at any more."""
    unused = ~exists().where(Delivery.outbox_event_id == OutboxEvent.id)
    ids = list(
        db.session.scalars(
            select(OutboxEvent.id)
            .where(
                OutboxEvent.site_id == site_id,
                OutboxEvent.created_at < cutoff,
                OutboxEvent.id > after,
                unused,
            )
            .order_by(OutboxEvent.id)
            .limit(BATCH)
            .with_for_update(of=OutboxEvent)
        )
    )
    if not ids:
        return None, {}
    # A delivery queued meanwhile (a replay) keeps its event.
    removed = _delete(delete(OutboxEvent).where(OutboxEvent.id.in_(ids), unused))
    return ids[-1], {"webhook_events": removed}


def _delete(statement: Any) -> int:
    result: Any = db.session.execute(statement.execution_options(synchronize_session=False))
    return int(result.rowcount)
