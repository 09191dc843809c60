"""Flask extensions, created unbound here and initialised in ``create_app``."""

from __future__ import annotations

import ipaddress
import sqlite3

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = "Please sign in to see that page."


def client_network(address: str) -> str:
    """The rate-limit identity of a client address: an IPv4 address as it is, an IPv6 one by its
    /64 network (one subscriber line or host gets a whole /64, so counting single IPv6 addresses
    would hand one client 2**64 budgets), an IPv4-mapped IPv6 address as its IPv4 address.
    Anything that is not an address (a proxy's ``unknown``) is its own key."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv4Address):
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(parsed) >> 64 << 64, 64)))


def client_rate_key() -> str:
    """Rate-limit key for every per-client budget (public API, demo inbox, console sign-in, token
    API): the client's address (the proxy's hop with ``PROXY_FIX``), IPv6 by its /64."""
    return client_network(get_remote_address())


def site_rate_key() -> str:
    """Rate-limit key for the per-site budget: the site key from the URL."""
    return "site:" + str((request.view_args or {}).get("site", ""))


limiter = Limiter(key_func=client_rate_key)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    """SQLite as an embedded production store: WAL, a busy timeout, enforced foreign keys."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Sessions belong to the console. Public responses (widget, API, demo pages) never set a
    cookie nor vary on one, so shared caches can keep /widget.js for every visitor."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if request.path == "/admin" or request.path.startswith("/admin/"):
            super().save_session(app, session, response)
