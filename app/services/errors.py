"""The one error type services raise; the edge maps it to the JSON envelope or a form error."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Invalid(ServiceError):
    """Input that breaks a rule; ``fields`` names each offending key with its reasons."""

    status = 422
    code = "invalid"


class AskExpired(ServiceError):
    status = 409
    code = "ask_expired"


class Conflict(ServiceError):
    """Someone else changed the thing first; reload and try again."""

    status = 409
    code = "conflict"


class OriginNotAllowed(ServiceError):
    status = 403
    code = "origin_not_allowed"


class Unauthenticated(ServiceError):
    """No credentials, or ones that are not valid (unknown, malformed, revoked)."""

    status = 401
    code = "unauthenticated"


class Forbidden(ServiceError):
    """Valid credentials that may not do this (another site, a lower role)."""

    status = 403
    code = "forbidden"


class TooManyAttempts(ServiceError):
    """Too many failed sign-ins for this email lately: refused whatever the password."""

    status = 429
    code = "too_many_attempts"
