"""`trickle import contacts`: what the CRM knows, from a CSV, JSON Lines or Parquet file.

The file is read twice: once to count its rows and check its columns (an unknown column
refuses the file before anything is written), then in batches, each checked and written all
or nothing; a batch with a bad row is reported row by row and not written, the others are.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import click

from app.cli.errors import exit_on_refusal, fail
from app.clock import current_time

import_group = click.Group("import", help="Bring in what another system knows.")

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


class BadFile(Exception):
    """A file that cannot be read as its format."""


def read_rows(path: Path, kind: str) -> Iterator[dict[str, Any]]:
    """The file's rows as dicts by header, in order."""
    if kind == "csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            yield from csv.DictReader(handle)
    elif kind == "jsonl":
        yield from _json_lines(path)
    else:
        yield from _parquet(path)


def _json_lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate((line for line in handle if line.strip()), start=1):
            try:
                row = json.loads(line)
            except ValueError:
                raise BadFile(f"row {number}: not valid JSON.") from None
            if not isinstance(row, dict):
                raise BadFile(f"row {number}: not a JSON object.")
            yield row


def _parquet(path: Path) -> Iterator[dict[str, Any]]:
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise BadFile("Reading Parquet needs pyarrow: pip install pyarrow.") from None
    for batch in parquet.ParquetFile(path).iter_batches():
        yield from batch.to_pylist()


def column_map(pairs: tuple[str, ...], map_file: Path | None) -> dict[str, str | None]:
    """Header → field key, from ``--map-file`` (YAML; a null key ignores the column) and then
    ``--map header=key`` (the flag wins)."""
    mapped: dict[str, str | None] = {}
    if map_file is not None:
        import yaml

        loaded = yaml.safe_load(map_file.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict) or not all(
            isinstance(v, str | None) for v in loaded.values()
        ):
            fail(f"{map_file}: a map of column headers to field keys is expected.")
        mapped.update({str(header): key for header, key in loaded.items()})
    for pair in pairs:
        header, sep, key = pair.partition("=")
        if not sep or not header:
            fail(f"--map {pair}: write it as header=key.", code=2)
        mapped[header] = key or None
    return mapped


def _survey(path: Path, kind: str) -> tuple[int, list[str]]:
    """The number of rows and the columns, in the order first seen."""
    count, columns = 0, {}
    for row in read_rows(path, kind):
        count += 1
        columns.update(dict.fromkeys(row))
    return count, list(columns)


def _columns(
    file: Path, kind: str, mapped: dict[str, str | None], known: set[str], ignore: bool
) -> tuple[int, dict[str, str]]:
    """The file's row count and the field key of each column read (a refusal ends the
    command: a file that cannot be read, a column that names no field without ``ignore``)."""
    try:
        total, columns = _survey(file, kind)
    except (BadFile, UnicodeDecodeError, csv.Error) as exc:
        fail(f"{file.name}: {exc}")
    keys = {column: mapped.get(column, column) for column in columns}
    unknown = [column for column, key in keys.items() if key is not None and key not in known]
    if unknown and not ignore:
        fail(
            "columns that name no field: " + ", ".join(unknown) + ".",
            details=["Map them with --map HEADER=KEY or --map-file, or skip them with --ignore."],
        )
    return total, {column: key for column, key in keys.items() if key in known}


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    while batch := list(islice(rows, size)):
        yield batch


@import_group.command("contacts")
@click.argument("site_key", metavar="SITE")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "pairs", multiple=True, metavar="HEADER=KEY", help="Map a column.")
@click.option(
    "--map-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML map of column headers to field keys (null: ignore the column).",
)
@click.option("--ignore", is_flag=True, help="Skip columns that map to no field.")
@click.option(
    "--from",
    "origin",
    metavar="DESTINATION",
    help="The destination the rows came from: what they change is not sent back to it.",
)
@click.option(
    "--forward-to-origin",
    is_flag=True,
    help="Send what the rows change to the --from destination too.",
)
@click.option("--dry-run", is_flag=True, help="Check every row, write nothing.")
@click.option("--batch", "batch_size", type=click.IntRange(1), default=1000, show_default=True)
@click.option(
    "--format", "kind", type=click.Choice(sorted(set(FORMATS.values()))), help="Else by suffix."
)
def import_contacts_command(
    site_key: str,
    file: Path,
    pairs: tuple[str, ...],
    map_file: Path | None,
    ignore: bool,
    origin: str | None,
    forward_to_origin: bool,
    dry_run: bool,
    batch_size: int,
    kind: str | None,
) -> None:
    """Upsert the contacts of FILE into SITE by email (source "import", verified). Errors are
    reported as "row N, column C"; the exit status is 1 when any batch was not written."""
    from app.services.people import (
        IMPORT,
        check_contacts,
        check_origin,
        email_key,
        tally,
        write_contacts,
    )
    from app.services.siteconfig import site_snapshot

    kind = kind or FORMATS.get(file.suffix.lower())
    if kind is None:
        fail(f"{file.name}: unknown format; name it .csv, .jsonl or .parquet, or use --format.")
    if forward_to_origin and origin is None:
        fail("--forward-to-origin names no destination: give --from DESTINATION.", code=2)
    with exit_on_refusal():
        site = site_snapshot(site_key)
        check_origin(site_key, origin)
    known = {*site.fields, email_key(site)}
    total, keys = _columns(file, kind, column_map(pairs, map_file), known, ignore)
    header_of = {key: column for column, key in keys.items()}
    # Counts only: a file of millions of rows keeps nothing of the rows it wrote.
    failed, counts, now = 0, Counter[str](), current_time()
    with click.progressbar(length=total, label="Importing", file=sys.stderr) as bar:
        first = 1
        for batch in _batches(read_rows(file, kind), batch_size):
            rows = [{keys[c]: v for c, v in row.items() if c in keys} for row in batch]
            checked, problems = check_contacts(site_key, rows, text=kind == "csv")
            for index, errors in problems.items():
                for key, message in errors.items():
                    column = header_of.get(key, key)
                    click.echo(f"row {first + index}, column {column}: {message}", err=True)
            if problems:
                failed += 1
            elif not dry_run:
                done = write_contacts(
                    site_key,
                    checked,
                    source=IMPORT,
                    now=now,
                    origin=origin,
                    forward_to_origin=forward_to_origin,
                )
                counts.update(tally(done))
            first += len(batch)
            bar.update(len(batch))
    _report(total, counts, failed, dry_run)


def _report(total: int, counts: Counter[str], failed: int, dry_run: bool) -> None:
    batches = f"{failed} batch{'es' if failed != 1 else ''} not written"
    if dry_run:
        click.echo(f"Checked {total} rows (dry run, nothing written): {batches}.")
    else:
        written = counts.total()
        click.echo(
            f"Imported {written} of {total} rows: {counts['created']} created, "
            f"{counts['updated']} updated, {counts['unchanged']} unchanged; {batches}."
        )
    if failed:
        sys.exit(1)
