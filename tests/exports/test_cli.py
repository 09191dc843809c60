"""`trickle export`: the same exports to a file, with a progress bar, nothing half-written."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from app.services.exports import streams as exports
from app.services.exports import writers as export_writers
from tests.exports.support import fill


@pytest.fixture
def three(lab, client):
    for name in ("a", "b", "c"):
        fill(client, {"email": f"{name}@lab.example", "name": name.upper()})


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_writes_the_file_and_reports(runner, three, tmp_path, fmt):
    target = tmp_path / f"out.{fmt}"
    result = runner.invoke(args=["export", "lab", "--format", fmt, "-o", str(target)])
    assert result.exit_code == 0, result.stderr
    assert "Exporting" in result.stderr
    assert result.stderr.rstrip().endswith(f"Wrote 3 contacts to {target}.")
    data = target.read_bytes()
    frame = {
        "csv": lambda: pd.read_csv(io.BytesIO(data)),
        "jsonl": lambda: pd.read_json(io.BytesIO(data), lines=True),
        "parquet": lambda: pd.read_parquet(io.BytesIO(data)),
    }[fmt]()
    assert frame["name"].tolist() == ["A", "B", "C"]
    assert list(tmp_path.iterdir()) == [target]


def test_filters_and_history(runner, three, tmp_path):
    target = tmp_path / "h.jsonl"
    result = runner.invoke(
        args=[
            "export",
            "lab",
            "--history",
            "--format",
            "jsonl",
            "--field",
            "name",
            "-o",
            str(target),
        ]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr.rstrip().endswith(f"Wrote 3 history rows to {target}.")
    assert pd.read_json(target, lines=True)["value"].tolist() == ["A", "B", "C"]
    target = tmp_path / "c.csv"
    result = runner.invoke(
        args=["export", "lab", "--min-completeness", "25", "--provenance", "-o", str(target)]
    )
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(target)
    assert frame["name__source"].tolist() == ["signup"] * 3


def test_stdout(runner, three):
    result = runner.invoke(args=["export", "lab", "--format", "jsonl", "-o", "-"])
    assert result.exit_code == 0
    assert pd.read_json(io.StringIO(result.stdout), lines=True)["email"].tolist() == [
        "a@lab.example",
        "b@lab.example",
        "c@lab.example",
    ]


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["export", "nosuch"], 'error: No site "nosuch".', 1),
        (["export", "lab", "--stage", "vip"], 'error: stage: Unknown lifecycle stage "vip"', 1),
        (["export", "lab", "--updated-since", "soon"], "error: updated_since: Give an ISO", 1),
        (["export", "lab", "--min-completeness", "200"], "error: min_completeness: Give a", 1),
        (["export", "lab", "--field", "name"], "error: --field can only be used with --history", 2),
        (
            ["export", "lab", "--history", "--stage", "mql"],
            "error: --stage can only be used with contact exports.",
            2,
        ),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(
    runner, three, tmp_path, args, message, code
):
    target = tmp_path / "out.csv"
    result = runner.invoke(args=[*args, "-o", str(target)])
    assert result.exit_code == code
    assert result.stderr.startswith(message), result.stderr
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_failure_midway_leaves_no_file_and_keeps_an_old_one(runner, three, tmp_path, monkeypatch):
    target = tmp_path / "out.csv"
    target.write_text("the previous export\n")
    monkeypatch.setattr(exports, "CHUNK", 1)
    monkeypatch.setattr(export_writers, "_FLUSH_ROWS", 1)
    real = exports.end_reads
    calls = []

    def failing():
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        real()

    monkeypatch.setattr(exports, "end_reads", failing)
    result = runner.invoke(args=["export", "lab", "-o", str(target)])
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)
    assert target.read_text() == "the previous export\n"
    assert list(tmp_path.iterdir()) == [target]
