"""`trickle config proposals|approve|reject`: deciding on a change to the definition
(docs/sales.md, "Changing the definition")."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from app.cli.errors import exit_on_refusal

if TYPE_CHECKING:
    from app.services.siteconfig import Proposal


@click.command("proposals")
@click.argument("site")
def proposals_command(site: str) -> None:
    """List SITE's pending change to the definition (with its diff) and the latest decisions."""
    from app.services.siteconfig import site_proposals

    with exit_on_refusal():
        proposals = site_proposals(site)
    if not proposals:
        click.echo(f"No proposal for site {site!r}.")
    for proposal in proposals:
        click.echo(describe(proposal))
        if proposal.status == "pending":
            click.echo("\n".join(proposal.diff))


def describe(proposal: Proposal) -> str:
    """One line: the proposal, who proposed it, and its state."""
    line = (
        f"Proposal {proposal.id} by {proposal.proposed_by}"
        f" ({proposal.proposed_at:%Y-%m-%d %H:%M} UTC), against version {proposal.base_version}: "
    )
    if proposal.status == "pending":
        state = f"pending, awaiting {proposal.awaiting}"
        if proposal.stale:
            state += " (stale: the config changed since; it can only be rejected)"
    else:
        state = f"{proposal.status}" + (f" by {proposal.decided_by}" if proposal.decided_by else "")
        if proposal.applied_version:
            state += f" as version {proposal.applied_version}"
    if proposal.other_sections:
        state += f"; also changes {', '.join(proposal.other_sections)}"
    return line + state + (f" ({proposal.comment})" if proposal.comment else "")


@click.command("approve")
@click.argument("proposal", type=int)
@click.option("--by", "by", required=True, help="The approving console user's email.")
@click.option("--comment", default=None, help="Why, for the history.")
def approve_command(proposal: int, by: str, comment: str | None) -> None:
    """Apply PROPOSAL, approved by console user --by (of the other team, not its author)."""
    from app.services.siteconfig import approve_proposal

    with exit_on_refusal(problems_listed=True, footer="Nothing was changed."):
        site = approve_proposal(proposal, by, comment)
    click.echo(
        f"Approved proposal {proposal}: site {site.key!r} is at config version "
        f"{site.config_version}."
    )


@click.command("reject")
@click.argument("proposal", type=int)
@click.option("--by", "by", required=True, help="The rejecting console user's email.")
@click.option("--comment", required=True, help="Why: the author reads it.")
def reject_command(proposal: int, by: str, comment: str) -> None:
    """Reject PROPOSAL with a comment; the site's config stays as it is."""
    from app.services.siteconfig import reject_proposal

    with exit_on_refusal():
        rejected = reject_proposal(proposal, by, comment)
    click.echo(f"Rejected proposal {rejected.id} of site {rejected.site_key!r}.")
