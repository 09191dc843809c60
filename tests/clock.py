"""The fake clock tests move instead of sleeping (the ``clock`` fixture is one)."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    """The app's clock, moved by tests instead of sleeping."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
