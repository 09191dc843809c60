"""The token API's exports (DESIGN §4): contacts and submission history, streamed.

The token is checked before anything else, so a caller without one learns nothing (not even
whether the site exists); then the query string is checked as a whole (422 names every bad
parameter); only then does the first byte go out.
"""

from __future__ import annotations

from flask import Response, request, stream_with_context

from app.api import api_bp
from app.api.auth import require_token, token_api_limited
from app.clock import current_time
from app.services.exports import Export, start_export


def query_params() -> dict[str, str]:
    """The query string as the export parsers take it: a repeated key's values joined with
    commas (``stage=mql&stage=sql`` is ``stage=mql,sql``)."""
    return {key: ",".join(values) for key, values in request.args.lists()}


def streamed(export: Export) -> Response:
    """``export`` as an attachment, streamed chunk by chunk (also used by the console)."""
    response = Response(stream_with_context(export.chunks), content_type=export.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


@api_bp.get("/sites/<site>/contacts/export", defaults={"what": "contacts"})
@api_bp.get("/sites/<site>/submissions/export", defaults={"what": "submissions"})
@token_api_limited
def export_view(site: str, what: str) -> Response:
    require_token(site, "analyst")
    return streamed(start_export(site, what, query_params(), current_time()))
