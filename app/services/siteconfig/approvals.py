"""Deciding on a change to the definition: the pending proposals of a site, approve, reject.

Approving imports the proposal's config through ``import_site_config``, the one path every
applied change takes (validation, revision, what runs when a definition lands), with the
approval recorded on the proposal in the same transaction. ``proposals.py`` says who may.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from app.clock import current_time
from app.extensions import db
from app.models import DefinitionProposal, Site
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.siteconfig.importer import import_site_config
from app.services.siteconfig.proposals import (
    PENDING,
    REJECTED,
    SUPERSEDED,
    Approval,
    awaiting,
    check_approver,
    stale_message,
)
from app.services.transactions import commit_unit

RECENT_DECISIONS = 10
MAX_COMMENT = 2000


@dataclass(frozen=True)
class Proposal:
    """A proposal as the console and the command show it."""

    id: int
    site_key: str
    status: str
    proposed_by: str
    proposed_team: str | None
    proposed_at: datetime
    awaiting: str  # who may approve it, in words
    base_version: int
    stale: bool  # the site moved past base_version: it can only be rejected
    diff: tuple[str, ...]
    other_sections: tuple[str, ...]
    decided_by: str | None
    decided_at: datetime | None
    comment: str | None
    applied_version: int | None


def _view(row: DefinitionProposal, site: Site) -> Proposal:
    return Proposal(
        id=row.id,
        site_key=site.key,
        status=row.status,
        proposed_by=row.proposed_by,
        proposed_team=row.proposed_team,
        proposed_at=row.proposed_at,
        awaiting=awaiting(row.proposed_team),
        base_version=row.base_version,
        stale=row.status == PENDING and row.base_version != site.config_version,
        diff=tuple(row.diff or ()),
        other_sections=tuple(row.other_sections or ()),
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        comment=row.comment,
        applied_version=row.applied_version,
    )


def site_proposals(site_key: str) -> list[Proposal]:
    """The site's pending proposal(s), then its latest decided ones, newest first."""
    site = db.session.scalar(select(Site).where(Site.key == site_key))
    if site is None:
        raise NotFound(f'No site "{site_key}".')
    rows = db.session.scalars(
        select(DefinitionProposal)
        .where(DefinitionProposal.site_id == site.id)
        .order_by(DefinitionProposal.id.desc())
    )
    pending, decided = [], []
    for row in rows:
        (pending if row.status == PENDING else decided).append(_view(row, site))
        if len(decided) >= RECENT_DECISIONS:
            break
    return [*pending, *decided]


def may_decide(proposal: Proposal, email: str) -> bool:
    """Whether console user ``email`` may approve or reject ``proposal`` (pending, not theirs,
    of the other team): the console shows its buttons only then."""
    if proposal.status != PENDING:
        return False
    try:
        check_approver(email, proposal.proposed_by, proposal.proposed_team)
    except Forbidden:
        return False
    return True


def proposals_awaiting(site_key: str, email: str) -> list[Proposal]:
    """The site's pending proposals that console user ``email`` may approve now (not stale):
    what the console's notice on the site's pages points them to."""
    rows = db.session.execute(
        select(DefinitionProposal, Site)
        .join(Site, Site.id == DefinitionProposal.site_id)
        .where(Site.key == site_key, DefinitionProposal.status == PENDING)
    ).all()
    views = [_view(row, site) for row, site in rows]
    return [view for view in views if not view.stale and may_decide(view, email)]


def find_proposal(proposal_id: int, site_key: str | None = None) -> Proposal:
    """Proposal ``proposal_id`` (of ``site_key`` when given); NotFound otherwise."""
    row, site = _proposal_and_site(proposal_id, site_key)
    return _view(row, site)


def _proposal_and_site(proposal_id: int, site_key: str | None) -> tuple[DefinitionProposal, Site]:
    """As stored now, not as this session last saw them (a decision may have landed since)."""
    found = db.session.execute(
        select(DefinitionProposal, Site)
        .join(Site, Site.id == DefinitionProposal.site_id)
        .where(DefinitionProposal.id == proposal_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if found is None or (site_key is not None and found[1].key != site_key):
        raise NotFound(f"No proposal {proposal_id}.")
    return found[0], found[1]


def _decidable(proposal_id: int, site_key: str | None, by: str) -> tuple[DefinitionProposal, Site]:
    """The proposal, if ``by`` may decide on it now: Forbidden (their own, the same team),
    Conflict (decided, superseded) first, as nothing else matters then."""
    row, site = _proposal_and_site(proposal_id, site_key)
    if row.status != PENDING:
        raise Conflict(
            f"Proposal {proposal_id} is {row.status}, not pending: nothing was changed."
            + (" A newer proposal replaced it." if row.status == SUPERSEDED else "")
        )
    check_approver(by, row.proposed_by, row.proposed_team)
    return row, site


def approve_proposal(
    proposal_id: int, by: str, comment: str | None = None, site_key: str | None = None
) -> Site:
    """Apply proposal ``proposal_id`` as approved by console user ``by``: its config imported
    by its author, the approval recorded with it. Forbidden when ``by`` may not approve it,
    Conflict when it is not the site's pending proposal or the site moved past its version;
    Invalid (nothing changed) when the config no longer imports."""
    comment = _comment(comment, required=False)
    row, site = _decidable(proposal_id, site_key, by)
    if row.base_version != site.config_version:
        raise Conflict(stale_message(row, site.config_version))
    config, author, base = row.config, row.proposed_by, row.base_version
    approval = Approval(by=by.strip(), comment=comment, proposal_id=row.id)
    return import_site_config(config, author=author, expected_version=base, approval=approval)


def reject_proposal(
    proposal_id: int, by: str, comment: str | None, site_key: str | None = None
) -> Proposal:
    """Reject proposal ``proposal_id`` with ``comment`` (required: the author reads why);
    the same people may reject as may approve. A stale proposal can still be rejected.

    The write is conditional on the proposal being pending still: an approval that lands
    between this read and this write (it locks the proposal; a rejection does not wait for one)
    leaves the rejection nothing to change, and it answers Conflict."""
    comment = _comment(comment, required=True)

    def work() -> Proposal:
        row, site = _decidable(proposal_id, site_key, by)
        decided = db.session.execute(
            update(DefinitionProposal)
            .where(DefinitionProposal.id == row.id, DefinitionProposal.status == PENDING)
            .values(status=REJECTED, decided_by=by.strip(), decided_at=current_time())
            .values(comment=comment)
            .execution_options(synchronize_session=False)
        )
        if decided.rowcount != 1:  # decided meanwhile: _decidable's Conflict says how
            _decidable(proposal_id, site_key, by)
            raise Conflict(f"Proposal {proposal_id} was decided meanwhile: nothing was changed.")
        db.session.refresh(row)
        return _view(row, site)

    return commit_unit(work)


def _comment(comment: str | None, *, required: bool) -> str | None:
    text = (comment or "").strip()
    if required and not text:
        raise Invalid("Nothing was changed.", {"comment": ["say why the change is rejected"]})
    if len(text) > MAX_COMMENT:
        raise Invalid("Nothing was changed.", {"comment": [f"at most {MAX_COMMENT} characters"]})
    return text or None


def proposal_config(proposal_id: int, site_key: str | None = None) -> tuple[str, dict[str, Any]]:
    """The site and the whole config a proposal would import (for its what-if); NotFound for
    an unknown proposal, or one of another site than ``site_key``."""
    row, site = _proposal_and_site(proposal_id, site_key)
    return site.key, dict(row.config)
