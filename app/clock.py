"""The app's one clock. Every "now" in a request, a command or the worker comes from here, so
tests move time with a fake ``CLOCK`` setting instead of sleeping."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app


def current_time() -> datetime:
    """The current UTC time by the app's ``CLOCK`` setting (``app.config.utc_now`` unless a
    test put a fake there). Needs an app context."""
    return time_by(current_app)


def time_by(app: Flask) -> datetime:
    """The current time by ``app``'s clock, where no app context is at hand (the worker's
    sending threads)."""
    clock = app.config["CLOCK"]
    return clock()
