"""The request's JSON body, parsed once: the rate limits read the visitor token from it before
the view, and the view validates it with its schema."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest, HTTPException, UnsupportedMediaType

# Kept in the WSGI environ, which is the request's own: ``g`` outlives a request when the app
# context was pushed before it (as in tests and CLI commands).
_ENVIRON_KEY = "trickle.json_body"


def request_json() -> Any:
    """The body parsed as JSON (any JSON value), read and parsed at most once per request.

    Not sent as JSON: 415. Not valid JSON: 400. Over ``MAX_CONTENT_LENGTH``: 413. A second call
    answers the same, value or error, without reading the body again."""
    cached = request.environ.get(_ENVIRON_KEY)
    if cached is None:
        cached = request.environ[_ENVIRON_KEY] = _parse()
    if isinstance(cached, HTTPException):
        raise cached
    return cached[0]


def _parse() -> tuple[Any] | HTTPException:
    if not request.is_json:
        return UnsupportedMediaType("Send the body as JSON with Content-Type: application/json.")
    try:
        raw = request.get_data(cache=True)
    except HTTPException as exc:  # 413: the body is larger than MAX_CONTENT_LENGTH
        return exc
    try:
        return (json.loads(raw),)
    except (ValueError, RecursionError):  # RecursionError: nesting beyond the parser's depth
        return BadRequest("The body is not valid JSON.")
