"""``/healthz`` (readiness: the database answers) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

import logging

from flask import Response, current_app, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.auth import bearer_token
from app.errors import error_response
from app.extensions import db, limiter
from app.ops import ops_bp
from app.ops.metrics import refusal, render

log = logging.getLogger(__name__)


@ops_bp.get("/healthz")
@limiter.exempt
def healthz() -> Response:
    """200 when the database answers ``SELECT 1``; 503 naming the error's class when not."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("health check: the database did not answer: %s", exc)
        response = jsonify({"status": "error", "database": type(exc).__name__})
        response.status_code = 503
    else:
        response = jsonify({"status": "ok", "database": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response


@ops_bp.get("/metrics")
@limiter.exempt
def metrics() -> Response:
    refused = refusal(
        current_app.config["METRICS_TOKEN"],
        bearer_token(),
        request.remote_addr,
    )
    if refused == 401:
        response = error_response(
            401, "unauthorized", "Send the metrics token: Authorization: Bearer <token>."
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if refused == 403:
        return error_response(
            403,
            "forbidden",
            "Metrics are served to loopback and private addresses, or with the metrics token.",
        )
    body, content_type = render(request.headers.get("Accept"))
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response
