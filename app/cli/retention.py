"""`trickle retention`: apply each site's retention now."""

from __future__ import annotations

import click

from app.cli.errors import exit_on_refusal
from app.clock import current_time

retention_group = click.Group("retention", help="Retention: remove what sites keep for a while.")


@retention_group.command("run")
@click.option("--site", "site_key", help="Only this site (default: every site).")
def retention_run_command(site_key: str | None) -> None:
    """Apply retention now (the worker does it daily): remove idle anonymous contacts and the
    old delivery log, as each site's settings say; print what was removed per site."""

    from app.services.privacy import run_sites

    with exit_on_refusal():
        reports = run_sites(current_time(), site_key)
    if not reports:
        click.echo("No sites.")
    for report in reports:
        click.echo(report.summary())
