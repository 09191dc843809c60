"""The dashboard's charts as data: each a frozen dataclass with the ``title``, ``columns`` and
``rows`` its table view and CSV show, and the series its SVG draws."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

# (lower bound, label): a score falls in the last bucket whose bound it reaches.
SCORE_BUCKETS: tuple[tuple[float, str], ...] = (
    (0, "under 1"),
    (1, "1 to under 5"),
    (5, "5 to under 10"),
    (10, "10 to under 15"),
    (15, "15 to under 20"),
    (20, "20 to under 30"),
    (30, "30 to under 50"),
    (50, "50 and over"),
)


class TierRow(NamedTuple):
    label: str
    fields: int
    filled_percent: float | None  # share of the tier's (contact, field) slots known
    complete: int  # contacts who know every field of the tier
    complete_percent: float | None


@dataclass(frozen=True)
class CompletenessChart:
    title: str
    columns: tuple[str, ...]
    rows: tuple[TierRow, ...]
    contacts: int


class QuestionRow(NamedTuple):
    form_key: str
    label: str
    field_key: str
    shown: int
    answered: int
    skipped: int
    answer_rate: float | None  # answered / shown in percent; None when never shown


@dataclass(frozen=True)
class QuestionChart:
    title: str
    columns: tuple[str, ...]
    rows: tuple[QuestionRow, ...]


class ScoreRow(NamedTuple):
    label: str
    contacts: int


@dataclass(frozen=True)
class ScoreChart:
    title: str
    columns: tuple[str, ...]
    rows: tuple[ScoreRow, ...]


@dataclass(frozen=True)
class DailySeries:
    """Named series over consecutive days (a line each)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    days: tuple[date, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]  # (name, one value per day)


@dataclass(frozen=True)
class FunnelTable:
    """One table of the funnel report. Its drawing: ``"weeks"``, a line per ``plot`` column
    over the rows' first column (a week's Monday); ``"bars"``, a bar per ``plot`` column for
    each row, labelled by its first ``labels`` columns; ``"total"``, a bar per ``plot`` column
    of the last row. Bars are scaled to the largest (``percent``: to 100)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    drawing: str
    plot: tuple[int, ...]
    percent: bool = False
    labels: int = 1


Chart = CompletenessChart | QuestionChart | ScoreChart | DailySeries
