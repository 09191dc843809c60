from app.api import api_bp  # noqa: F401
