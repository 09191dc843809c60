"""`trickle tokens`: API tokens for the token API."""

from __future__ import annotations

from datetime import datetime

import click

from app.cli.errors import exit_on_refusal
from app.clock import current_time

tokens_group = click.Group("tokens", help="API tokens for the token API: create, list, revoke.")


@tokens_group.command("create")
@click.option("--site", "site_key", required=True, help="The site the token may read.")
@click.option("--role", type=click.Choice(["analyst", "marketer", "admin", "sales"]), required=True)
@click.option("--name", default="cli", show_default=True, help="To tell this token from others.")
def create_token_command(site_key: str, role: str, name: str) -> None:
    """Create an API token and print it, once: only its hash is kept."""

    from app.services.accounts import create_token

    with exit_on_refusal():
        token, raw = create_token(site_key, role, name, now=current_time())
    click.echo(f'Created {token.role} token #{token.id} "{token.name}" for site {site_key!r}.')
    click.echo(f"Token (shown once): {raw}")
    click.echo("It will not be shown again: store it now. A lost token can only be revoked.")


@tokens_group.command("list")
@click.option("--site", "site_key", help="Only this site's tokens.")
def list_tokens_command(site_key: str | None) -> None:
    """List API tokens, newest first: never the tokens themselves, only their first characters."""
    from app.services.accounts import list_tokens

    with exit_on_refusal():
        tokens = list_tokens(site_key)
    if not tokens:
        click.echo("No tokens.")
        return

    def when(moment: datetime | None, missing: str) -> str:
        return moment.strftime("%Y-%m-%d %H:%M") if moment else missing

    click.echo("id\tsite\trole\tname\ttoken\tcreated\tlast used\trevoked")
    for t in tokens:
        click.echo(
            f"{t.id}\t{t.site.key}\t{t.role}\t{t.name}\t{t.prefix}…\t{when(t.created_at, '')}"
            f"\t{when(t.last_used_at, 'never')}\t{when(t.revoked_at, 'no')}"
        )


@tokens_group.command("revoke")
@click.option("--site", "site_key", required=True, help="The token's site.")
@click.argument("token_id", metavar="ID", type=int)
def revoke_token_command(site_key: str, token_id: int) -> None:
    """Revoke token ID (see `trickle tokens list`): it stops working at once."""

    from app.services.accounts import revoke_token

    now = current_time()
    with exit_on_refusal():
        token = revoke_token(site_key, token_id, now)
    if token.revoked_at == now:
        click.echo(f'Revoked token #{token.id} "{token.name}" of site {site_key!r}.')
    else:
        revoked = token.revoked_at.strftime("%Y-%m-%d %H:%M") if token.revoked_at else ""
        click.echo(f'Token #{token.id} "{token.name}" was already revoked on {revoked} UTC.')
