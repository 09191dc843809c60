"""`trickle contacts`: data-subject requests for one person."""

from __future__ import annotations

import click

from app.cli.errors import exit_on_refusal
from app.clock import current_time

contacts_group = click.Group("contacts", help="Data-subject requests: show or erase one person.")


@contacts_group.command("show")
@click.option("--site", "site_key", required=True, help="Site key.")
@click.argument("contact_id", type=int)
def contacts_show_command(site_key: str, contact_id: int) -> None:
    """Print everything held on CONTACT_ID as JSON (what GET /contacts/<id> answers)."""
    import json

    from app.services.privacy import subject_access

    with exit_on_refusal():
        data = subject_access(site_key, contact_id, current_time())
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@contacts_group.command("erase")
@click.option("--site", "site_key", required=True, help="Site key.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--by", "requested_by", default="cli", show_default=True, help="Who asked (logged).")
@click.argument("contact_id", type=int)
def contacts_erase_command(site_key: str, contact_id: int, yes: bool, requested_by: str) -> None:
    """Erase CONTACT_ID and everything held on them; destinations that received them are sent
    contact.deleted. Only a record of the erasure (id, time, who) is kept."""

    from app.services.privacy import erase_contact

    if not yes:
        click.confirm(
            f"Erase contact {contact_id} of {site_key}? This cannot be undone", abort=True
        )
    with exit_on_refusal():
        result = erase_contact(site_key, contact_id, requested_by=requested_by, now=current_time())
    removed = ", ".join(f"{table} {count}" for table, count in result["removed"].items() if count)
    told = ", ".join(result["notified"]) or "none"
    click.echo(f"Erased contact {contact_id}: {removed}. contact.deleted queued for: {told}.")
