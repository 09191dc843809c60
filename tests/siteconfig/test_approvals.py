"""Two-team approval of the definition (issue 21): an import that changes stages, the hand-off
window or sales_outcomes waits as a proposal until a user of the other team approves it; the
services and the ``trickle config`` commands."""

from __future__ import annotations

import pytest

from app.services.accounts import create_user
from app.services.errors import Conflict, Forbidden, Invalid
from app.services.siteconfig import (
    DefinitionPending,
    approve_proposal,
    config_history,
    dump_config,
    export_site_config,
    import_site_config,
    reject_proposal,
    revision_diff,
    site_proposals,
)
from tests.factories import PASSWORD
from tests.siteconfig.support import (
    ADMIN,
    ANALYST,
    MARKETER,
    SALES_REP,
    approving_config,
    config_version,
    make_approving_site,
    make_team,
    mql_score,
    proposal_states,
    with_mql_at,
)


@pytest.fixture
def acme(app, clock):
    return make_approving_site()


def propose(config, author=MARKETER) -> int:
    with pytest.raises(DefinitionPending) as pending:
        import_site_config(config, author=author)
    return pending.value.proposal_id


def test_a_marketers_change_waits_for_sales_and_lands_when_approved(acme):
    with pytest.raises(DefinitionPending) as pending:
        import_site_config(with_mql_at(20), author=MARKETER)

    assert str(pending.value) == (
        "The change to the definition waits for approval by sales (proposal 1); "
        "nothing else was changed either."
    )
    assert (config_version(), mql_score()) == (1, 15)
    [proposal] = site_proposals("acme")
    assert (proposal.status, proposal.proposed_by, proposal.awaiting) == (
        "pending",
        MARKETER,
        "sales",
    )
    assert [line for line in proposal.diff if line[:1] in "+-"] == [
        "--- definition before",
        "+++ definition after",
        "-    min_score: 15",
        "+    min_score: 20",
    ]
    assert proposal.other_sections == ()

    site = approve_proposal(1, SALES_REP, "agreed in the pipeline review")

    assert (site.config_version, mql_score()) == (2, 20)
    assert proposal_states() == [(1, "approved", SALES_REP, 2)]
    latest = config_history("acme")[0]
    assert (latest.version, latest.author, latest.approved_by, latest.approval_comment) == (
        2,
        MARKETER,
        SALES_REP,
        "agreed in the pipeline review",
    )
    assert revision_diff("acme", 2).revision == latest
    # Destinations hear of it once it lands, with who proposed and who approved it.
    [changed] = definition_changes()
    assert (changed["author"], changed["approved_by"], changed["to_version"]) == (
        MARKETER,
        SALES_REP,
        2,
    )


def definition_changes() -> list[dict]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboxEvent

    rows = select(OutboxEvent.payload).where(OutboxEvent.type == "definition.changed")
    return list(db.session.scalars(rows.order_by(OutboxEvent.id)))


def test_a_sales_users_change_waits_for_marketing(acme):
    propose(with_mql_at(25), author=SALES_REP)
    with pytest.raises(Forbidden):
        approve_proposal(1, "bob@acme.example")  # no console user
    assert approve_proposal(1, MARKETER).config_version == 2


@pytest.mark.parametrize(
    ("author", "approver", "reason"),
    [
        (MARKETER, MARKETER, "You proposed this change: a user of the other team approves it."),
        (ADMIN, ADMIN, "You proposed this change: a user of the other team approves it."),
        (
            MARKETER,
            "max@acme.example",
            "This change was proposed by marketing: sales (or an admin) approves it.",
        ),
        (
            MARKETER,
            ANALYST,
            f"{ANALYST} may not approve changes to the definition: only active console users "
            "who are marketers, sales or admins may.",
        ),
    ],
)
def test_who_may_not_approve(acme, author, approver, reason):
    create_user("max@acme.example", "marketer", PASSWORD)
    propose(with_mql_at(20), author=author)

    with pytest.raises(Forbidden) as refused:
        approve_proposal(1, approver)

    assert refused.value.message == reason
    assert (config_version(), mql_score(), proposal_states()) == (
        1,
        15,
        [(1, "pending", None, None)],
    )


def test_an_admin_approves_a_marketers_change_and_sales_an_admins(acme):
    propose(with_mql_at(20))
    assert approve_proposal(1, ADMIN).config_version == 2
    propose(with_mql_at(30, export_site_config("acme")), author=ADMIN)
    assert approve_proposal(2, SALES_REP).config_version == 3
    assert mql_score() == 30


def test_a_newer_proposal_supersedes_the_pending_one(acme):
    propose(with_mql_at(20))
    propose(with_mql_at(22))

    with pytest.raises(Conflict) as stale:
        approve_proposal(1, SALES_REP)

    assert stale.value.message == (
        "Proposal 1 is superseded, not pending: nothing was changed. A newer proposal replaced it."
    )
    assert [p[:2] for p in proposal_states()] == [(1, "superseded"), (2, "pending")]
    assert approve_proposal(2, SALES_REP).config_version == 2
    assert mql_score() == 22


def test_a_proposal_goes_stale_when_the_config_changes_under_it(acme):
    propose(with_mql_at(20))
    other = approving_config()
    other["forms"][0]["title"] = "Stay in touch"  # outside the definition: applies at once
    assert import_site_config(other, author=MARKETER).config_version == 2

    with pytest.raises(Conflict) as stale:
        approve_proposal(1, SALES_REP)

    assert stale.value.message == (
        "Proposal 1 was made against config version 1; the site is at version 2 now. "
        "Nothing was changed: propose the change again."
    )
    assert (config_version(), mql_score()) == (2, 15)
    assert site_proposals("acme")[0].stale is True
    assert reject_proposal(1, SALES_REP, "stale").status == "rejected"


def test_a_rejection_needs_a_comment_and_changes_nothing(acme):
    propose(with_mql_at(20))
    with pytest.raises(Invalid) as bad:
        reject_proposal(1, SALES_REP, "  ")
    assert bad.value.fields == {"comment": ["say why the change is rejected"]}

    rejected = reject_proposal(1, SALES_REP, "15 is what we agreed")

    assert (rejected.status, rejected.decided_by, rejected.comment) == (
        "rejected",
        SALES_REP,
        "15 is what we agreed",
    )
    assert (config_version(), mql_score()) == (1, 15)
    with pytest.raises(Conflict):
        approve_proposal(1, SALES_REP)


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c["site"].update(followup_hours=24),
        lambda c: c.update(sales_outcomes={"rejection_reasons": ["no_budget"]}),
        lambda c: c["stages"].pop(),
        lambda c: c["site"].update(definition_approval=False),  # turning approvals off
    ],
)
def test_every_part_of_the_definition_waits(acme, change):
    config = approving_config()
    change(config)
    propose(config)
    assert config_version() == 1


def test_turning_approvals_off_says_so_in_the_diff(acme):
    propose(approving_config(definition_approval=False))
    [proposal] = site_proposals("acme")
    assert proposal.diff == (
        "+site.definition_approval: false (changes to the definition apply at once)",
    )
    approve_proposal(1, SALES_REP)
    assert export_site_config("acme")["site"]["definition_approval"] is False


def test_a_change_outside_the_definition_and_the_same_config_again_apply_at_once(acme):
    config = approving_config()
    assert import_site_config(config, author=MARKETER).config_version == 2
    config["fields"][1]["label"] = "Your first name"
    assert import_site_config(config, author=MARKETER).config_version == 3
    assert proposal_states() == []


def test_with_approvals_off_a_definition_change_applies_at_once(app, clock):
    make_team()
    import_site_config(approving_config(definition_approval=False))

    site = import_site_config(with_mql_at(20, approving_config(definition_approval=False)))

    assert (site.config_version, mql_score(), proposal_states()) == (2, 20, [])
    assert export_site_config("acme")["site"]["definition_approval"] is False
    # turning them back on applies at once too; the default is left out of the export
    import_site_config(approving_config())
    assert "definition_approval" not in export_site_config("acme")["site"]


# ---- the command ----


def write(tmp_path, config) -> str:
    path = tmp_path / "acme.yaml"
    path.write_text(dump_config(config, "yaml"), encoding="utf-8")
    return str(path)


def test_import_config_without_an_approver_leaves_the_change_pending(acme, runner, tmp_path):
    result = runner.invoke(args=["import-config", write(tmp_path, with_mql_at(20))])

    assert result.exit_code == 0, result.output
    assert result.output == (
        "Not applied yet: The change to the definition waits for approval by marketing or "
        "sales (proposal 1); nothing else was changed either. Approve it in the console or "
        "with `trickle config approve 1 --by EMAIL`.\n"
    )
    assert (config_version(), mql_score()) == (1, 15)
    listed = runner.invoke(args=["config", "proposals", "acme"]).output.splitlines()
    assert listed[0].startswith("Proposal 1 by trickle import-config (")
    assert listed[0].endswith("against version 1: pending, awaiting marketing or sales")
    assert "+    min_score: 20" in listed


def test_import_config_approved_by_a_console_user_applies(acme, runner, tmp_path):
    path = write(tmp_path, with_mql_at(20))

    result = runner.invoke(
        args=["import-config", path, "--approved-by", SALES_REP, "--comment", "PR #12"]
    )

    assert result.exit_code == 0, result.output
    assert result.output == "Imported site 'acme' (config version 2).\n"
    assert proposal_states() == [(1, "approved", SALES_REP, 2)]
    latest = config_history("acme")[0]
    assert (latest.author, latest.approved_by, latest.approval_comment) == (
        "trickle import-config",
        SALES_REP,
        "PR #12",
    )


def test_import_config_approved_by_someone_who_may_not(acme, runner, tmp_path):
    path = write(tmp_path, with_mql_at(20))

    result = runner.invoke(args=["import-config", path, "--approved-by", ANALYST])

    assert result.exit_code == 1
    assert result.output == (
        f"error: {ANALYST} may not approve changes to the definition: only active console "
        "users who are marketers, sales or admins may.\nNothing was changed.\n"
    )
    assert (config_version(), mql_score(), proposal_states()) == (1, 15, [])


def test_config_approve_and_reject(acme, runner):
    propose(with_mql_at(20))

    own = runner.invoke(args=["config", "approve", "1", "--by", MARKETER])
    assert (own.exit_code, own.output) == (
        1,
        "error: You proposed this change: a user of the other team approves it.\n"
        "Nothing was changed.\n",
    )
    approved = runner.invoke(args=["config", "approve", "1", "--by", SALES_REP])
    assert (approved.exit_code, approved.output) == (
        0,
        "Approved proposal 1: site 'acme' is at config version 2.\n",
    )
    again = runner.invoke(args=["config", "approve", "1", "--by", SALES_REP])
    assert (again.exit_code, again.output) == (
        1,
        "error: Proposal 1 is approved, not pending: nothing was changed.\nNothing was changed.\n",
    )

    propose(with_mql_at(30, export_site_config("acme")))
    no_reason = runner.invoke(args=["config", "reject", "2", "--by", SALES_REP, "--comment", ""])
    assert (no_reason.exit_code, no_reason.output) == (
        1,
        "error: comment: say why the change is rejected\n",
    )
    rejected = runner.invoke(args=["config", "reject", "2", "--by", SALES_REP, "--comment", "no"])
    assert (rejected.exit_code, rejected.output) == (0, "Rejected proposal 2 of site 'acme'.\n")
    missing = runner.invoke(args=["config", "approve", "9", "--by", SALES_REP])
    assert (missing.exit_code, missing.output) == (
        1,
        "error: No proposal 9.\nNothing was changed.\n",
    )
    assert (config_version(), mql_score()) == (2, 20)


def test_trickle_demo_puts_a_changed_demo_definition_back(app, clock, runner):
    assert runner.invoke(args=["demo", "--no-contacts"]).exit_code == 0
    original = export_site_config("demo")
    changed = export_site_config("demo")
    changed["site"]["followup_hours"] = 12
    propose(changed, author="someone@demo.example")
    assert (
        runner.invoke(args=["config", "approve", "1", "--by", "sales@demo.example"]).exit_code == 0
    )
    assert export_site_config("demo")["site"]["followup_hours"] == 12

    again = runner.invoke(args=["demo", "--no-contacts"])

    assert again.exit_code == 0, again.output
    assert export_site_config("demo") == original
    assert config_history("demo")[0].approved_by == "admin@demo.example"
