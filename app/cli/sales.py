"""`trickle sales`: what sales and the CRM report back (docs/sales.md)."""

from __future__ import annotations

import click

from app.cli.errors import exit_on_refusal

sales_group = click.Group("sales", help="Sales outcomes: the CRM's inbound webhook secret.")


@sales_group.command("inbound-secret")
@click.argument("site_key", metavar="SITE")
@click.option(
    "--keep-hours",
    type=click.IntRange(0, 720),
    default=24,
    show_default=True,
    help="How long the secret in use keeps verifying (0: it stops at once).",
)
def inbound_secret_command(site_key: str, keep_hours: int) -> None:
    """Generate the site's inbound webhook secret (or replace the current one, which keeps
    verifying for --keep-hours) and print it, once."""
    from app.clock import current_time
    from app.services.sales import new_inbound_secret

    with exit_on_refusal():
        secret = new_inbound_secret(site_key, "trickle sales", current_time(), keep_hours)
    click.echo(f"New inbound webhook secret for site {site_key!r} (shown once): {secret}")
    click.echo("It will not be shown again: put it in your CRM workflow's webhook settings now.")
    if keep_hours:
        click.echo(f"The previous secret, if any, keeps verifying for {keep_hours} hours.")
