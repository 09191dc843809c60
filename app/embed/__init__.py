"""The embeddable widget as served (/widget.js)."""

from flask import Blueprint

embed_bp = Blueprint("embed", __name__)

from app.embed import routes  # noqa: E402, F401 - routes attach themselves to embed_bp
