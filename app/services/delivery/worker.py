"""The delivery worker: claim due deliveries, send them side by side, record each answer.

Run it with ``trickle worker``. Any number may run against PostgreSQL (claims skip each other's
rows); SQLite mode is one worker. A worker that is killed loses nothing: its leases run out and
another worker (or the same one, restarted) sends those deliveries again under the same
``webhook-id``. What it sends again is only what was in flight when it died: each answer is
recorded as soon as it comes.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import Any

from flask import Flask

from app.clock import time_by
from app.domain.webhooks import masked_url
from app.extensions import db
from app.services.accounts import purge_login_throttles
from app.services.delivery import http as webhook_http
from app.services.delivery.attempts import Claimed, claim, record_attempt, record_attempts
from app.services.delivery.http import SendResult
from app.services.people import rebuild_stale_tallies, requalify_due_sites
from app.services.privacy import RetentionReport, run_due
from app.services.sales import breach_overdue_handoffs, run_next_whatif

log = logging.getLogger("trickle.worker")
# How often an idle worker purges expired sign-in throttle rows and looks for sites due for
# retention (each runs once a day, see ``privacy.run_due``: the database claim, not this, keeps
# it to once a day).
MAINTENANCE_EVERY = timedelta(hours=1)
# How often a worker looks for sites whose engagement tallies need rebuilding (a changed weight
# or half-life, an upgrade): until then those contacts are scored from their events (slower).
TALLIES_EVERY = timedelta(seconds=10)
# How long the what-if thread waits between looks for a what-if to run, when it found none.
WHATIF_POLL_SECONDS = 2.0
# How often a worker looks for hand-offs past their due time untouched (``contact.sla_breached``):
# a breach goes out at most this long after it happened.
SLA_EVERY = timedelta(seconds=10)
# How often an idle worker looks for sites to re-qualify after a change of the definition;
# while one is running the worker goes on batch after batch, between its deliveries.
REQUALIFY_EVERY = timedelta(seconds=10)
# How long a worker, given an answer, waits for more of the batch's answers to record them in
# the same transaction. A batch sent side by side is mostly answered within a few milliseconds:
# this made one transaction of what were two or three (a commit is a round trip and a WAL
# flush), and bounds how much later than its arrival an answer is recorded.
GATHER_SECONDS = 0.005

Sender = Callable[..., SendResult]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class DeliveryWorker:
    """One worker. ``run_once`` handles one batch; ``run`` loops until ``stop`` is set."""

    def __init__(
        self,
        app: Flask,
        *,
        name: str | None = None,
        sender: Sender = webhook_http.post,
        rng: random.Random | None = None,
    ) -> None:
        self.app = app
        self.name = name or worker_name()
        self.sender = sender
        self.rng = rng
        settings = app.config
        self.batch = int(settings["DELIVERY_BATCH"])
        self.requalify_batch = int(settings["REQUALIFY_BATCH"])
        self.timeout = float(settings["DELIVERY_TIMEOUT_SECONDS"])
        self.lease = float(settings["DELIVERY_LEASE_SECONDS"])
        self.poll = float(settings["DELIVERY_POLL_SECONDS"])
        self.allow_private = bool(settings["ALLOW_PRIVATE_TARGETS"])
        self._pool = ThreadPoolExecutor(max_workers=self.batch, thread_name_prefix="send")
        self._maintained_at: datetime | None = None
        self._tallies_at: datetime | None = None
        self._sla_at: datetime | None = None
        self._requalify_at: datetime | None = None

    def now(self) -> datetime:
        return time_by(self.app)

    def run_once(self) -> int:
        """Claim one batch and send it side by side; returns how many were sent.

        Each answer is recorded as soon as it comes (together with any that came while the
        previous ones were being recorded, or within ``GATHER_SECONDS`` after it), not once the
        batch's slowest request is over: a worker killed mid-batch has recorded every answer it
        had, so only the requests still in flight go out again. Recording happens here, in the
        thread that owns the session; the sending threads never touch the database.
        """
        with self.app.app_context():
            claimed = claim(self.name, self.now(), self.batch, self.lease)
            if not claimed:
                return 0
            in_flight = {self._pool.submit(self._send, item): item for item in claimed}
            while in_flight:
                done, pending = wait(in_flight, return_when=FIRST_COMPLETED)
                if pending:  # answers that come within GATHER_SECONDS share one transaction
                    done |= wait(pending, timeout=GATHER_SECONDS, return_when=ALL_COMPLETED)[0]
                answered = sorted(
                    ((in_flight.pop(f), f.result()) for f in done), key=lambda sent: sent[0].id
                )
                self._record_all(answered)
            return len(claimed)

    def _record_all(self, sent: list[tuple[Claimed, SendResult]]) -> None:
        """Record these attempts in one transaction (one on its own each, should that fail) and
        log each one."""
        try:
            statuses = record_attempts(sent, self.name, self.now(), self.rng)
        except Exception:
            db.session.rollback()
            log.exception("recording the batch failed; recording each attempt on its own")
            statuses = [self._record(item, result) for item, result in sent]
        for (item, result), status in zip(sent, statuses, strict=True):
            log.info(
                "delivery %s %s -> %s (%s, %d ms)",
                item.message_id,
                masked_url(item.url),
                status,
                result.status if result.status is not None else result.error,
                result.duration_ms,
            )

    def run_maintenance(self) -> list[RetentionReport]:
        """Purge the sign-in throttle rows that decide nothing any more, then run the daily
        retention of the sites that are due. A failure is logged, never raised (and one does
        not stop the other): housekeeping must not stop the deliveries."""
        with self.app.app_context():
            try:
                purge_login_throttles(self.now())
            except Exception:
                db.session.rollback()
                log.exception(
                    "worker %s: sign-in throttle purge failed; trying again later", self.name
                )
            try:
                return run_due(self.now())
            except Exception:
                db.session.rollback()
                log.exception("worker %s: retention failed; trying again later", self.name)
                return []

    def maintain_if_due(self) -> None:
        """``run_maintenance`` at most once per ``MAINTENANCE_EVERY``; called every turn."""
        now = self.now()
        if self._maintained_at is not None and now - self._maintained_at < MAINTENANCE_EVERY:
            return
        self._maintained_at = now
        self.run_maintenance()

    def rebuild_tallies_if_due(self) -> None:
        """``rebuild_stale_tallies`` at most once per ``TALLIES_EVERY``; a failure is logged."""
        now = self.now()
        if self._tallies_at is not None and now - self._tallies_at < TALLIES_EVERY:
            return
        self._tallies_at = now
        with self.app.app_context():
            try:
                rebuild_stale_tallies()
            except Exception:
                db.session.rollback()
                log.exception("worker %s: rebuilding tallies failed; trying again", self.name)

    def run_whatifs(self, stop: threading.Event) -> None:
        """Run the what-ifs the console asked for, one at a time, until ``stop`` is set; a
        failure is logged and recorded on its run, never raised."""
        while not stop.is_set():
            ran = None
            with self.app.app_context():
                try:
                    ran = run_next_whatif(self.now())
                except Exception:
                    db.session.rollback()
                    log.exception("worker %s: what-if failed; trying again", self.name)
                finally:
                    db.session.remove()
            if ran is None:
                stop.wait(WHATIF_POLL_SECONDS)

    def breach_handoffs_if_due(self) -> int:
        """``breach_overdue_handoffs`` (until none is left) at most once per ``SLA_EVERY``; a
        failure is logged. Returns how many hand-offs it marked breached."""
        now = self.now()
        if self._sla_at is not None and now - self._sla_at < SLA_EVERY:
            return 0
        self._sla_at = now
        marked = 0
        with self.app.app_context():
            try:
                while (found := breach_overdue_handoffs(now)) > 0:
                    marked += found
            except Exception:
                db.session.rollback()
                log.exception("worker %s: checking hand-off SLAs failed; trying again", self.name)
        if marked:
            log.info("worker %s: %d hand-off(s) breached their SLA", self.name, marked)
        return marked

    def requalify_if_due(self) -> int:
        """One batch of every site being re-qualified (``people.requalify_due_sites``), at once
        while some are running, else at most once per ``REQUALIFY_EVERY``; a failure is logged.
        Returns how many sites it advanced (not 0: the worker goes on without waiting)."""
        now = self.now()
        if self._requalify_at is not None and now - self._requalify_at < REQUALIFY_EVERY:
            return 0
        self._requalify_at = now
        with self.app.app_context():
            try:
                advanced = requalify_due_sites(now, self.requalify_batch)
            except Exception:
                db.session.rollback()
                log.exception("worker %s: re-qualifying failed; trying again", self.name)
                return 0
        for progress in advanced:
            if progress.running:
                self._requalify_at = None  # more to do: the next turn goes on
            else:
                log.info(
                    "site %s re-qualified for version %d: %d of %d contacts moved",
                    progress.site,
                    progress.version,
                    progress.moved,
                    progress.done,
                )
        return len(advanced)

    def _record(self, item: Claimed, result: SendResult) -> str:
        """Record the attempt; should that fail (an answer the database refuses, say), record it
        again without the receiver's words, so that no answer can make a delivery unrecordable
        and sent again at every lease, forever. Only the database being down is left: then the
        lease runs out and the delivery goes out again (at-least-once)."""
        try:
            return record_attempt(item, result, self.name, self.now(), self.rng)
        except Exception as exc:
            db.session.rollback()
            log.exception("recording %s failed; recording it without the answer", item.message_id)
            bare = SendResult(
                result.status,
                result.duration_ms,
                "",
                None,
                f"the attempt could not be recorded as it was ({type(exc).__name__})",
            )
        try:
            return record_attempt(item, bare, self.name, self.now(), self.rng)
        except Exception:
            db.session.rollback()
            log.exception("recording %s failed; its lease will run out", item.message_id)
            return "unrecorded"

    def _send(self, item: Claimed) -> SendResult:
        from app.domain.webhooks import signed_request

        try:
            timestamp = int(self.now().timestamp())
            request = signed_request(item.secrets, item.message_id, timestamp, item.body)
            return self.sender(
                item.url,
                request.headers,
                request.body,
                timeout=self.timeout,
                allow_private=self.allow_private,
            )
        except Exception as exc:  # a bug in sending must not stop the worker
            log.exception("sending %s failed", item.message_id)
            return SendResult(None, 0, "", None, f"internal error: {type(exc).__name__}")

    def run(self, stop: threading.Event, idle: Callable[[], Any] | None = None) -> None:
        """Work until ``stop`` is set; between empty batches wait ``DELIVERY_POLL_SECONDS``.

        An unexpected error (the database restarting, say) is logged and retried after a pause;
        it never ends the worker.
        """
        log.info("worker %s started (batch %d, timeout %g s)", self.name, self.batch, self.timeout)
        # What-ifs replay whole sites (minutes on a large one): beside the deliveries, not in
        # their loop.
        whatifs = threading.Thread(
            target=self.run_whatifs, args=(stop,), name="whatif", daemon=True
        )
        whatifs.start()
        while not stop.is_set():
            try:
                sent = self.run_once()
            except Exception:
                log.exception("worker %s: batch failed; trying again shortly", self.name)
                sent = 0
            self.maintain_if_due()  # hourly at most, busy or not
            self.rebuild_tallies_if_due()
            self.breach_handoffs_if_due()
            requalified = self.requalify_if_due()
            if sent == 0 and requalified == 0:
                if idle is not None:
                    idle()
                stop.wait(self.poll)
        self._pool.shutdown(wait=True)
        # An idle what-if thread ends within its poll; one mid-replay is left to the process's
        # end, and its run is taken again once stale (whatif_runs.STALE).
        whatifs.join(timeout=WHATIF_POLL_SECONDS + 1)
        log.info("worker %s stopped", self.name)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
