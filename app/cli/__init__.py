"""The ``trickle`` command: Flask's group (run, db, shell) plus Trickle's own commands.

One module per command group: ``config`` (import-config, export-config, and the ``config``
group: simulate, requalify, and ``approvals`` with its proposals, approve, reject), ``demo``, ``users``,
``tokens``, ``exports`` (export), ``deliveries`` (worker, deliveries), ``retention``,
``contacts``, ``identity`` (identity, links), ``imports`` (import contacts), ``sales`` (sales
inbound-secret); ``errors`` is how every one of them reports a refusal.
"""

from __future__ import annotations

from flask import Flask
from flask.cli import FlaskGroup

from app.cli.config import config_group, export_config_command, import_config_command
from app.cli.contacts import contacts_group
from app.cli.deliveries import deliveries_group, worker_command
from app.cli.demo import DEMO_CONFIG, demo_command
from app.cli.exports import export_command
from app.cli.identity import identity_group, links_command
from app.cli.imports import import_group
from app.cli.retention import retention_group
from app.cli.sales import sales_group
from app.cli.tokens import tokens_group
from app.cli.users import users_group

__all__ = ["DEMO_CONFIG", "main", "register_commands"]


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
        identity_group,
        links_command,
        import_group,
        sales_group,
        config_group,
    ):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from app import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="Trickle: progressive profiling forms.")
