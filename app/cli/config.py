"""`trickle import-config` and `trickle export-config`: a site's config as a file."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("import-config")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
def import_config_command(path: str) -> None:
    """Create or update a site from a YAML or JSON config FILE (all or nothing)."""
    from app.services.errors import Invalid
    from app.services.siteconfig import import_site_config, read_config_file

    try:
        data = read_config_file(path)
        site = import_site_config(data)
    except Invalid as exc:
        click.echo(f"error: {exc.message}", err=True)
        for where, problems in (exc.fields or {}).items():
            for problem in problems:
                click.echo(f"  {where}: {problem}", err=True)
        click.echo("Nothing was changed.", err=True)
        sys.exit(1)
    click.echo(f"Imported site {site.key!r} (config version {site.config_version}).")


@click.command("export-config")
@click.argument("site")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here, not stdout.")
def export_config_command(site: str, fmt: str, output: str | None) -> None:
    """Print SITE's config (secrets left out) as YAML or JSON."""
    from app.services.errors import NotFound
    from app.services.siteconfig import dump_config, export_site_config

    try:
        text = dump_config(export_site_config(site), fmt)
    except NotFound as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
