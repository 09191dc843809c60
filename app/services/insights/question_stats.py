"""Question counters: how often each question was shown, answered and skipped, per form and day.

Counted in memory and flushed in batches (``app.services.counters``): each process keeps a tally
``{(site_id, field_id, form_key, day): [shown, answered, skipped]}`` and adds it to
``question_stats`` now and then, before the dashboard reads the counters, and at exit.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime

from app.models import Field, QuestionStat
from app.services.counters import DailyCounters, Tally
from app.services.siteconfig import SiteSnapshot

ANSWERED_ASKS_KEPT = 50_000  # ask tokens remembered per process (16 bytes each)


class QuestionTally(Tally):
    """A tally that also remembers which ask tokens' answers it counted."""

    def __init__(self, started: datetime, size: int) -> None:
        super().__init__(started, size)
        self._asks_lock = threading.Lock()
        # Digests of the ask tokens whose answers were counted, newest last (bounded).
        self._answered_asks: OrderedDict[bytes, None] = OrderedDict()

    def first_answer(self, ask_token: str) -> bool:
        """True the first time this process sees a submit for ``ask_token``: an ask token may
        be answered again (a double click with a new idempotency key, a script), but its
        questions were shown once, so their answers count once."""
        digest = hashlib.sha256(ask_token.encode("utf-8", "surrogatepass")).digest()[:16]
        with self._asks_lock:
            if digest in self._answered_asks:
                return False
            self._answered_asks[digest] = None
            if len(self._answered_asks) > ANSWERED_ASKS_KEPT:
                self._answered_asks.popitem(last=False)
            return True


QUESTION_COUNTERS = DailyCounters(
    name="question_stats",
    what="question counters",
    table=QuestionStat.__table__,
    keys=("site_id", "field_id", "form_key", "day"),
    unique=("field_id", "form_key", "day"),
    counters=("shown", "answered", "skipped"),
    owned_by="field_id",
    owner=Field.id,
    tally_class=QuestionTally,
)


def question_tally(now: datetime | None = None) -> QuestionTally:
    """This app's question tally, created on first use."""
    tally = QUESTION_COUNTERS.tally(now)
    assert isinstance(tally, QuestionTally)
    return tally


def flush() -> int:
    """Add the question tallies to ``question_stats``; return how many rows it touched."""
    return QUESTION_COUNTERS.flush()


def count_shown(site: SiteSnapshot, form_key: str, field_ids: Iterable[int], now: datetime) -> None:
    """Count the questions one ask returned as shown once each."""
    tally = question_tally(now)
    _add(tally, site, form_key, now, shown=field_ids)
    QUESTION_COUNTERS.flush_when_due(tally, now)


def count_answers(
    site: SiteSnapshot,
    form_key: str,
    answered_field_ids: Iterable[int],
    skipped_field_ids: Iterable[int],
    now: datetime,
    ask_token: str,
    shown_field_ids: Iterable[int] = (),
) -> None:
    """Count one stored submit: its non-blank answers as answered, its skips as skipped, the
    questions granted conditioned that it showed as shown (the ask did not count them);
    nothing for a second submit of the same ask token (see ``QuestionTally.first_answer``)."""
    tally = question_tally(now)
    if not tally.first_answer(ask_token):
        return
    _add(
        tally,
        site,
        form_key,
        now,
        shown=shown_field_ids,
        answered=answered_field_ids,
        skipped=skipped_field_ids,
    )
    QUESTION_COUNTERS.flush_when_due(tally, now)


def _add(
    tally: Tally,
    site: SiteSnapshot,
    form_key: str,
    now: datetime,
    **field_ids: Iterable[int],
) -> None:
    """Count each field id once under its counter, on the UTC day of ``now``."""
    day = now.astimezone(UTC).date()
    for counter, name in enumerate(QUESTION_COUNTERS.counters):
        ids = field_ids.get(name, ())
        tally.add(((site.id, field_id, form_key, day) for field_id in ids), counter)
