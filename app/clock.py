"""The app's one clock. Every "now" in a request, a command or the worker comes from here, so
tests move time with a fake ``CLOCK`` setting instead of sleeping."""

from __future__ import annotations

from datetime import datetime

from flask import current_app


def current_time() -> datetime:
    """The current UTC time by the app's ``CLOCK`` setting (``app.config.utc_now`` unless a
    test put a fake there). Needs an app context."""
    return current_app.config["CLOCK"]()
