"""`trickle config simulate`: what a definition change would have done (docs/sales.md)."""

from __future__ import annotations

import click

from app.cli.errors import exit_on_refusal


@click.command("simulate")
@click.argument("target", metavar="REV|SITE")
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="With SITE: the proposed config (YAML or JSON, as trickle import-config takes it).",
)
@click.option(
    "--days", type=click.IntRange(1, 3660), default=90, show_default=True, help="The window."
)
def simulate_command(target: str, path: str | None, days: int) -> None:
    """Replay the last --days days under the site's definition and under a proposed one: a
    pending proposal (REV, its number in trickle config proposals) or SITE with --file. Prints
    hand-offs by week, what became of them, who would enter or leave the queue. Writes
    nothing."""
    from app.clock import current_time
    from app.services.sales import simulate_definition
    from app.services.siteconfig import checked_config, proposal_config, read_config_file

    with exit_on_refusal(problems_listed=True):
        if target.isdigit():
            if path is not None:
                raise click.UsageError("give a proposal number, or a site with --file, not both")
            site_key, proposal = proposal_config(int(target))
        else:
            if path is None:
                raise click.UsageError("with a site, --file names the proposed config")
            site_key, proposal = target, checked_config(read_config_file(path))
        result = simulate_definition(site_key, proposal, days, current_time())
    for line in report_lines(result):
        click.echo(line)


def report_lines(result) -> list[str]:
    """The what-if as the command prints it."""
    lines = [
        f"What-if for site {result.site!r}, {result.start:%Y-%m-%d} to {result.end:%Y-%m-%d}"
        f" ({result.replayed} contacts active in the window)",
        "",
        f"{'week of':<20}{'now':>8}{'proposed':>10}",
    ]
    lines += [
        f"{monday:%Y-%m-%d}{'':<10}{old:>8}{new:>10}" for monday, (old, new) in result.weeks.items()
    ]
    lines.append("")
    lines.append(f"{'':<20}{'now':>8}{'proposed':>10}")
    for label, attribute in (
        ("handed off", "handed_off"),
        ("accepted", "accepted"),
        ("won", "won"),
    ):
        lines.append(
            f"{label:<20}{getattr(result.old, attribute):>8}{getattr(result.new, attribute):>10}"
        )
    for reason in sorted({*result.old.rejected, *result.new.rejected}):
        label = f"rejected: {reason}"
        lines.append(
            f"{label:<20}{result.old.rejected[reason]:>8}{result.new.rejected[reason]:>10}"
        )
    lines.append("")
    lines.append(f"Would enter the queue: {result.entering}; would leave it: {result.leaving}")
    for title, sample in (("Entering", result.entering_sample), ("Leaving", result.leaving_sample)):
        for contact_id, email in sample:
            lines.append(f"  {title.lower()}: #{contact_id} {email or 'anonymous'}")
    return lines
