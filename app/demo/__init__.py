"""The demo: its site config (``demo.yaml``, loaded by ``trickle demo``), its host pages (/demo/...)
and the webhook inbox (/demo/inbox) that shows the demo's deliveries arrive.

``demo_bp`` is registered only when the demo is switched on (setting ``DEMO``,
``TRICKLE_DEMO=1``; ``make run`` sets it): otherwise every /demo/ path is 404 like any unknown
path. A production deployment leaves it off."""

from flask import Blueprint

demo_bp = Blueprint("demo", __name__)

from app.demo import routes  # noqa: E402, F401 - routes attach themselves to demo_bp
