"""`trickle export`: contacts or submission history to a file, with a progress bar."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from app.cli.errors import exit_on_refusal, fail
from app.clock import current_time


@click.command("export")
@click.argument("site")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl", "parquet"]),
    default="csv",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write here (- for stdout). Default: SITE-contacts-<time>.<format> in this folder.",
)
@click.option(
    "--history",
    is_flag=True,
    help="Export the submission history (one row per accepted value) instead of contacts.",
)
@click.option("--stage", multiple=True, help="Only contacts in this lifecycle stage (repeatable).")
@click.option("--updated-since", help="Only contacts updated since this date or UTC date-time.")
@click.option("--min-completeness", help="Only contacts knowing at least this % of the fields.")
@click.option("--tier-complete", multiple=True, help="Only contacts knowing every field of TIER.")
@click.option("--form", help="Only contacts (or history rows) that came through this form.")
@click.option("--identified/--anonymous", default=None, help="Only contacts with / without email.")
@click.option("--provenance", is_flag=True, help="Add <field>__at and <field>__source columns.")
@click.option("--since", help="History: only values given since this date or UTC date-time.")
@click.option("--field", help="History: only this field's values.")
def export_command(site: str, fmt: str, output: str | None, history: bool, **options: Any) -> None:
    """Export SITE's contacts (or, with --history, its submission history), streamed to a file
    with a progress bar. Filters and columns are those of the console and the token API."""

    from app.services.exports import start_export

    params = {"format": fmt, **_export_params(history, options)}
    with exit_on_refusal():
        export = start_export(
            site, "submissions" if history else "contacts", params, current_time()
        )
    target = output or export.filename
    if target == "-":
        with click.open_file("-", "wb") as stream:
            for chunk in export.chunks:
                stream.write(chunk)
        return
    _write_with_progress(export, Path(target))
    what = "history rows" if history else "contacts"
    click.echo(f"Wrote {export.written} {what} to {target}.", err=True)


def _export_params(history: bool, options: dict[str, Any]) -> dict[str, str]:
    """The command's options as the export parsers take them; options that do not apply to
    the chosen export are refused rather than silently ignored."""
    contact_only = ("stage", "updated_since", "min_completeness", "tier_complete", "identified")
    history_only = ("since", "field")
    wrong = history_only if not history else (*contact_only, "provenance")
    given = [name for name in wrong if options.get(name) not in (None, (), False)]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        kind = "contact" if history else "--history"
        fail(f"{flags} can only be used with {kind} exports.", code=2)
    params: dict[str, str] = {}
    for name, value in options.items():
        if value in (None, (), False):
            continue
        if isinstance(value, tuple):
            params[name] = ",".join(value)
        elif isinstance(value, bool):
            params[name] = "true" if value else "false"
        else:
            params[name] = value
    if options.get("identified") is False:
        params["identified"] = "false"
    return params


def _write_with_progress(export: Any, target: Path) -> None:
    """Stream ``export`` into a temporary file beside ``target`` and move it into place only
    when complete: a failed, interrupted (Ctrl-C) or terminated (SIGTERM) export never leaves
    half a file behind, and an older file of that name stays until the new one is whole. The
    file gets the mode a plain ``open`` would give it (0666 less the umask)."""
    import os
    import signal
    import tempfile
    import threading

    if not target.parent.is_dir():
        fail(f"no such folder: {target.parent}")
    umask = os.umask(0)
    os.umask(umask)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)

    def terminated(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, terminated) if main_thread else None
    try:
        os.fchmod(handle, 0o666 & ~umask)
        with (
            os.fdopen(handle, "wb") as out,
            click.progressbar(
                length=export.total, label="Exporting", file=sys.stderr, show_pos=True
            ) as bar,
        ):
            done = 0
            for chunk in export.chunks:
                out.write(chunk)
                bar.update(export.scanned - done)
                done = export.scanned
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
