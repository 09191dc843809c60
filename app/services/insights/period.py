"""The reports' period (the last ``days`` UTC days up to and including today), UTC days and
weeks in Python and in SQL: one reading for the dashboard's charts, its headline numbers and
the funnel report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, cast, func

from app.extensions import db


@dataclass(frozen=True)
class Period:
    """The last ``days`` UTC days up to and including today."""

    days: int
    first: date
    last: date

    @classmethod
    def ending(cls, days: int, now: datetime) -> Period:
        today = today_of(now)
        return cls(days, today - timedelta(days=days - 1), today)

    @property
    def dates(self) -> tuple[date, ...]:
        """Every day of the period, oldest first."""
        return tuple(self.first + timedelta(days=n) for n in range(self.days))

    @property
    def start(self) -> datetime:
        return day_start(self.first)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return day_start(self.last + timedelta(days=1))

    @property
    def weeks(self) -> tuple[date, ...]:
        """The Monday of every week the period touches, oldest first."""
        monday = week_of(self.first)
        return tuple(
            monday + timedelta(weeks=n) for n in range((week_of(self.last) - monday).days // 7 + 1)
        )

    def holds(self, column: Any) -> ColumnElement[bool]:
        return (column >= self.start) & (column < self.end)


def today_of(now: datetime) -> date:
    """The UTC day of ``now``."""
    return now.astimezone(UTC).date()


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def week_of(day: date | datetime) -> date:
    """The Monday (UTC) of ``day``'s week."""
    plain = day.date() if isinstance(day, datetime) else day
    return plain - timedelta(days=plain.weekday())


def utc_day(column: Any) -> ColumnElement[date]:
    """SQL: the UTC day of a datetime column, on either engine."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column, type_=Date)  # SQLite keeps UTC datetimes as naive text
