"""Logs for operators: request ids, one JSON object per line, an access line per request.

``TRICKLE_LOG_FORMAT=json`` puts one handler on the root logger that writes every record as a JSON
object on stderr, with the id of the request it was made in. ``text`` (the default) leaves logging
as Python and Flask set it up. Either way every response carries ``X-Request-ID`` and each request
is logged on ``trickle.access`` (at INFO; probes at DEBUG unless they failed).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_ENVIRON_KEY = "trickle.request_id"
# What an incoming id may be: a UUID, a hex or base64 token, a load balancer's trace id.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:=+/-]{1,128}")
FORMATS = ("text", "json")

access_log = logging.getLogger("trickle.access")

# Paths polled by load balancers and Prometheus: their successful lines would drown the rest.
PROBE_PATHS = frozenset({"/healthz", "/metrics", "/api/v1/health"})

# Attributes every LogRecord has; anything else on a record came through ``extra=``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}


def incoming_request_id(raw: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is a sane token, otherwise a fresh one."""
    if raw and _REQUEST_ID.fullmatch(raw):
        return raw
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request being handled (taken or made on first use, and kept on ``g`` as
    ``g.request_id`` too), None outside a request."""
    if not has_request_context():
        return None
    # Kept in the WSGI environ, which is the request's own: ``g`` outlives a request when the
    # app context was pushed before it (as in tests and CLI commands).
    request_id = request.environ.get(_ENVIRON_KEY)
    if request_id is None:
        request_id = incoming_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.environ[_ENVIRON_KEY] = g.request_id = request_id
    return request_id


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request's id (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id, then the extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when the record comes (as logging.lastResort does)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> IO[str]:  # type: ignore[override]
        return sys.stderr


def install_json_logging(level: str | int, stream: IO[str] | None = None) -> logging.Handler:
    """Route every record through one JSON handler on the root logger (replacing ours, if any)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "trickle", False):
            root.removeHandler(handler)
    handler: logging.Handler = _StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.trickle = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def configure_logging(app: Flask) -> None:
    fmt = str(app.config["LOG_FORMAT"]).strip().lower()
    if fmt not in FORMATS:
        raise ValueError(f"TRICKLE_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {fmt!r}")
    app.config["LOG_FORMAT"] = fmt
    level = str(app.config["LOG_LEVEL"]).strip().upper()
    if level not in logging.getLevelNamesMapping():
        raise ValueError(f"TRICKLE_LOG_LEVEL {level!r} is not a logging level (INFO, DEBUG...)")
    if fmt == "json":
        from flask.logging import default_handler

        install_json_logging(level)
        # Flask's own handler on the app's logger would print its records a second time, as text.
        logging.getLogger(app.name).removeHandler(default_handler)


def log_access(response: Response, duration_ms: float) -> None:
    """The access line of the request being finished."""
    status = response.status_code
    duration_ms = round(duration_ms, 2)
    level = logging.DEBUG if request.path in PROBE_PATHS and status < 400 else logging.INFO
    if not access_log.isEnabledFor(level):
        return
    access_log.log(
        level,
        "%s %s %s %.1f ms",
        request.method,
        request.path,
        status,
        duration_ms,
        extra={
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": duration_ms,
            "remote_addr": request.remote_addr,
        },
    )
