"""Export writers: rows in, bytes out, a piece at a time, as CSV, JSON Lines or Parquet."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.services.csv_safety import FORMULA_STARTS, neutralise


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # int, float, text, time, bool, list: how each format writes it


_FLUSH_ROWS = 1000  # rows per chunk of bytes handed to the response (CSV, JSONL)
_PARQUET_ROWS = 10_000  # rows per Parquet row group


def iso(moment: datetime) -> str:
    """A UTC time as ISO 8601 with a Z."""
    return moment.isoformat().replace("+00:00", "Z")


_PLAIN_CELLS = frozenset({str, int, float})


def _csv_cell(value: Any) -> Any:
    """What a spreadsheet sees: text neutralised, times ISO, yes/no as true/false, lists with ;."""
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, list):
        return neutralise(";".join(str(_csv_cell(item)) for item in value))
    if isinstance(value, dict):
        return neutralise(json.dumps(value, ensure_ascii=False, sort_keys=True))
    return value


def _write_csv(columns: tuple[Column, ...], rows: Iterator[list[Any]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(c.name) for c in columns])
    pending = 0
    plain = _PLAIN_CELLS
    for row in rows:
        # The common cells (numbers, text not starting like a formula) are taken as they are;
        # everything else goes through _csv_cell.
        writer.writerow(
            [
                value
                if type(value) in plain
                and (type(value) is not str or not value.startswith(FORMULA_STARTS))
                else _csv_cell(value)
                for value in row
            ]
        )
        pending += 1
        if pending >= _FLUSH_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _write_jsonl(columns: tuple[Column, ...], rows: Iterator[list[Any]]) -> Iterator[bytes]:
    names = [c.name for c in columns]
    encode = json.JSONEncoder(
        ensure_ascii=False, separators=(",", ":"), default=_json_default
    ).encode
    lines: list[str] = []
    for row in rows:
        lines.append(encode(dict(zip(names, row, strict=True))))
        if len(lines) >= _FLUSH_ROWS:
            yield ("\n".join(lines) + "\n").encode("utf-8")
            lines.clear()
    if lines:
        yield ("\n".join(lines) + "\n").encode("utf-8")


class _Sink:
    """A write-only file for pyarrow whose bytes are taken out as they come."""

    closed = False

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def _arrow_types() -> dict[str, Any]:
    import pyarrow as pa

    return {
        "int": pa.int64(),
        "float": pa.float64(),
        "text": pa.string(),
        "time": pa.timestamp("us", tz="UTC"),
        "bool": pa.bool_(),
        "list": pa.list_(pa.string()),
        "any": pa.string(),
    }


def _parquet_cell(kind: str, value: Any) -> Any:
    """A value in its Parquet column's type; a value stored under another kind becomes null
    rather than failing the export (``any`` columns hold JSON text)."""
    if value is None:
        return None
    if kind == "any":
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if kind == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else None
    if kind == "bool":
        return value if isinstance(value, bool) else None
    if kind == "list":
        items = value if isinstance(value, list) else [value]
        return [item if isinstance(item, str) else json.dumps(item) for item in items]
    if kind == "text":
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return value


def _write_parquet(columns: tuple[Column, ...], rows: Iterator[list[Any]]) -> Iterator[bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = _arrow_types()
    schema = pa.schema([pa.field(c.name, types[c.kind]) for c in columns])
    kinds = [c.kind for c in columns]
    sink = _Sink()
    with pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd") as writer:
        batch: list[list[Any]] = [[] for _ in columns]
        pending = 0
        for row in rows:
            for values, kind, value in zip(batch, kinds, row, strict=True):
                values.append(_parquet_cell(kind, value))
            pending += 1
            if pending >= _PARQUET_ROWS:
                writer.write_batch(pa.record_batch(batch, schema=schema))
                batch = [[] for _ in columns]
                pending = 0
                yield sink.take()
        if pending:
            writer.write_batch(pa.record_batch(batch, schema=schema))
    yield sink.take()


WRITERS: dict[str, Callable[[tuple[Column, ...], Iterator[list[Any]]], Iterator[bytes]]] = {
    "csv": _write_csv,
    "jsonl": _write_jsonl,
    "parquet": _write_parquet,
}
