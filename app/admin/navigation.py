"""Navigation by site: every site page shows the site's sections and a switcher to other sites;
the notice of suspended destinations on the home page and a site's pages; and, to admins, the
notice of users locked out after too many failed sign-ins."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.admin import access, admin_bp
from app.clock import current_time
from app.models import SALES
from app.services.accounts import sign_in_locks
from app.services.delivery import suspended_destinations
from app.services.insights import site_names
from app.services.siteconfig import proposals_awaiting

# (endpoint, label) of each section of a site, in menu order; all take only ``site``.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("admin.dashboard", "Dashboard"),
    ("admin.questions", "Questions"),
    ("admin.forms", "Forms"),
    ("admin.contacts", "Contacts"),
    ("admin.queue", "Queue"),
    ("admin.funnel", "Funnel"),
    ("admin.exports", "Export"),
    ("admin.explain", "Explain"),
    ("admin.site_settings", "Settings"),
    ("admin.destinations", "Destinations"),
    ("admin.tokens", "API tokens"),
    ("admin.config", "History"),
)
# The roles that may open a section (any of them; default analyst and up); the others do not
# see it in the menu. A sales user sees the queue, the funnel report, and the config's history,
# where changes to the definition wait for approval.
_ROLES_OF: dict[str, tuple[str, ...]] = {
    "admin.destinations": ("admin",),
    "admin.tokens": ("admin",),
    "admin.queue": ("analyst", SALES),
    "admin.funnel": ("analyst", SALES),
    "admin.config": ("analyst", SALES),
}
_SECTION_OF = {
    "admin.tier": "admin.questions",
    "admin.field": "admin.questions",
    "admin.form": "admin.forms",
    "admin.contact": "admin.contacts",
    "admin.brief": "admin.queue",
    "admin.config_revision": "admin.config",
    "admin.whatif": "admin.config",
    "admin.whatif_request": "admin.config",
    "admin.whatif_result": "admin.config",
    "admin.whatif_of_proposal": "admin.config",
    "admin.destination": "admin.destinations",
    "admin.destination_edit": "admin.destinations",
    "admin.export_download": "admin.exports",
    "admin.token_revoke": "admin.tokens",
}


@admin_bp.app_context_processor
def _site_navigation() -> dict[str, Any]:
    args = request.view_args or {}
    if request.blueprint != "admin" or "site" not in args:
        return {}
    if not current_user.is_authenticated:
        return {}
    sites = site_names()
    if args["site"] not in {key for key, _ in sites}:
        return {}
    endpoint = request.endpoint or ""
    return {
        "nav_site": args["site"],
        "nav_sites": sites,
        "nav_sections": visible_sections(),
        "nav_current": _SECTION_OF.get(endpoint, endpoint),
    }


def visible_sections() -> list[tuple[str, str]]:
    """The sections of a site the signed-in user may open, in menu order."""
    return [
        (endpoint, label)
        for endpoint, label in SECTIONS
        if current_user.can(*_ROLES_OF.get(endpoint, ("analyst",)))
    ]


@admin_bp.app_context_processor
def _suspended_notice() -> dict[str, Any]:
    """Suspended destinations, on every console page: a site's pages show the site's own (but
    not the one whose page it is: that page says it at length), other pages every site's.
    Not to sales users, who may not see destinations."""
    args = request.view_args or {}
    if request.blueprint != "admin" or not current_user.is_authenticated:
        return {}
    if not current_user.can("analyst"):
        return {}
    if "site" not in args:
        return {"suspended_destinations": suspended_destinations()}
    found = suspended_destinations(args["site"])
    if request.endpoint == "admin.destination":
        found = [s for s in found if s.key != args.get("key")]
    return {"suspended_destinations": found}


@admin_bp.app_context_processor
def _sign_in_lock_notice() -> dict[str, Any]:
    """Users locked out after too many failed sign-ins, on every console page of an admin
    (who may unlock them), until the lock is lifted or ends."""
    if request.blueprint != "admin" or not current_user.is_authenticated:
        return {}
    if not current_user.can("admin"):
        return {}
    return {"sign_in_locks": sign_in_locks(current_time())}


@admin_bp.app_context_processor
def _approval_notice() -> dict[str, Any]:
    """On a site's pages (but its config page, which shows them at length), the changes to
    the definition the signed-in user may approve: the other team's, waiting for them."""
    args = request.view_args or {}
    if request.blueprint != "admin" or not current_user.is_authenticated or "site" not in args:
        return {}
    if request.endpoint == "admin.config" or not current_user.can("marketer", SALES):
        return {}
    return {"awaiting_approval": proposals_awaiting(args["site"], current_user.email)}


@admin_bp.get("/switch")
@access.role_required("analyst", SALES)
def switch_site() -> Response:
    """The site switcher's target: the same section of another site (or the first section
    the user may open)."""
    site = request.args.get("site", "")
    section = request.args.get("section", "")
    sections = visible_sections()
    if section not in dict(sections):
        section = sections[0][0]
    if site not in {key for key, _ in site_names()}:
        return redirect(url_for("admin.home"))
    return redirect(url_for(section, site=site))
