"""The ``trickle`` command: Flask's group (run, db, shell) plus Trickle's own commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup

DEMO_CONFIG = Path(__file__).resolve().parent / "demo" / "demo.yaml"


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


DEMO_ADMIN = "admin@demo.example"


@click.command("demo")
@click.option(
    "--inbox-url",
    help="Also deliver the demo's webhooks to this URL, the app's own /demo/inbox "
    "(make run passes it; needs TRICKLE_ALLOW_PRIVATE_TARGETS=true on 127.0.0.1).",
)
def demo_command(inbox_url: str | None) -> None:
    """Load (or refresh) the demo site ``demo`` and a demo admin with a fresh password."""
    from sqlalchemy import select

    from app.demo.inbox import with_inbox
    from app.extensions import db
    from app.models import User
    from app.services.errors import Invalid
    from app.services.siteconfig import import_site_config, read_config_file
    from app.services.users import create_user, set_password

    data = read_config_file(str(DEMO_CONFIG))
    if inbox_url:
        data = with_inbox(data, inbox_url)
    try:
        site = import_site_config(data, author="trickle demo")
    except Invalid as exc:
        problems = [f"  {at}: {p}" for at, found in (exc.fields or {}).items() for p in found]
        click.echo("\n".join([f"error: {exc.message}", *problems]), err=True)
        sys.exit(1)
    admin = db.session.scalars(select(User).where(User.email == DEMO_ADMIN)).one_or_none()
    if admin is None:
        _user, password = create_user(DEMO_ADMIN, "admin")
    else:
        password = set_password(admin)
    forms = ", ".join(form.key for form in site.forms if form.archived_at is None)
    click.echo(f"Demo site {site.key!r} loaded: forms {forms}")
    click.echo(f"Demo console login: {DEMO_ADMIN} / {password}")
    if inbox_url:
        click.echo(f"Demo webhooks (destination 'inbox') are delivered to {inbox_url}")


users_group = click.Group("users", help="Console users: create and list them.")


@users_group.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["analyst", "marketer", "admin"]), required=True)
@click.option("--generate-password", is_flag=True, help="Generate a password and print it.")
def create_user_command(email: str, role: str, generate_password: bool) -> None:
    """Create a console user; asks for the password unless --generate-password."""
    from app.services.errors import Invalid
    from app.services.users import create_user

    password = None
    if not generate_password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user, generated = create_user(email, role, password)
    except Invalid as exc:
        for where, problems in (exc.fields or {}).items():
            click.echo(f"error: {where}: {' '.join(problems)}", err=True)
        sys.exit(1)
    click.echo(f"Created {user.role} {user.email}.")
    if generated:
        click.echo(f"Password (shown once): {generated}")


@users_group.command("list")
def list_users_command() -> None:
    """List console users with their roles and last sign-in."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import User

    for user in db.session.scalars(select(User).order_by(User.email)):
        seen = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "never"
        click.echo(f"{user.email}\t{user.role}\t{'active' if user.active else 'disabled'}\t{seen}")


@click.command("worker")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
def worker_command(once: bool) -> None:
    """Deliver webhooks: claim due deliveries, send them, retry on schedule (DESIGN §6).

    Stops cleanly on SIGTERM or Ctrl-C after the batch in hand; a killed worker loses nothing.
    """
    import logging
    import signal
    import threading

    from flask import current_app

    from app.services.delivery_worker import DeliveryWorker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    worker = DeliveryWorker(app)
    if once:
        total = 0
        while sent := worker.run_once():
            total += sent
        worker.close()
        click.echo(f"Sent {total} deliveries.")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"Delivery worker {worker.name} running; Ctrl-C stops it.")
    worker.run(stop)


deliveries_group = click.Group("deliveries", help="Webhook deliveries: status and replay.")


@deliveries_group.command("status")
@click.option("--site", "site_key", help="Only this site's destinations.")
def deliveries_status_command(site_key: str | None) -> None:
    """Deliveries pending, delivered and dead-lettered, per destination."""
    from app.services.delivery_views import destination_overview

    rows = destination_overview(site_key)
    if not rows:
        click.echo("No destinations.")
    for row in rows:
        click.echo(
            f"{row.site_key}/{row.destination.key}\t{row.state}\tpending {row.pending}"
            f"\tdelivered {row.delivered}\tdead {row.dead}\t{row.destination.url}"
        )


@deliveries_group.command("replay")
@click.option("--destination", "destination_key", required=True, help="Destination key.")
@click.option("--site", "site_key", help="Site key (needed when several sites use the key).")
@click.option(
    "--since",
    required=True,
    help="ISO date or time (2026-11-20, 2026-11-20T09:00Z) or a span back from now (6h, 3d).",
)
def deliveries_replay_command(destination_key: str, site_key: str | None, since: str) -> None:
    """Send DESTINATION every event since a time again (same webhook-id where it was sent)."""
    from flask import current_app

    from app.extensions import db
    from app.services.delivery import find_destination, parse_since, replay_since
    from app.services.errors import Invalid, NotFound

    now = current_app.config["CLOCK"]()
    try:
        moment = parse_since(since, now)
        destination = find_destination(destination_key, site_key)
    except (Invalid, NotFound) as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    count = replay_since(destination, moment, now)
    db.session.commit()
    click.echo(
        f"Queued {count} deliveries to {destination_key} since "
        f"{moment.isoformat(timespec='seconds')}; a running worker sends them now."
    )


def register_commands(app: Flask) -> None:
    for command in (
        import_config_command,
        export_config_command,
        demo_command,
        users_group,
        worker_command,
        deliveries_group,
    ):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from app import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="Trickle: progressive profiling forms.")
