"""The live preview's API (``services/asking/preview.py``): the widget's three endpoints under
``/api/v1/preview/<token>``, answering a made-up visitor and storing nothing."""

from __future__ import annotations

from flask import Response, jsonify, request

from app.api import api_bp
from app.api.limits import rate_limited
from app.api.routes import ASK_IN, EVENT_IN, load_body
from app.api.schemas import Empty, PreviewAskOut, PreviewSubmitIn, PreviewSubmitOut
from app.clock import current_time
from app.services.asking import preview_ask, preview_submit
from app.services.errors import OriginNotAllowed

PREFIX = "/preview/<token>/api/v1/sites/<site>"

PREVIEW_SUBMIT_IN, PREVIEW_ASK_OUT = PreviewSubmitIn(), PreviewAskOut()
PREVIEW_SUBMIT_OUT, EMPTY = PreviewSubmitOut(), Empty()


@api_bp.before_request
def _same_origin_only() -> None:
    """The preview page is served by Trickle itself; no other page may drive it."""
    if request.endpoint and request.endpoint.startswith("api.preview_"):
        origin = request.headers.get("Origin")
        if origin is not None and origin != request.host_url.rstrip("/"):
            raise OriginNotAllowed("The preview answers only the console's own pages.")


@api_bp.post(PREFIX + "/forms/<form>/ask", endpoint="preview_ask")
@rate_limited
def ask(token: str, site: str, form: str) -> Response:
    body = load_body(ASK_IN)
    page = body.get("page") or {}
    now = current_time()
    return jsonify(PREVIEW_ASK_OUT.dump(preview_ask(token, site, form, page.get("stage"), now)))


@api_bp.post(PREFIX + "/forms/<form>/submit", endpoint="preview_submit")
@rate_limited
def submit(token: str, site: str, form: str) -> Response:
    body = load_body(PREVIEW_SUBMIT_IN)
    now = current_time()
    result = preview_submit(
        token, site, form, body["ask_token"], body["answers"], body["skipped"], now
    )
    return jsonify(PREVIEW_SUBMIT_OUT.dump(result))


@api_bp.post(PREFIX + "/events", endpoint="preview_events")
@rate_limited
def events(token: str, site: str) -> tuple[Response, int]:
    """Engagement in a preview is not engagement: checked like a real event, then dropped."""
    load_body(EVENT_IN)
    return jsonify(EMPTY.dump({})), 202
