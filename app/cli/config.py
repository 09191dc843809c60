"""`trickle import-config` and `trickle export-config`: a site's config as a file; `trickle
config ...`: what the definition's changes would do."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.errors import exit_on_refusal
from app.cli.whatif import simulate_command


@click.command("import-config")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
def import_config_command(path: str) -> None:
    """Create or update a site from a YAML or JSON config FILE (all or nothing)."""
    from app.services.siteconfig import import_site_config, read_config_file

    with exit_on_refusal(problems_listed=True, footer="Nothing was changed."):
        site = import_site_config(read_config_file(path))
    click.echo(f"Imported site {site.key!r} (config version {site.config_version}).")


@click.command("export-config")
@click.argument("site")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here, not stdout.")
def export_config_command(site: str, fmt: str, output: str | None) -> None:
    """Print SITE's config (secrets left out) as YAML or JSON."""
    from app.services.siteconfig import dump_config, export_site_config

    with exit_on_refusal():
        text = dump_config(export_site_config(site), fmt)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


config_group = click.Group("config", help="A site's definition: what a change would do.")
config_group.add_command(simulate_command)
