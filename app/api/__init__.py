"""The JSON API: the widget's public endpoints (CORS per site) and the token API."""

from flask import Blueprint

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.api import contacts, exports, preview, routes  # noqa: E402, F401 - each attaches its routes to api_bp
