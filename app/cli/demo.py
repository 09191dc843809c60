"""`trickle demo`: the demo site and its console login."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.errors import exit_on_refusal

DEMO_CONFIG = Path(__file__).resolve().parents[1] / "demo" / "demo.yaml"
DEMO_ADMIN = "admin@demo.example"
DEMO_SALES = "sales@demo.example"  # a sales rep: the hand-off queue and briefs only


@click.command("demo")
@click.option(
    "--inbox-url",
    help="Also deliver the demo's webhooks to this URL, the app's own /demo/inbox "
    "(make run passes it; needs TRICKLE_ALLOW_PRIVATE_TARGETS=true on 127.0.0.1). The app "
    "serves /demo/ and /demo/inbox only with the demo switched on (TRICKLE_DEMO=1).",
)
@click.option(
    "--no-contacts",
    is_flag=True,
    help="Load the site and the logins only, without the demo's contacts and outcomes.",
)
def demo_command(inbox_url: str | None, no_contacts: bool) -> None:
    """Load (or refresh) the demo site ``demo``, its contacts (handed to sales, with outcomes;
    added once), a demo admin and a demo sales rep, each with a fresh password.

    The demo's pages are served only by an app with ``TRICKLE_DEMO=1`` (``make run``)."""
    from app.clock import current_time
    from app.demo.inbox import with_inbox
    from app.demo.people import load_demo_people
    from app.services.accounts import create_or_reset_user
    from app.services.siteconfig import Approval, import_site_config, read_config_file

    data = read_config_file(str(DEMO_CONFIG))
    if inbox_url:
        data = with_inbox(data, inbox_url)
    _admin, password = create_or_reset_user(DEMO_ADMIN, "admin")
    _rep, sales_password = create_or_reset_user(DEMO_SALES, "sales")
    # Refreshing the demo puts its definition back even when someone changed it in the console;
    # the history says so (approved by the demo admin), as for any change to a definition.
    reset = Approval(by=DEMO_ADMIN, comment="trickle demo puts the demo site back")
    with exit_on_refusal(problems_listed=True):
        site = import_site_config(data, author="trickle demo", approval=reset)
    forms = ", ".join(form.key for form in site.forms if form.archived_at is None)
    loaded = f"Demo site {site.key!r} loaded: forms {forms}"
    if not no_contacts:
        loaded += f"; {load_demo_people(site.key, current_time())} demo contacts added"
    click.echo(loaded)
    click.echo(f"Demo console login: {DEMO_ADMIN} / {password}")
    click.echo(f"Demo sales login (the hand-off queue): {DEMO_SALES} / {sales_password}")
    if inbox_url:
        click.echo(f"Demo webhooks (destination 'inbox') are delivered to {inbox_url}")
