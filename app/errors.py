"""Every error leaves the app through here: the JSON envelope for the API, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from app.services.errors import ServiceError

log = logging.getLogger(__name__)
# How long a client is asked to wait when the database does not answer.
RETRY_AFTER_SECONDS = 30

_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


def error_response(
    status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> Response:
    error: dict[str, object] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    response = jsonify({"error": error})
    response.status_code = status
    return response


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status == 413:
        # The request's own limit (an endpoint may raise it, as the bulk upsert does).
        limit_kb = (request.max_content_length or current_app.config["MAX_CONTENT_LENGTH"]) // 1024
        message = f"The request body is larger than the limit of {limit_kb} KB."
    else:
        message = exc.description or exc.name
    response = error_response(
        status, _HTTP_CODES.get(status, exc.name.lower().replace(" ", "_")), message
    )
    if status == 429 and exc.response is not None:
        for header in (
            "Retry-After",
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        ):
            if header in exc.response.headers:
                response.headers[header] = exc.response.headers[header]
    if status == 405 and exc.response is None:
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.fields)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response | HTTPException:
        if request.path.startswith("/api/"):
            return _http_error(exc)
        return exc

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(exc: DBAPIError) -> Response:
        """The database does not answer (down, unreachable, out of connections): 503 with
        Retry-After, so the widget keeps the visitor's answers and tries again, and load
        balancers and scripts know to come back, instead of a 500 that says the request was bad."""
        log.warning(
            "database unavailable on %s %s: %s", request.method, request.path, type(exc.orig)
        )
        if request.path.startswith("/api/"):
            response = error_response(
                503,
                "unavailable",
                "The service cannot reach its database right now; try again shortly.",
            )
        else:
            response = ServiceUnavailable(
                "Trickle cannot reach its database right now. Try again in a moment."
            ).get_response()
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response | HTTPException:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            return error_response(500, "internal_error", "Something went wrong on our side.")
        return InternalServerError()
