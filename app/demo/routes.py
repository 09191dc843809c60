"""The demo pages (/demo/, /demo/<page>) and /demo/inbox: POST receives the demo's webhooks, GET
lists them. Registered only with the demo switched on (``DEMO``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import Response, abort, current_app, render_template, request, send_file

from app.clock import current_time
from app.demo import demo_bp
from app.demo.inbox import MAX_BODY_BYTES, Rejected, accept, inbox_of, inbox_secrets
from app.extensions import csrf, limiter

# The inbox page: no script, no frames, nothing loaded from elsewhere.
INBOX_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"

DEMO_PAGES = {
    "blog": {"form": "blog", "stage": "early", "title": "Blog"},
    "case-study": {"form": "case_study", "stage": "mid", "title": "Case study"},
    "pricing": {"form": "pricing", "stage": "late", "title": "Pricing"},
}


CASE_STUDY = Path(__file__).with_name("case-study.pdf")


@demo_bp.get("/demo/files/case-study.pdf")
def case_study() -> Response:
    """The gated content of the case study page: its form's on_complete downloads it."""
    return send_file(CASE_STUDY, mimetype="application/pdf", as_attachment=True)


@demo_bp.get("/demo/")
@demo_bp.get("/demo/<page>")
def page(page: str = "blog") -> str:
    if page not in DEMO_PAGES:
        abort(404)
    return render_template("demo/page.html", page=page, pages=DEMO_PAGES, **DEMO_PAGES[page])


def _per_ip() -> str:
    return current_app.config["RATELIMIT_PUBLIC_PER_IP"]


def _secrets_or_404(now: datetime) -> tuple[str, ...]:
    secrets = inbox_secrets(now)
    if not secrets:
        abort(404)  # the demo site, or its inbox destination, is not loaded
    return secrets


@demo_bp.post("/demo/inbox")
@limiter.limit(_per_ip)
def receive_webhook() -> Response:
    now = current_time()
    secrets = _secrets_or_404(now)
    request.max_content_length = MAX_BODY_BYTES  # larger bodies get 413
    try:
        entry = accept(secrets, request.headers, request.get_data(cache=False), now)
    except Rejected as exc:
        return Response(exc.reason + "\n", exc.status, mimetype="text/plain")
    inbox_of(current_app).add(entry)
    return Response(status=204)


csrf.exempt(receive_webhook)  # a webhook carries its signature, not a console session


@demo_bp.get("/demo/inbox")
def show_inbox() -> Response:
    _secrets_or_404(current_time())
    page = render_template("demo/inbox.html", entries=inbox_of(current_app).entries())
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = INBOX_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
