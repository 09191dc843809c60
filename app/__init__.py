"""Trickle: self-hosted progressive profiling."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from app.config import Config, resolve_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: type[Config] | Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config → extensions → blueprints → error handlers → CLI."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(resolve_settings(app.instance_path, config))

    from app import models  # noqa: F401 - every model registered before Alembic looks
    from app.extensions import ConsoleSessionInterface, csrf, db, limiter, login_manager, migrate
    from app.services.accounts import load_console_user

    app.session_interface = ConsoleSessionInterface()
    db.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(load_console_user)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    csrf.init_app(app)
    limiter.init_app(app)

    if app.config["PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from app.ops import init_ops

    init_ops(app)  # request ids, JSON logs, /healthz, /metrics

    from app.api import api_bp

    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)

    from app.embed import embed_bp

    app.register_blueprint(embed_bp)

    if app.config["DEMO"]:  # off: every /demo/ path is 404, like any unknown path
        from app.demo import demo_bp

        app.register_blueprint(demo_bp)

    from app.admin import admin_bp

    app.register_blueprint(admin_bp)

    from app.errors import register_error_handlers

    register_error_handlers(app)

    from app.cli import register_commands

    register_commands(app)
    return app
