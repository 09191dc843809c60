"""`trickle worker` and `trickle deliveries`: sending webhooks, their status and replay."""

from __future__ import annotations

import click

from app.cli.errors import exit_on_refusal
from app.clock import current_time


@click.command("worker")
@click.option("--once", is_flag=True, help="Check hand-off SLAs, send what is due now, then exit.")
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
        worker.breach_handoffs_if_due()  # breaches found now go out in this run too
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
    """Deliveries pending, delivered and dead-lettered, per destination (URLs masked)."""
    from app.domain.webhooks import masked_url
    from app.services.delivery import destination_overview

    rows = destination_overview(site_key)
    if not rows:
        click.echo("No destinations.")
    for row in rows:
        click.echo(
            f"{row.site_key}/{row.destination.key}\t{row.state}\tpending {row.pending}"
            f"\tdelivered {row.delivered}\tdead {row.dead}\t{masked_url(row.destination.url)}"
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

    from app.services.delivery import parse_since, replay_destination_since

    now = current_time()
    with exit_on_refusal():
        moment = parse_since(since, now)
        count = replay_destination_since(destination_key, site_key, moment, now)
    click.echo(
        f"Queued {count} deliveries to {destination_key} since "
        f"{moment.isoformat(timespec='seconds')}; a running worker sends them now."
    )
