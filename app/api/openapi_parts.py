"""The building blocks of the OpenAPI document (``openapi``): responses, path parameters and
the error answers every call shares."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema

from app.api import schemas as s


def _schema_name(schema: type[Schema] | Schema) -> str:
    return (schema if isinstance(schema, type) else type(schema)).__name__


def _json(schema: type[Schema], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _path(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string"},
    }


_SITE = _path("site", "The site's key")
_FORM = _path("form", "The form's key")
_CONTACT = _path("contact_id", "The contact's id", {"type": "integer", "minimum": 0})
_EMAIL = _path("email", "The contact's email (case does not matter)")
_PREVIEW = _path("token", "The preview token the console's preview page carries")

_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until the limit lets a call through again",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}
_CHALLENGE = {
    "WWW-Authenticate": {
        "description": 'Always `Bearer realm="trickle"`',
        "required": True,
        "schema": {"type": "string"},
    }
}

# What each error status means, per kind of endpoint: the widget's (public), the console's
# live preview, and the token API.
_PUBLIC = {
    400: "The body is not valid JSON (or nests too deep)",
    403: "A browser Origin the site does not list",
    404: "Unknown site or form",
    409: "The ask_token expired, or the form changed since: ask again",
    413: "Body over the size limit (64 KB by default)",
    415: "The body is not application/json",
    422: "Invalid body or answers; error.fields names each key",
    429: "Rate limited; see Retry-After",
}
_PREVIEW_ERRORS = {
    **_PUBLIC,
    403: "Only Trickle's own pages may call the preview",
    404: "Unknown site or form, or a forged, foreign or expired preview token",
}
_TOKEN = {
    400: "The body is not valid JSON (or nests too deep)",
    401: "No token, or a wrong or revoked one (WWW-Authenticate: Bearer)",
    403: "The token belongs to another site, or its role is too low",
    404: "No such contact on this site",
    413: "Body over the size limit (64 KB by default)",
    415: "The body is not application/json",
    422: "Invalid body; error.fields names each key",
    429: "Rate limited; see Retry-After",
}


def _errors(texts: dict[int, str], statuses: tuple[int, ...]) -> dict[str, Any]:
    responses = {}
    for status in statuses:
        response = _json(s.Error, texts[status])
        if status == 429:
            response["headers"] = _RETRY_AFTER
        elif status == 401:
            response["headers"] = _CHALLENGE
        responses[str(status)] = response
    return responses


_BODY_ERRORS = (400, 413, 415, 422)


def _sorted(responses: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(responses.items()))
