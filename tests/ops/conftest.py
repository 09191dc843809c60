"""Operations tests: an app built with ``TRICKLE_LOG_FORMAT=json`` puts its handler on the root
logger; every test here leaves the root logger (and the app's) as it found them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    loggers = [logging.getLogger(), logging.getLogger("app")]
    saved = [(logger, list(logger.handlers), logger.level) for logger in loggers]
    yield
    for logger, handlers, level in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)


def json_lines(text: str) -> list[dict[str, object]]:
    """Every non-empty line of ``text`` as JSON (fails the test on a line that is not)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """``{(sample name, labels): value}`` of a Prometheus text exposition."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def sample(values: dict, name: str, **labels: str) -> float:
    return values.get((name, frozenset(labels.items())), 0.0)
