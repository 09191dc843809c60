"""Serving the widget. (The demo pages, served only with the demo on, are in app/demo/routes.py.)"""

from __future__ import annotations

from flask import Response, request

from app.embed import embed_bp
from app.embed.assets import widget_asset
from app.extensions import limiter

# The script's URL carries no version, so caches revalidate often; the ETag makes that cheap.
WIDGET_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"


@embed_bp.get("/widget.js")
@limiter.exempt
def widget() -> Response:
    asset = widget_asset()
    coding = request.accept_encodings.best_match(["br", "gzip", "identity"], default="identity")
    response = Response(asset.bodies[coding], mimetype="text/javascript")
    if coding != "identity":
        response.headers["Content-Encoding"] = coding
    response.set_etag(asset.etag)
    response.headers["Cache-Control"] = WIDGET_CACHE_CONTROL
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.vary.add("Accept-Encoding")
    return response.make_conditional(request)
