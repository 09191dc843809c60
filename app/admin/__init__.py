"""The marketer and analyst console: server-rendered pages behind a login."""

from flask import Blueprint

admin_bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.admin import config, configure, contacts, explain, navigation, routes, users  # noqa: E402, F401 - each attaches its routes to admin_bp
