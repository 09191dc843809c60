"""`trickle retention`: apply each site's retention now."""

from __future__ import annotations

import sys

import click

from app.clock import current_time

retention_group = click.Group("retention", help="Retention: remove what sites keep for a while.")


@retention_group.command("run")
@click.option("--site", "site_key", help="Only this site (default: every site).")
def retention_run_command(site_key: str | None) -> None:
    """Apply retention now (the worker does it daily): remove idle anonymous contacts and the
    old delivery log, as each site's settings say; print what was removed per site."""

    from app.services.errors import NotFound
    from app.services.privacy import run_sites

    try:
        reports = run_sites(current_time(), site_key)
    except NotFound as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    if not reports:
        click.echo("No sites.")
    for report in reports:
        click.echo(report.summary())
