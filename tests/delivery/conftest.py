"""Fixtures for delivery tests: a local receiver and a site whose destination points at it."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator

import pytest
from flask import Flask

from app.models import Destination, Site
from app.services.delivery import DeliveryWorker
from tests.delivery.support import destination_config
from tests.factories import make_site
from tests.receiver import Receiver


@pytest.fixture
def app_settings() -> dict[str, object]:
    # The receiver listens on 127.0.0.1; attempts end after 2 s, not 15.
    return {"ALLOW_PRIVATE_TARGETS": True, "DELIVERY_TIMEOUT_SECONDS": 2.0}


@pytest.fixture(autouse=True)
def worker_errors(caplog: pytest.LogCaptureFixture) -> Iterator[dict[str, bool]]:
    """Fail a test in which the worker logged an error (it goes on after one, so an error
    would otherwise pass unseen), unless the test sets ``worker_errors["expected"]``."""
    flags = {"expected": False}
    yield flags
    if not flags["expected"]:
        errors = [
            f"{record.getMessage()}: {record.exc_text or record.exc_info}"
            for record in caplog.get_records("call")
            if record.name == "trickle.worker" and record.levelno >= logging.ERROR
        ]
        assert errors == []


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def site(app: Flask, receiver: Receiver) -> Site:
    return make_site(destination_config(receiver.url))


@pytest.fixture
def destination(site: Site) -> Destination:
    return next(d for d in site.destinations if d.key == "crm")


@pytest.fixture
def worker(app: Flask) -> Iterator[DeliveryWorker]:
    running = DeliveryWorker(app, name="test-worker", rng=random.Random(7))
    yield running
    running.close()
