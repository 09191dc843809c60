"""The order a parallel run (``pytest -n N --dist worksteal``, what ``make test`` runs) gives
its workers: the few tests that take many seconds first, spread over the workers' first chunks.

pytest-xdist's work stealing hands each worker a contiguous chunk of the collected tests and,
when one runs dry, moves the tail of the fullest queue to it. A long test that sits late in a
chunk starts late and the whole run waits on it (a half-minute test starting in the last
minute ends the run half a minute later); at the head of the chunks, the long tests run side
by side while the short ones fill in around them. Nothing else about the run changes: the same
tests, each once; a run without ``-n`` keeps pytest's order.
"""

from __future__ import annotations

import os

import pytest

# The tests that take many seconds each ("file::function", every parameter of it): measured
# with ``pytest --durations=0``; a test that grows long belongs here.
LONG = frozenset(
    {
        "tests/delivery/test_outage.py::test_a_six_hour_outage_loses_nothing",
        "tests/delivery/test_workers.py::test_four_workers_deliver_each_event_exactly_once",
        "tests/delivery/test_workers.py::test_a_killed_worker_loses_nothing",
        "tests/exports/test_bench.py::test_the_export_bench_runs_and_checks_every_format",
        "tests/people/test_tally_property.py::test_tallies_equal_the_score_from_scratch",
        "tests/api/test_fuzz.py::test_the_api_survives_fuzzing",
        "tests/e2e/test_accessibility.py::test_every_console_page_has_no_serious_violation",
        "tests/asking/test_history_bench.py::test_the_history_bench_runs_both_groups_on_current_tallies",
        "tests/asking/test_history_cost.py::test_a_request_costs_the_same_for_1_and_5000_events",
        "tests/ops/test_flood.py::test_a_flood_uses_the_site_budget_and_a_token_holder_is_still_served",
        "tests/people/test_import_bench.py::test_the_import_bench_loads_and_imports_every_row",
        "tests/sales/test_whatif_bench.py::test_the_whatif_bench_replays_every_contact",
    }
)


def _function(item: pytest.Item) -> str:
    return item.nodeid.split("[", 1)[0]


def long_tests_first(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    """``items`` reordered for ``workers`` workers: chunk k (of the sizes xdist splits the
    run into) starts with every workers-th long test from the k-th on; the others follow
    in their collected order."""
    long = [item for item in items if _function(item) in LONG]
    if workers < 2 or not long:
        return items
    rest = iter([item for item in items if _function(item) not in LONG])
    ordered: list[pytest.Item] = []
    left = len(items)
    for k in range(workers):
        size = left // (workers - k)  # xdist: what is left, shared among the nodes left
        head = long[k::workers]
        ordered += head
        ordered += [next(rest) for _ in range(max(0, size - len(head)))]
        left -= max(size, len(head))
    ordered += list(rest)
    return ordered


def worker_count() -> int:
    """The number of workers of this xdist run, as a worker sees it; 0 outside of one."""
    return int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
