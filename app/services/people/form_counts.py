"""Each form's views and asks per UTC day (``form_stats``), counted in memory and flushed in
batches by ``app.services.counters``: ``people`` counts a view for each of the site's forms a
counted ``page_view`` names, ``asking`` an ask that returned questions; ``insights`` reads them
(the dashboard's headlines)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from app.models import FormStat, Site
from app.services.counters import DailyCounters

VIEWS, ASKS = 0, 1  # the counters' places in a tally


FORM_COUNTERS = DailyCounters(
    name="form_stats",
    what="form counters",
    table=FormStat.__table__,
    keys=("site_id", "form_key", "day"),
    unique=("site_id", "form_key", "day"),
    counters=("views", "asks"),
    owned_by="site_id",
    owner=Site.id,
)


def count_form_views(site_id: int, form_keys: Iterable[str], now: datetime) -> None:
    """Count one page view for each of ``form_keys`` (each key once)."""
    _count(site_id, set(form_keys), VIEWS, now)


def count_form_ask(site_id: int, form_key: str, now: datetime) -> None:
    """Count one ask of ``form_key`` that returned questions."""
    _count(site_id, {form_key}, ASKS, now)


def flush_form_counts() -> int:
    """Add the form tallies to ``form_stats``; return how many rows it touched."""
    return FORM_COUNTERS.flush()


def _count(site_id: int, form_keys: set[str], counter: int, now: datetime) -> None:
    if not form_keys:
        return
    day = now.astimezone(UTC).date()
    tally = FORM_COUNTERS.tally(now)
    tally.add(((site_id, key, day) for key in sorted(form_keys)), counter)
    FORM_COUNTERS.flush_when_due(tally, now)
