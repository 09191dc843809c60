"""`trickle import-config` and `trickle export-config`: a site's config as a file; `trickle
config ...`: what a change to the definition would do (simulate), deciding on one (proposals,
approve, reject) and judging a site's contacts again by its rules, now (requalify)."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.approvals import approve_command, proposals_command, reject_command
from app.cli.errors import exit_on_refusal
from app.cli.whatif import simulate_command


@click.command("import-config")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--approved-by",
    default=None,
    help="A console user of the other team who approved a change to the definition (e.g. in "
    "the pull request); without it such a change waits for approval.",
)
@click.option("--comment", default=None, help="With --approved-by: the approval's comment.")
def import_config_command(path: str, approved_by: str | None, comment: str | None) -> None:
    """Create or update a site from a YAML or JSON config FILE (all or nothing)."""
    from app.services.siteconfig import (
        Approval,
        DefinitionPending,
        import_site_config,
        read_config_file,
    )

    approval = Approval(by=approved_by, comment=comment) if approved_by else None
    with exit_on_refusal(problems_listed=True, footer="Nothing was changed."):
        try:
            site = import_site_config(read_config_file(path), approval=approval)
        except DefinitionPending as pending:
            click.echo(
                f"Not applied yet: {pending} Approve it in the console or with "
                f"`trickle config approve {pending.proposal_id} --by EMAIL`."
            )
            return
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


@click.command("requalify")
@click.argument("site")
@click.option("--batch", type=click.IntRange(1, 100_000), default=None, help="Contacts per batch.")
def requalify_command(site: str, batch: int | None) -> None:
    """Judge SITE's contacts again by its stage rules, now, to the end (moves forward only),
    printing the progress: the re-qualification the worker has to do or is running goes on,
    else one starts for the current version."""
    from flask import current_app

    from app.services.people import requalification_status, requalify_site

    size = batch or int(current_app.config["REQUALIFY_BATCH"])
    with exit_on_refusal():
        progress = None
        for progress in requalify_site(site, size):
            click.echo(progress.summary)
        if progress is None or progress.running:  # a worker ran the last batch meanwhile
            click.echo(requalification_status(site).summary)


config_group = click.Group(
    "config", help="A site's definition: what a change would do, deciding on it, what it did."
)
for _command in (
    simulate_command,
    requalify_command,
    proposals_command,
    approve_command,
    reject_command,
):
    config_group.add_command(_command)
