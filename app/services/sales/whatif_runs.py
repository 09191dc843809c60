"""What-ifs asked for in the console: recorded as a run, done by the worker in the background
(a replay of a large site takes minutes), the result kept for the page to show.

A request for the same site, proposal and window while one is pending or running gets that
run back: what-ifs are never doubled. A run found ``running`` for longer than ``STALE`` (its
worker died) is taken again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from app.extensions import db
from app.models import Site, WhatIfRun
from app.services.errors import Invalid, NotFound
from app.services.sales.whatif import WhatIf, simulate_definition
from app.services.transactions import commit_unit

log = logging.getLogger("trickle.whatif")
STALE = timedelta(hours=2)
MAX_DAYS = 3660
WAITING = ("pending", "running")


@dataclass(frozen=True)
class RunView:
    id: int
    status: str  # pending | running | done | failed
    days: int
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None
    result: dict[str, Any] | None  # result_data's shape, once done


def proposal_digest(proposal: Mapping[str, Any]) -> str:
    """Names a proposal: the same config gives the same digest, whatever its key order."""
    text = json.dumps(proposal, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def request_whatif(
    site_key: str, proposal: Mapping[str, Any], days: int, by: str, now: datetime
) -> int:
    """Ask for a what-if of ``proposal`` over the last ``days`` days; returns the run's id: a
    new one, or the pending or running one for the same site, proposal and window. NotFound
    for an unknown site, Invalid (naming ``days``) for a window outside 1 to 3660 days."""
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(
            f"The window must be 1 to {MAX_DAYS} days.", {"days": [f"Enter 1 to {MAX_DAYS}."]}
        )
    digest = proposal_digest(proposal)

    def work() -> int:
        # The site's row, locked: two requests at once for one site are taken one after the
        # other, so the second finds the first's run.
        site_id = db.session.scalar(select(Site.id).where(Site.key == site_key).with_for_update())
        if site_id is None:
            raise NotFound(f'No site "{site_key}".')
        waiting = db.session.scalar(
            select(WhatIfRun.id).where(
                WhatIfRun.site_id == site_id,
                WhatIfRun.digest == digest,
                WhatIfRun.days == days,
                WhatIfRun.status.in_(WAITING),
            )
        )
        if waiting is not None:
            return waiting
        run = WhatIfRun(
            site_id=site_id,
            digest=digest,
            proposal=dict(proposal),
            days=days,
            requested_by=by,
            requested_at=now,
            status="pending",
        )
        db.session.add(run)
        db.session.flush()
        return run.id

    return commit_unit(work)


def run_next_whatif(now: datetime) -> int | None:
    """Claim the oldest pending run (or a stale running one), do it and keep its result;
    returns its id, or None when there is nothing to do. A failure is recorded on the run."""

    def claim() -> tuple[int, str, dict[str, Any], int] | None:
        found = db.session.execute(
            select(WhatIfRun, Site.key)
            .join(Site, Site.id == WhatIfRun.site_id)
            .where(
                or_(
                    WhatIfRun.status == "pending",
                    (WhatIfRun.status == "running") & (WhatIfRun.started_at < now - STALE),
                )
            )
            .order_by(WhatIfRun.id)
            .limit(1)
            .with_for_update(of=WhatIfRun, skip_locked=True)
        ).first()
        if found is None:
            return None
        run, site_key = found
        run.status, run.started_at = "running", now
        return run.id, site_key, dict(run.proposal), run.days

    claimed = commit_unit(claim)
    if claimed is None:
        return None
    run_id, site_key, proposal, days = claimed
    try:
        result, status = result_data(simulate_definition(site_key, proposal, days, now)), "done"
    except Exception:
        db.session.rollback()
        log.exception("what-if %s of site %s failed", run_id, site_key)
        result, status = None, "failed"

    def finish() -> None:
        run = db.session.get(WhatIfRun, run_id, with_for_update=True)
        if run is not None:
            run.status, run.result, run.finished_at = status, result, now

    commit_unit(finish)
    return run_id


def whatif_run(site_key: str, run_id: int) -> RunView:
    """One run of the site; NotFound for another site's or an unknown one."""
    found = db.session.execute(
        select(WhatIfRun)
        .join(Site, Site.id == WhatIfRun.site_id)
        .where(Site.key == site_key, WhatIfRun.id == run_id)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No what-if {run_id} on site {site_key}.")
    return RunView(
        found.id,
        found.status,
        found.days,
        found.requested_by,
        found.requested_at,
        found.finished_at,
        found.result,
    )


def result_data(result: WhatIf) -> dict[str, Any]:
    """A what-if as JSON-ready data (kept on the run, shown by the console)."""

    def group(g: Any) -> dict[str, Any]:
        rejected = dict(sorted(g.rejected.items()))
        return {
            "handed_off": g.handed_off,
            "accepted": g.accepted,
            "won": g.won,
            "rejected": rejected,
        }

    return {
        "site": result.site,
        "start": result.start.isoformat(),
        "end": result.end.isoformat(),
        "replayed": result.replayed,
        "weeks": [[monday.isoformat(), old, new] for monday, (old, new) in result.weeks.items()],
        "current": group(result.old),
        "proposed": group(result.new),
        "entering": result.entering,
        "leaving": result.leaving,
        "entering_sample": [list(pair) for pair in result.entering_sample],
        "leaving_sample": [list(pair) for pair in result.leaving_sample],
    }
