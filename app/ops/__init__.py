"""Operations: request ids and JSON logs, ``/healthz`` and ``/metrics`` (docs/deploy.md)."""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, g, request

from app.ops.logs import REQUEST_ID_HEADER, configure_logging, current_request_id, log_access
from app.ops.metrics import check_multiproc_dir, observe

ops_bp = Blueprint("ops", __name__)


def init_ops(app: Flask) -> None:
    configure_logging(app)
    check_multiproc_dir()
    # First of all before-request hooks (the rate limiter's included), so that what they log
    # already carries the request id and the clock starts with the request.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)
    app.register_blueprint(ops_bp)


def _start_request() -> None:
    g.request_started = time.perf_counter()
    current_request_id()


def _finish_request(response: Response) -> Response:
    seconds = time.perf_counter() - g.get("request_started", time.perf_counter())
    response.headers[REQUEST_ID_HEADER] = current_request_id()
    rule = request.url_rule.rule if request.url_rule is not None else None
    observe(request.method, rule, response.status_code, seconds)
    log_access(response, seconds * 1000)
    return response


from app.ops import views  # noqa: E402, F401 - attaches /healthz and /metrics to ops_bp
