"""A hand-off's service level in the sales console's words: whether sales met it, and how long
is left (docs/console.md, "The hand-off queue").

Pure: the times come in, words come out. A hand-off's clock stops at its first touch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MET, BREACHED, DUE, NO_WINDOW = "met", "breached", "due", "no window"
# The queue's order: what is late first, then what is waiting, then what was touched in time,
# then what has no window. The queue's query sorts by the same ranks.
SLA_ORDER: tuple[str, ...] = (BREACHED, DUE, MET, NO_WINDOW)


def sla_status(due_at: datetime | None, touched_at: datetime | None, now: datetime) -> str:
    """``met`` (touched by ``due_at``), ``breached`` (touched after it, or untouched past it),
    ``due`` (untouched, still in time) or ``no window`` (no ``due_at`` agreed)."""
    if due_at is None:
        return NO_WINDOW
    if touched_at is not None:
        return MET if touched_at <= due_at else BREACHED
    return BREACHED if now > due_at else DUE


@dataclass(frozen=True)
class SlaView:
    """Where one hand-off stands on its service level, as the console and the API show it."""

    status: str  # sla_status's word
    due_at: datetime | None
    touched_at: datetime | None
    left: timedelta | None  # due_at - now while untouched and due; None otherwise


def sla_view(due_at: datetime | None, touched_at: datetime | None, now: datetime) -> SlaView:
    """The hand-off's SLA at ``now``: its status, and the time left while it is due."""
    status = sla_status(due_at, touched_at, now)
    left = due_at - now if status == DUE and due_at is not None else None
    return SlaView(status, due_at, touched_at, left)


def duration_words(span: timedelta) -> str:
    """A span as a rep reads it, rounded down: "2 d 4 h", "3 h 20 min", "2 h", "under 1 min"."""
    minutes = int(abs(span).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        parts = [f"{days} d", f"{hours} h" if hours else ""]
    else:
        parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(part for part in parts if part) or "under 1 min"


def time_left_words(due_at: datetime | None, touched_at: datetime | None, now: datetime) -> str:
    """ "3 h 20 min left" or "overdue by 2 h" while untouched; "—" once touched (the clock
    stopped) or without a window."""
    if due_at is None or touched_at is not None:
        return "—"
    if now > due_at:
        return f"overdue by {duration_words(now - due_at)}"
    return f"{duration_words(due_at - now)} left"
