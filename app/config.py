"""Settings. The only module that reads ``os.environ``.

Every setting has a default here and can be overridden by an environment variable of the same
name prefixed with ``TRICKLE_`` (``TRICKLE_DATABASE_URL``, ``TRICKLE_SECRET_KEY``, ...).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def utc_now() -> datetime:
    return datetime.now(UTC)


class Config:
    DATABASE_URL: str | None = None  # None: SQLite file in the instance folder
    SECRET_KEY: str | None = None  # None: generated once, kept in the instance folder
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    # Flask-Limiter strings (docs/api.md, Rate limits). "Per IP" applies to each client address
    # (IPv6: each /64); "per visitor" to each valid visitor token, instead of "per site", the
    # budget of a site's requests without one.
    RATELIMIT_PUBLIC_PER_IP = "120/minute;2000/hour"
    RATELIMIT_PUBLIC_PER_SITE = "6000/minute"
    RATELIMIT_PUBLIC_PER_VISITOR = "60/minute;1000/hour"
    RATELIMIT_LOGIN = "10/minute;50/hour"  # console sign-in attempts per client address
    RATELIMIT_TOKEN_API = "60/minute;1000/hour"  # noqa: S105 - a rate, per client address
    RATELIMIT_KEY_PREFIX = ""  # Flask-Limiter's: set when several deployments share one Redis
    # Console session cookie: never readable by scripts, not sent on cross-site requests, and
    # only over HTTPS (set TRICKLE_SESSION_COOKIE_SECURE=false for plain-http local use).
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    # A console session ends this long after sign-in however busy it is, and after this long
    # without a request; signing out ends it on the server (a saved cookie no longer works).
    SESSION_MAX_AGE_HOURS = 12.0
    SESSION_IDLE_MINUTES = 60.0
    # Failed console sign-ins per typed email, over every client address and process: after
    # LOGIN_BACKOFF_AFTER failures each attempt waits LOGIN_BACKOFF_SECONDS after the last
    # failure, doubling up to LOGIN_BACKOFF_MAX_SECONDS (seconds 0: no backoff); after
    # LOGIN_FAILURES_BEFORE_LOCK failures within LOGIN_FAILURE_WINDOW_MINUTES the email is locked
    # for LOGIN_LOCK_MINUTES (failures 0: never locked). Refused attempts check no password.
    LOGIN_BACKOFF_AFTER = 3
    LOGIN_BACKOFF_SECONDS = 1.0
    LOGIN_BACKOFF_MAX_SECONDS = 60.0
    LOGIN_FAILURES_BEFORE_LOCK = 10
    LOGIN_FAILURE_WINDOW_MINUTES = 15.0
    LOGIN_LOCK_MINUTES = 15.0
    ALLOW_PRIVATE_TARGETS = False
    # The demo's pages (/demo/) and webhook inbox (/demo/inbox, full webhook bodies): served only
    # when on. `make run` switches it on; a production deployment leaves it off.
    DEMO = False
    # Webhook delivery (DESIGN §6): one attempt's budget, how long a worker owns what it claimed
    # (longer than an attempt), how many it claims and sends side by side, how often it looks.
    DELIVERY_TIMEOUT_SECONDS = 15.0
    DELIVERY_LEASE_SECONDS = 60.0
    DELIVERY_BATCH = 10
    DELIVERY_POLL_SECONDS = 1.0
    # Contacts the worker judges again per committed unit after a change of the definition
    # (docs/sales.md, "Re-qualification after a change").
    REQUALIFY_BATCH = 500
    # The ask, submit and events endpoints count shown/answered/skipped questions and each
    # form's views and asks in memory, and add the tallies to the database at most this often
    # (and when the process exits).
    QUESTION_STATS_FLUSH_SECONDS = 10.0
    PROXY_FIX = 0
    # Operations (docs/deploy.md): "json" logs one JSON object per line, with request ids and an
    # access line per request; "text" leaves logging as Python and Flask set it up.
    LOG_FORMAT = "text"
    LOG_LEVEL = "INFO"  # with LOG_FORMAT=json
    # /metrics: with a token, only `Authorization: Bearer <token>`; without, loopback and
    # private client addresses only.
    METRICS_TOKEN: str | None = None
    MAX_CONTENT_LENGTH = 64 * 1024
    ASK_TOKEN_MAX_AGE_SECONDS = 24 * 3600
    # A submit that gives an email answers no sooner than this after it arrived, so its timing
    # does not tell a known email (a merge) from an unknown one (docs/api.md).
    IDENTITY_SUBMIT_FLOOR_SECONDS = 0.1
    # Free-mail domains never form an account (DESIGN §3); extend with TRICKLE_EXTRA_FREE_MAIL_DOMAINS.
    EXTRA_FREE_MAIL_DOMAINS = ""
    # The clock every service reads; tests replace it to move time without sleeping.
    CLOCK: Callable[[], datetime] = staticmethod(utc_now)
    # Werkzeug's hash for console passwords. Not read from the environment, so no deployment
    # weakens it by accident; tests use a cheap scrypt (signing in is most of a console test).
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - a hash method, not a password
    TESTING = False


class TestConfig(Config):
    TESTING = True
    RATELIMIT_ENABLED = False
    SECRET_KEY = "test-secret-key"  # noqa: S105 - a fixed key for reproducible test tokens
    SESSION_COOKIE_SECURE = False  # the test client and the live test server speak plain http
    REMEMBER_COOKIE_SECURE = False
    QUESTION_STATS_FLUSH_SECONDS = 0.0  # question counters reach the database at once
    IDENTITY_SUBMIT_FLOOR_SECONDS = 0.0  # tests never sleep
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105 - a hash method, for speed in tests


_BOOL_TRUE = {"1", "true", "yes", "on"}
_NOT_FROM_ENVIRONMENT = {"CLOCK", "PASSWORD_HASH_METHOD"}


def _coerce(default: Any, raw: str) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in _BOOL_TRUE
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def environment_overrides(base: type[Config], environ: Mapping[str, str]) -> dict[str, Any]:
    """Settings of ``base`` overridden by ``TRICKLE_<NAME>`` variables, coerced to the default's type."""
    overrides: dict[str, Any] = {}
    for name in dir(base):
        if not name.isupper() or name in _NOT_FROM_ENVIRONMENT:
            continue
        raw = environ.get(f"TRICKLE_{name}")
        if raw is not None:
            overrides[name] = _coerce(getattr(base, name), raw)
    return overrides


def resolve_settings(
    instance_path: str, config: type[Config] | Mapping[str, Any] | None
) -> dict[str, Any]:
    """Final settings for one app: class defaults, then environment, then explicit ``config``."""
    base = config if isinstance(config, type) else Config
    settings = {name: getattr(base, name) for name in dir(base) if name.isupper()}
    settings.update(environment_overrides(base, os.environ))
    if isinstance(config, Mapping):
        settings.update(config)
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    if not settings.get("DATABASE_URL"):
        settings["DATABASE_URL"] = f"sqlite:///{Path(instance_path) / 'trickle.db'}"
    if not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = _instance_secret(Path(instance_path) / "secret_key")
    settings["SQLALCHEMY_DATABASE_URI"] = settings["DATABASE_URL"]
    settings["RATELIMIT_HEADERS_ENABLED"] = True
    # Storage (Redis) unreachable: count in the process's memory until it is back, rather
    # than answer 500 on every public endpoint.
    settings.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    return settings


def postgres_test_url() -> str | None:
    """The PostgreSQL URL the test-suite also runs against (CI sets it)."""
    return os.environ.get("TRICKLE_TEST_POSTGRES_URL") or None


def redis_test_url() -> str | None:
    """A Redis the test-suite may flush, for the shared rate-limit storage (CI sets it)."""
    return os.environ.get("TRICKLE_TEST_REDIS_URL") or None


def prometheus_multiproc_dir() -> str | None:
    """prometheus_client's multiprocess directory (gunicorn with several workers), if set."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def _instance_secret(path: Path) -> str:
    """The key kept in the instance folder, created once, atomically, readable by us alone.

    Several workers booting together agree on one key: only one can create the file (O_EXCL);
    the others read what it wrote. Several machines must share TRICKLE_SECRET_KEY instead.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    key = secrets.token_urlsafe(48)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    return key


def _read_secret(path: Path, attempts: int = 50) -> str:
    for _ in range(attempts):
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.01)  # another worker created the file and is writing it
    raise RuntimeError(f"{path} is empty: delete it or set TRICKLE_SECRET_KEY")


def secret_from_environment(variable: str) -> str | None:
    """A destination's signing secret, named by ``secret_env`` in a site config."""
    return os.environ.get(variable) or None
