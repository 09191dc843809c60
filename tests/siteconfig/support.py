"""Builders for the approval tests: the Acme config with stages and approvals on (the
product's default), the users of both teams, and what the database holds."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import DefinitionProposal, Site
from app.services.accounts import create_user
from app.services.siteconfig import import_site_config
from tests.factories import PASSWORD, acme_config

MARKETER, SALES_REP, ADMIN, ANALYST = (
    "mia@acme.example",
    "sam@acme.example",
    "ada@acme.example",
    "ann@acme.example",
)
STAGES = [
    {"key": "lead", "when": {"fields_known": ["email"]}},
    {"key": "mql", "when": {"min_score": 15}, "handoff": True},
]


def approving_config(**site: Any) -> dict[str, Any]:
    """Acme with two stages and approvals on (left out: the default)."""
    config = acme_config(stages=copy.deepcopy(STAGES))
    config["site"] = {k: v for k, v in config["site"].items() if k != "definition_approval"}
    config["site"].update(site)
    return config


def with_mql_at(score: int, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """``config`` (default: the approving one) with the mql stage at ``score``."""
    config = copy.deepcopy(config or approving_config())
    config["stages"][1]["when"]["min_score"] = score
    return config


def make_team() -> None:
    """A marketer, a sales user, an admin and an analyst."""
    for email, role in (
        (MARKETER, "marketer"),
        (SALES_REP, "sales"),
        (ADMIN, "admin"),
        (ANALYST, "analyst"),
    ):
        create_user(email, role, PASSWORD)


def make_approving_site() -> Site:
    make_team()
    return import_site_config(approving_config())


def mql_score() -> int:
    site = db.session.scalars(select(Site).where(Site.key == "acme")).one()
    db.session.refresh(site)
    return next(s.when["min_score"] for s in site.stages if s.key == "mql")


def proposal_states() -> list[tuple[int, str, str | None, int | None]]:
    """(id, status, decided_by, applied_version) of every proposal, oldest first."""
    db.session.expire_all()
    rows = db.session.scalars(select(DefinitionProposal).order_by(DefinitionProposal.id))
    return [(p.id, p.status, p.decided_by, p.applied_version) for p in rows]


def config_version() -> int:
    db.session.expire_all()
    return db.session.scalar(select(Site.config_version).where(Site.key == "acme"))
