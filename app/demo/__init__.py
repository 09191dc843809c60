"""The demo: its site config (``demo.yaml``, loaded by ``trickle demo``) and the webhook inbox
(/demo/inbox) that shows the demo's deliveries arrive."""

from flask import Blueprint

demo_bp = Blueprint("demo", __name__)

from app.demo import routes  # noqa: E402, F401 - routes attach themselves to demo_bp
