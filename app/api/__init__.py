"""The JSON API: the widget's public endpoints (CORS per site) and the token API."""

from flask import Blueprint, request

from app.extensions import db

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Endpoints that only read: their statements run without a transaction around them (no BEGIN
# and COMMIT to wait for), each on its own. Registered first, before any hook reads.
READ_ONLY = frozenset({"api.ask", "api.preflight"})


@api_bp.before_request
def _reads_without_transaction() -> None:
    # (A session already in a transaction, as a test's may be, keeps it.)
    if request.endpoint in READ_ONLY and db.session().get_transaction() is None:
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


from app.api import contacts, crm, exports, outcomes, preview, routes, unavailable  # noqa: E402, F401 - each attaches its routes to api_bp
