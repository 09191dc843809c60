"""Two decisions on one proposal at once: exactly one of them counts, and what the proposal says
happened is what happened to the site's config."""

from __future__ import annotations

import threading

import pytest
from flask import Flask

from app.extensions import db
from app.services.errors import Conflict
from app.services.siteconfig import DefinitionPending, import_site_config
from app.services.siteconfig import approvals as approvals_module
from app.services.siteconfig.approvals import approve_proposal, reject_proposal
from tests.siteconfig.support import (
    ADMIN,
    MARKETER,
    SALES_REP,
    config_version,
    make_approving_site,
    mql_score,
    proposal_states,
    with_mql_at,
)
from tests.test_concurrent_writes import TIMEOUT, together


@pytest.fixture
def pending(app: Flask, clock):
    """Acme with approvals on and the marketer's proposal 1 (mql at 20) waiting."""
    make_approving_site()
    with pytest.raises(DefinitionPending):
        import_site_config(with_mql_at(20), author=MARKETER)
    db.session.remove()  # the test's session holds nothing open while the threads write


def decide(app: Flask, verdict: str, by: str) -> str:
    """Approve or reject proposal 1 on a connection of its own; "applied", "rejected" or
    "conflict"."""
    with app.app_context():
        try:
            if verdict == "approve":
                approve_proposal(1, by, "ok", "acme")
                return "applied"
            reject_proposal(1, by, "not now", "acme")
            return "rejected"
        except Conflict:
            return "conflict"
        finally:
            db.session.remove()


def test_two_approvals_at_once_apply_the_change_once(app, pending):
    answers = together(
        [lambda: decide(app, "approve", SALES_REP), lambda: decide(app, "approve", ADMIN)]
    )

    assert sorted(answers) == ["applied", "conflict"]
    winner = SALES_REP if answers[0] == "applied" else ADMIN
    assert proposal_states() == [(1, "approved", winner, 2)]
    assert (config_version(), mql_score()) == (2, 20)


def test_an_approval_and_a_rejection_at_once_agree_with_the_config(app, pending):
    answers = together(
        [lambda: decide(app, "approve", SALES_REP), lambda: decide(app, "reject", ADMIN)]
    )

    if answers == ["applied", "conflict"]:
        assert proposal_states() == [(1, "approved", SALES_REP, 2)]
        assert (config_version(), mql_score()) == (2, 20)
    else:
        assert answers == ["conflict", "rejected"]
        assert proposal_states() == [(1, "rejected", ADMIN, None)]
        assert (config_version(), mql_score()) == (1, 15)


def test_a_rejection_read_before_an_approval_lands_does_not_undo_it(app, pending, monkeypatch):
    """The rejection reads the proposal as pending; the approval then applies it; the rejection
    must not mark an applied change rejected."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite runs each write unit under BEGIN IMMEDIATE: the two cannot interleave")
    read, go = threading.Event(), threading.Event()
    checked = approvals_module.check_approver

    def check_then_wait(email: str, proposed_by: str, proposed_team: str | None) -> None:
        checked(email, proposed_by, proposed_team)
        if email == ADMIN:  # the rejection, between its read and its write
            read.set()
            assert go.wait(TIMEOUT)

    monkeypatch.setattr(approvals_module, "check_approver", check_then_wait)
    answers: list[str] = []
    rejecting = threading.Thread(target=lambda: answers.append(decide(app, "reject", ADMIN)))
    rejecting.start()
    assert read.wait(TIMEOUT)
    assert decide(app, "approve", SALES_REP) == "applied"
    go.set()
    rejecting.join(TIMEOUT)

    assert answers == ["conflict"]
    assert proposal_states() == [(1, "approved", SALES_REP, 2)]
    assert (config_version(), mql_score()) == (2, 20)
