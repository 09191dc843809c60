"""The gate every config import passes: a change to the definition waits for the other team.

An import (a file, an upload, a console edit) that changes a site's definition (stages,
``site.followup_hours``, ``sales_outcomes``: ``definition.py``), or turns
``site.definition_approval`` off, is not applied while the site has approvals on: the whole
config is kept as a pending ``DefinitionProposal`` with the definition's diff, and a newer
proposal of the site supersedes the pending one. It is applied, through the same importer, when
a user of the other team approves it (``approvals.py``), or at once when the import itself names
an approver (``trickle import-config --approved-by``). A new site's first config, a change
outside the definition and a site with approvals off apply directly.

Teams come from console users' roles (read here, written by ``accounts``): a marketer's change
needs sales or an admin; a sales user's change needs a marketer or an admin; an admin's change,
and the ``trickle`` command's operator's, any marketer, sales user or other admin. Nobody
approves their own change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select, update

from app.extensions import db
from app.models import MARKETING_TEAM, SALES, SALES_TEAM, DefinitionProposal, Site
from app.services.accounts import active_user
from app.services.errors import Conflict, Forbidden
from app.services.siteconfig.canonical import definition_sections, engagement_weights
from app.services.siteconfig.definition import definition_changed, definition_diff
from app.services.siteconfig.schema import ConfigIn

PENDING, APPROVED, REJECTED, SUPERSEDED = "pending", "approved", "rejected", "superseded"
ADMIN_TEAM = "admin"
TEAM_OF_ROLE = {"marketer": MARKETING_TEAM, SALES: SALES_TEAM, "admin": ADMIN_TEAM}
# Sections an import may change besides the definition; listed on a proposal.
OTHER_SECTIONS = ("site", "engagement", "tiers", "fields", "forms", "destinations")


@dataclass(frozen=True)
class Approval:
    """Who approves a change to the definition, and which pending proposal (None: the import
    being made, approved as it is made)."""

    by: str
    comment: str | None = None
    proposal_id: int | None = None


class DefinitionPending(Exception):
    """Raised by ``import_site_config`` once it has stored the import as a pending proposal
    instead of applying it: a caller that only knows "imported" must not carry on as if the
    new definition held. ``awaiting`` names who may approve it, for the notice."""

    def __init__(self, proposal: DefinitionProposal) -> None:
        self.proposal_id = proposal.id
        self.awaiting = awaiting(proposal.proposed_team)
        super().__init__(
            f"The change to the definition waits for approval by {self.awaiting} "
            f"(proposal {proposal.id}); nothing else was changed either."
        )


def awaiting(team: str | None) -> str:
    """Who may approve a change proposed by ``team``, in words."""
    if team == MARKETING_TEAM:
        return "sales"
    if team == SALES_TEAM:
        return "marketing"
    return "marketing or sales"


def team_of(email: str) -> str | None:
    """The team of the active console user ``email``; None for anyone else (the operator)."""
    user = active_user(email)
    return TEAM_OF_ROLE.get(user.role) if user is not None else None


def check_approver(email: str, proposed_by: str, proposed_team: str | None) -> None:
    """Forbidden unless ``email`` may approve a change ``proposed_by`` (of ``proposed_team``)
    made: an active console user of the other team, or an admin, and never its author."""
    if email.strip().lower() == proposed_by.strip().lower():
        raise Forbidden("You proposed this change: a user of the other team approves it.")
    user = active_user(email)
    if user is None or user.role not in TEAM_OF_ROLE:
        raise Forbidden(
            f"{email} may not approve changes to the definition: only active console users "
            "who are marketers, sales or admins may."
        )
    if TEAM_OF_ROLE[user.role] == proposed_team and proposed_team != ADMIN_TEAM:
        raise Forbidden(
            f"This change was proposed by {proposed_team}: {awaiting(proposed_team)} "
            "(or an admin) approves it."
        )


@dataclass
class Gate:
    """What an import must do about the definition: ``needed`` when it changes it and the site
    wants approvals; ``proposal`` the pending one approved by this import, if any."""

    needed: bool
    site_id: int | None = None
    base_version: int = 0
    approval: Approval | None = None
    proposal: DefinitionProposal | None = None
    diff: list[str] = field(default_factory=list)  # the definition's, as approvers read it
    other_sections: list[str] = field(default_factory=list)


def definition_gate(
    config: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    author: str,
    approval: Approval | None,
) -> Gate:
    """Whether importing ``config`` (loaded, defaults filled) over ``current`` (the site's
    exported config, None for a new site) by ``author`` needs the other team's approval; with
    ``approval``, checked (Forbidden, Conflict) against the author or the proposal it names."""
    site = db.session.scalars(
        select(Site).where(Site.key == config["site"]["key"]).with_for_update()
    ).one_or_none()
    if site is None or current is None or not site.definition_approval:
        return Gate(needed=False)
    proposed = definition_sections(config)
    turning_off = not config["site"]["definition_approval"]
    if not (definition_changed(current, proposed) or turning_off):
        return Gate(needed=False)
    diff = definition_diff(current, proposed)
    if turning_off:
        diff.append("+site.definition_approval: false (changes to the definition apply at once)")
    others = _other_sections(current, config)
    gate = Gate(True, site.id, site.config_version, approval, diff=diff, other_sections=others)
    if approval is not None and approval.proposal_id is not None:
        gate.proposal = _pending_proposal(approval.proposal_id, site)
        check_approver(approval.by, gate.proposal.proposed_by, gate.proposal.proposed_team)
    elif approval is not None:
        check_approver(approval.by, author, team_of(author))
    return gate


def _other_sections(current: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """The sections besides the definition that ``config`` changes (compared loaded)."""
    try:
        before = ConfigIn().load(current)
    except ValidationError:  # a stored config the schema has since grown stricter about
        return list(OTHER_SECTIONS)
    changed = []
    for section in OTHER_SECTIONS:
        old, new = before.get(section), config.get(section)
        if section == "site":
            old, new = _without_definition(old), _without_definition(new)
        elif section == "engagement":  # a default weight given or left out is the same
            old, new = engagement_weights(old), engagement_weights(new)
        if old != new:
            changed.append(section)
    return changed


def _without_definition(site: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in site.items() if k not in ("followup_hours", "definition_approval")}


def _pending_proposal(proposal_id: int, site: Site) -> DefinitionProposal:
    """The proposal being approved, locked; Conflict unless it is still the site's pending one
    and the site is still at the version it was proposed against."""
    proposal = db.session.scalars(
        select(DefinitionProposal)
        .where(DefinitionProposal.id == proposal_id, DefinitionProposal.site_id == site.id)
        .with_for_update()
        .execution_options(populate_existing=True)  # not as an earlier read left it
    ).one_or_none()
    if proposal is None or proposal.status != PENDING:
        raise Conflict(f"Proposal {proposal_id} is no longer pending: nothing was changed.")
    if proposal.base_version != site.config_version:
        raise Conflict(stale_message(proposal, site.config_version))
    return proposal


def stale_message(proposal: DefinitionProposal, version: int) -> str:
    return (
        f"Proposal {proposal.id} was made against config version {proposal.base_version}; "
        f"the site is at version {version} now. Nothing was changed: propose the change again."
    )


def hold(gate: Gate, data: Mapping[str, Any], author: str, now: datetime) -> DefinitionProposal:
    """Store the import as the site's pending proposal; older pending ones are superseded."""
    _supersede_pending(gate.site_id, now)
    proposal = DefinitionProposal(
        site_id=gate.site_id,
        config=dict(data),
        diff=gate.diff,
        other_sections=gate.other_sections,
        base_version=gate.base_version,
        proposed_by=author,
        proposed_team=team_of(author),
        proposed_at=now,
        status=PENDING,
    )
    db.session.add(proposal)
    db.session.flush()
    return proposal


def _supersede_pending(site_id: int | None, now: datetime) -> None:
    db.session.execute(
        update(DefinitionProposal)
        .where(DefinitionProposal.site_id == site_id, DefinitionProposal.status == PENDING)
        .values(status=SUPERSEDED, decided_at=now)
    )


def record_approval(
    gate: Gate, data: Mapping[str, Any], author: str, version: int, now: datetime
) -> None:
    """After an approved import applied as ``version``: the proposal it approved, or (approved
    as it was made) a new approved one, so the history shows who proposed and who approved."""
    approval = gate.approval
    if not gate.needed or approval is None:
        return
    proposal = gate.proposal
    if proposal is None:
        proposal = hold(gate, data, author, now)
    proposal.status = APPROVED
    proposal.decided_by = approval.by
    proposal.decided_at = now
    proposal.comment = approval.comment
    proposal.applied_version = version
