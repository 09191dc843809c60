"""The ``trickle`` command: Flask's group (run, db, shell) plus Trickle's own commands."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from flask import Flask
from flask.cli import FlaskGroup

from app.clock import current_time

if TYPE_CHECKING:
    from app.services.errors import ServiceError

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
    from app.services.accounts import create_user, set_password
    from app.services.errors import Invalid
    from app.services.siteconfig import import_site_config, read_config_file

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
    from app.services.accounts import create_user
    from app.services.errors import Invalid

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


tokens_group = click.Group("tokens", help="API tokens for the token API: create, list, revoke.")


def _refused(exc: ServiceError) -> NoReturn:
    """Report a service's refusal on stderr, one line per reason, and exit 1."""
    fields = exc.fields or {}
    lines = [f"error: {where}: {' '.join(found)}" for where, found in fields.items()]
    click.echo("\n".join(lines or [f"error: {exc.message}"]), err=True)
    sys.exit(1)


@tokens_group.command("create")
@click.option("--site", "site_key", required=True, help="The site the token may read.")
@click.option("--role", type=click.Choice(["analyst", "marketer", "admin"]), required=True)
@click.option("--name", default="cli", show_default=True, help="To tell this token from others.")
def create_token_command(site_key: str, role: str, name: str) -> None:
    """Create an API token and print it, once: only its hash is kept."""

    from app.services.accounts import create_token
    from app.services.errors import ServiceError

    try:
        token, raw = create_token(site_key, role, name, now=current_time())
    except ServiceError as exc:
        _refused(exc)
    click.echo(f'Created {token.role} token #{token.id} "{token.name}" for site {site_key!r}.')
    click.echo(f"Token (shown once): {raw}")
    click.echo("It will not be shown again: store it now. A lost token can only be revoked.")


@tokens_group.command("list")
@click.option("--site", "site_key", help="Only this site's tokens.")
def list_tokens_command(site_key: str | None) -> None:
    """List API tokens, newest first: never the tokens themselves, only their first characters."""
    from app.services.accounts import list_tokens
    from app.services.errors import ServiceError

    try:
        tokens = list_tokens(site_key)
    except ServiceError as exc:
        _refused(exc)
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
    from app.services.errors import ServiceError

    now = current_time()
    try:
        token = revoke_token(site_key, token_id, now)
    except ServiceError as exc:
        _refused(exc)
    if token.revoked_at == now:
        click.echo(f'Revoked token #{token.id} "{token.name}" of site {site_key!r}.')
    else:
        revoked = token.revoked_at.strftime("%Y-%m-%d %H:%M") if token.revoked_at else ""
        click.echo(f'Token #{token.id} "{token.name}" was already revoked on {revoked} UTC.')


@click.command("export")
@click.argument("site")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl", "parquet"]),
    default="csv",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write here (- for stdout). Default: SITE-contacts-<time>.<format> in this folder.",
)
@click.option(
    "--history",
    is_flag=True,
    help="Export the submission history (one row per accepted value) instead of contacts.",
)
@click.option("--stage", multiple=True, help="Only contacts in this lifecycle stage (repeatable).")
@click.option("--updated-since", help="Only contacts updated since this date or UTC date-time.")
@click.option("--min-completeness", help="Only contacts knowing at least this % of the fields.")
@click.option("--tier-complete", multiple=True, help="Only contacts knowing every field of TIER.")
@click.option("--form", help="Only contacts (or history rows) that came through this form.")
@click.option("--identified/--anonymous", default=None, help="Only contacts with / without email.")
@click.option("--provenance", is_flag=True, help="Add <field>__at and <field>__source columns.")
@click.option("--since", help="History: only values given since this date or UTC date-time.")
@click.option("--field", help="History: only this field's values.")
def export_command(site: str, fmt: str, output: str | None, history: bool, **options: Any) -> None:
    """Export SITE's contacts (or, with --history, its submission history), streamed to a file
    with a progress bar. Filters and columns are those of the console and the token API."""

    from app.services.errors import ServiceError
    from app.services.exports import start_export

    params = {"format": fmt, **_export_params(history, options)}
    try:
        export = start_export(
            site, "submissions" if history else "contacts", params, current_time()
        )
    except ServiceError as exc:
        _refused(exc)
    target = output or export.filename
    if target == "-":
        with click.open_file("-", "wb") as stream:
            for chunk in export.chunks:
                stream.write(chunk)
        return
    _write_with_progress(export, Path(target))
    what = "history rows" if history else "contacts"
    click.echo(f"Wrote {export.written} {what} to {target}.", err=True)


def _export_params(history: bool, options: dict[str, Any]) -> dict[str, str]:
    """The command's options as the export parsers take them; options that do not apply to
    the chosen export are refused rather than silently ignored."""
    contact_only = ("stage", "updated_since", "min_completeness", "tier_complete", "identified")
    history_only = ("since", "field")
    wrong = history_only if not history else (*contact_only, "provenance")
    given = [name for name in wrong if options.get(name) not in (None, (), False)]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        kind = "contact" if history else "--history"
        click.echo(f"error: {flags} can only be used with {kind} exports.", err=True)
        sys.exit(2)
    params: dict[str, str] = {}
    for name, value in options.items():
        if value in (None, (), False):
            continue
        if isinstance(value, tuple):
            params[name] = ",".join(value)
        elif isinstance(value, bool):
            params[name] = "true" if value else "false"
        else:
            params[name] = value
    if options.get("identified") is False:
        params["identified"] = "false"
    return params


def _write_with_progress(export: Any, target: Path) -> None:
    """Stream ``export`` into a temporary file beside ``target`` and move it into place only
    when complete: a failed, interrupted (Ctrl-C) or terminated (SIGTERM) export never leaves
    half a file behind, and an older file of that name stays until the new one is whole. The
    file gets the mode a plain ``open`` would give it (0666 less the umask)."""
    import os
    import signal
    import tempfile
    import threading

    if not target.parent.is_dir():
        click.echo(f"error: no such folder: {target.parent}", err=True)
        sys.exit(1)
    umask = os.umask(0)
    os.umask(umask)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)

    def terminated(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, terminated) if main_thread else None
    try:
        os.fchmod(handle, 0o666 & ~umask)
        with (
            os.fdopen(handle, "wb") as out,
            click.progressbar(
                length=export.total, label="Exporting", file=sys.stderr, show_pos=True
            ) as bar,
        ):
            done = 0
            for chunk in export.chunks:
                out.write(chunk)
                bar.update(export.scanned - done)
                done = export.scanned
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


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

    from app.services.delivery import DeliveryWorker

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # With TRICKLE_LOG_FORMAT=json, create_app already sends every record out as JSON.
    if app.config["LOG_FORMAT"] != "json":
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
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
    from app.services.delivery import destination_overview

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

    from app.extensions import db
    from app.services.delivery import find_destination, parse_since, replay_since
    from app.services.errors import Invalid, NotFound

    now = current_time()
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


contacts_group = click.Group("contacts", help="Data-subject requests: show or erase one person.")


@contacts_group.command("show")
@click.option("--site", "site_key", required=True, help="Site key.")
@click.argument("contact_id", type=int)
def contacts_show_command(site_key: str, contact_id: int) -> None:
    """Print everything held on CONTACT_ID as JSON (what GET /contacts/<id> answers)."""
    import json

    from app.services.errors import NotFound
    from app.services.privacy import subject_access

    try:
        data = subject_access(site_key, contact_id, current_time())
    except NotFound as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@contacts_group.command("erase")
@click.option("--site", "site_key", required=True, help="Site key.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--by", "requested_by", default="cli", show_default=True, help="Who asked (logged).")
@click.argument("contact_id", type=int)
def contacts_erase_command(site_key: str, contact_id: int, yes: bool, requested_by: str) -> None:
    """Erase CONTACT_ID and everything held on them; destinations that received them are sent
    contact.deleted. Only a record of the erasure (id, time, who) is kept."""

    from app.services.errors import NotFound
    from app.services.privacy import erase_contact

    if not yes:
        click.confirm(
            f"Erase contact {contact_id} of {site_key}? This cannot be undone", abort=True
        )
    try:
        result = erase_contact(site_key, contact_id, requested_by=requested_by, now=current_time())
    except NotFound as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    removed = ", ".join(f"{table} {count}" for table, count in result["removed"].items() if count)
    told = ", ".join(result["notified"]) or "none"
    click.echo(f"Erased contact {contact_id}: {removed}. contact.deleted queued for: {told}.")


def register_commands(app: Flask) -> None:
    for command in (
        import_config_command,
        export_config_command,
        demo_command,
        users_group,
        tokens_group,
        export_command,
        worker_command,
        deliveries_group,
        retention_group,
        contacts_group,
    ):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from app import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="Trickle: progressive profiling forms.")
