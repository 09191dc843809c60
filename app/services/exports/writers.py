"""Export writers: rows in, bytes out, a piece at a time, as CSV, JSON Lines or Parquet."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from types import NoneType
from typing import Any

from app.domain.specs import iso
from app.services.exports.csv_safety import FORMULA_STARTS, neutralise


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # int, float, text, time, bool, list: how each format writes it


# Arrow (Parquet) allocates through the system allocator: its default, mimalloc, keeps what it
# once had, 15-30 MB more at an export's peak. Read when Arrow first allocates, so set before
# pyarrow is used; an operator's own ARROW_DEFAULT_MEMORY_POOL wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

_FLUSH_ROWS = 1000  # rows per chunk of bytes handed to the response (CSV, JSONL)
_PARQUET_ROWS = 20_000  # rows per Parquet row group (converted to Arrow _FLUSH_ROWS at a time)


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


# The cell types text and number columns write as they are (anything else makes its row take
# the careful path, cell by cell); text cells are also checked for a formula start.
_TEXT_TYPES = frozenset({str, NoneType})
_NUMBER_TYPES = frozenset({int, float, NoneType})
_CONVERTED = frozenset({"bool", "list", "any"})  # always through _csv_cell
_FORMULA_FIRSTS = frozenset(FORMULA_STARTS)
_first = itemgetter(0)


def _getter(positions: list[int]) -> Callable[[list[Any]], tuple[Any, ...]]:
    """The cells at ``positions`` of a row, as a tuple (C speed)."""
    if not positions:
        return lambda row: ()
    if len(positions) == 1:
        only = positions[0]
        return lambda row: (row[only],)
    return itemgetter(*positions)


def _write_csv(columns: tuple[Column, ...], rows: Iterator[list[Any]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(c.name) for c in columns])
    kinds = [c.kind for c in columns]
    texts = _getter([n for n, k in enumerate(kinds) if k == "text"])
    numbers = _getter([n for n, k in enumerate(kinds) if k in ("int", "float")])
    converted = [n for n, k in enumerate(kinds) if k in _CONVERTED]
    # Text columns whose cells have started like a formula (a phone's "+") are neutralised
    # cell by cell; the others are checked a row at a time. Time cells are the database's ISO
    # text (or None): written as they are.
    cold = [n for n, k in enumerate(kinds) if k == "text"]
    hot: list[int] = []
    cold_texts = _getter(cold)
    text_types, number_types = _TEXT_TYPES, _NUMBER_TYPES
    formula_firsts, first, starts = _FORMULA_FIRSTS, _first, FORMULA_STARTS
    pending = 0
    for row in rows:
        # Checked at C speed: the text and number cells are what their columns hold, and no
        # text starts like a formula; yes/no and list cells take a Python step each. A row
        # holding anything unexpected goes through _csv_cell cell by cell.
        text = texts(row)
        if set(map(type, text)) <= text_types and set(map(type, numbers(row))) <= number_types:
            for n in hot:
                value = row[n]
                if value and value.startswith(starts):
                    row[n] = "'" + value
            if not formula_firsts.isdisjoint(map(first, filter(None, cold_texts(row)))):
                for n in cold:
                    value = row[n]
                    if value and value.startswith(starts):
                        row[n] = "'" + value
                        hot.append(n)
                cold = [n for n in cold if n not in hot]
                cold_texts = _getter(cold)
            for n in converted:
                row[n] = _csv_cell(row[n])
        else:
            row = [_csv_cell(value) for value in row]
        writer.writerow(row)
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


def _json_lines(columns: tuple[Column, ...]) -> Callable[[list[list[Any]]], bytes]:
    """Rows to JSON Lines (UTF-8): one object per row, keyed by column name."""
    names = [c.name for c in columns]
    encode = json.JSONEncoder(
        ensure_ascii=False, separators=(",", ":"), default=_json_default
    ).encode

    def lines(rows: list[list[Any]]) -> bytes:
        return "".join([encode(dict(zip(names, row, strict=True))) + "\n" for row in rows]).encode()

    return lines


def _write_jsonl(columns: tuple[Column, ...], rows: Iterator[list[Any]]) -> Iterator[bytes]:
    lines = _json_lines(columns)
    pending: list[list[Any]] = []
    for row in rows:
        pending.append(row)
        if len(pending) >= _FLUSH_ROWS:
            yield lines(pending)
            pending = []
    yield lines(pending)


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
    if kind == "time":
        return iso(value) if isinstance(value, datetime) else value
    return value


def _write_parquet(columns: tuple[Column, ...], rows: Iterator[list[Any]]) -> Iterator[bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = _arrow_types()
    schema = pa.schema([pa.field(c.name, types[c.kind]) for c in columns])
    kinds = [c.kind for c in columns]
    lines = _json_lines(columns)
    sink = _Sink()

    def table(rows: list[list[Any]]) -> Any:
        # A row group goes through JSON Lines and Arrow's JSON reader (C++, told the schema):
        # fast, and without pa.array, which imports pandas where it is installed (50 MB).
        # The reader refuses a cell its column cannot hold (it converts nothing silently);
        # the group is then converted cell by cell with _parquet_cell, and read again.
        try:
            return _arrow_table(lines(rows), schema)
        except pa.ArrowInvalid:
            cells = [[_parquet_cell(k, v) for k, v in zip(kinds, row, strict=True)] for row in rows]
            return _arrow_table(lines(cells), schema)

    with pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd") as writer:
        # Rows become Arrow (compact, columnar) a few at a time; a row group is written when
        # enough have gathered: Python holds a thousand rows, not a row group's worth.
        pending: list[list[Any]] = []
        group: list[Any] = []
        gathered = 0
        for row in rows:
            pending.append(row)
            if len(pending) >= _FLUSH_ROWS:
                group.append(table(pending))
                gathered += len(pending)
                pending = []
            if gathered >= _PARQUET_ROWS:
                writer.write_table(pa.concat_tables(group), row_group_size=gathered)
                group, gathered = [], 0
                yield sink.take()
        if pending:
            group.append(table(pending))
            gathered += len(pending)
        if group:
            writer.write_table(pa.concat_tables(group), row_group_size=gathered)
    yield sink.take()


def _arrow_table(data: bytes, schema: Any) -> Any:
    import pyarrow as pa
    import pyarrow.json as pj

    read = pj.ReadOptions(use_threads=False, block_size=max(len(data), 1 << 20))
    parse = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
    return pj.read_json(pa.BufferReader(data), read_options=read, parse_options=parse)


WRITERS: dict[str, Callable[[tuple[Column, ...], Iterator[list[Any]]], Iterator[bytes]]] = {
    "csv": _write_csv,
    "jsonl": _write_jsonl,
    "parquet": _write_parquet,
}
