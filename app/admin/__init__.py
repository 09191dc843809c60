"""The console for marketers, analysts and sales: server-rendered pages behind a login."""

from flask import Blueprint

admin_bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.admin import (  # noqa: E402, F401 - each attaches its routes to admin_bp
    account,
    config_editor,
    config_history,
    contacts,
    dashboard,
    destinations,
    explain,
    exports,
    funnel,
    navigation,
    questions,
    queue,
    routes,
    site_settings,
    tokens,
    users,
    whatif,
    widget_forms,
)
