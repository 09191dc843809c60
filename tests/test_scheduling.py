"""The parallel run's order (tests/scheduling.py): long tests at the head of each worker's
chunk, every test still run once, and the list of long tests naming tests that exist."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from tests.scheduling import LONG, long_tests_first

ROOT = Path(__file__).resolve().parents[1]
A, B, C = sorted(LONG)[:3]


class Item:
    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid


def ids(items: list[pytest.Item]) -> list[str]:
    return [item.nodeid for item in items]


def test_each_chunk_starts_with_its_share_of_the_long_tests():
    items = [Item(f"tests/t.py::t{n}") for n in range(7)]
    items[2:2] = [Item(f"{A}[sqlite]"), Item(f"{A}[postgres]")]
    items.append(Item(C))
    items.insert(0, Item(B))
    ordered = long_tests_first(cast(list[pytest.Item], items), 3)
    # 11 tests: xdist hands out chunks of 3, 4 and 4; the long ones (B, A, A, C as collected)
    # go round the chunks.
    assert ids(ordered) == [
        B, C, "tests/t.py::t0",
        f"{A}[sqlite]", "tests/t.py::t1", "tests/t.py::t2", "tests/t.py::t3",
        f"{A}[postgres]", "tests/t.py::t4", "tests/t.py::t5", "tests/t.py::t6",
    ]  # fmt: skip


def test_more_long_tests_than_a_chunk_holds_keeps_every_test_once():
    items = [Item(f"{A}[{n}]") for n in range(6)] + [Item("tests/t.py::t0")]
    ordered = long_tests_first(cast(list[pytest.Item], items), 3)
    assert sorted(ids(ordered)) == sorted(ids(cast(list[pytest.Item], items)))
    assert ids(ordered)[:2] == [f"{A}[0]", f"{A}[3]"]


def test_one_worker_or_no_long_test_keeps_the_order():
    items = cast(list[pytest.Item], [Item(A), Item("tests/t.py::t0")])
    assert ids(long_tests_first(items, 1)) == [A, "tests/t.py::t0"]
    plain = cast(list[pytest.Item], [Item("tests/t.py::t1"), Item("tests/t.py::t0")])
    assert ids(long_tests_first(plain, 3)) == ["tests/t.py::t1", "tests/t.py::t0"]


@pytest.mark.parametrize("name", sorted(LONG))
def test_every_long_test_named_exists(name):
    path, function = name.split("::")
    assert f"def {function}(" in (ROOT / path).read_text()
