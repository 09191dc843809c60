"""Reading what operations endpoints write: JSON log lines and Prometheus expositions."""

from __future__ import annotations

import json

from prometheus_client.parser import text_string_to_metric_families


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
