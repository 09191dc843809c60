"""Ask: which questions this visitor sees now on this form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from app.domain.selection import Selection, select_questions
from app.domain.specs import ContactState, Dependency
from app.services.insights import count_shown
from app.services.people import ask_view, count_form_ask
from app.services.siteconfig import FieldView, FormView, SiteSnapshot, site_snapshot
from app.services.tokens import (
    AskGrant,
    ask_token,
    new_visitor_id,
    read_visitor_token,
    unstored_visitor_id,
    visitor_token,
)
from app.services.transactions import commit_unit


@dataclass(frozen=True)
class Offered:
    """The questions a selection offers, as the API shows them: those granted conditioned
    (key -> its ask_if) and the form's consent line among them (not counted in the limit)."""

    questions: tuple[FieldView, ...]
    conditions: Mapping[str, Dependency]
    line: str | None

    @classmethod
    def of(cls, site: SiteSnapshot, form: FormView, selection: Selection) -> Offered:
        line = form.rules.consent_line
        return cls(
            questions=tuple(site.fields[q.key] for q in selection.questions),
            conditions=selection.conditions,
            line=line if any(q.key == line for q in selection.questions) else None,
        )


@dataclass(frozen=True)
class AskResult:
    visitor: str  # "" in a preview, which hands out no visitor token
    ask_token: str
    complete: bool
    form: FormView
    offered: Offered

    @property
    def questions(self) -> tuple[FieldView, ...]:
        return self.offered.questions


def ask_questions(
    site_key: str, form_key: str, token: str | None, page_stage: str | None, now: datetime
) -> AskResult:
    """Select the questions for the visitor behind ``token`` (a new visitor if none or forged).

    Asking writes nothing but the questions shown and, when it returns any, the form's ask
    (both counted in batches, elsewhere): a returning browser's state is one statement
    (``people.ask_view``), after the site's freshness check.
    A browser with no stored visitor (a first ask, a forged token, an erased visitor) is asked
    as a new one, and gets a token naming an id no row holds yet: its first write stores the
    visitor under that id (``people.stored_visitor``). (A browser's last_seen_at is kept by its
    events, which every page view sends.)
    """
    site = site_snapshot(site_key)
    form = site.form(form_key)

    def work() -> tuple[str, bool, Offered]:
        public_id = read_visitor_token(site.key, token)
        state = ask_view(site, public_id, now) if public_id is not None else None
        unstored = state is None
        if state is None:
            public_id = unstored_visitor_id(site.key, token) or new_visitor_id()
            # What load_contact_state finds for a new contact: no values, events or skips.
            state = ContactState()
        offered = Offered.of(site, form, select_questions(form.rules, state, now))
        assert public_id is not None
        return public_id, unstored, offered

    public_id, unstored, offered = commit_unit(work, serialize=False)
    # A question granted conditioned is counted when a submit shows it (submit.py).
    shown = (q.id for q in offered.questions if q.rule.key not in offered.conditions)
    count_shown(site, form.key, shown, now)
    if offered.questions:
        count_form_ask(site.id, form.key, now)
    return AskResult(
        visitor=visitor_token(site.key, public_id, unstored=unstored),
        ask_token=offer_token(site, form, public_id, offered, page_stage, now),
        complete=not offered.questions,
        form=form,
        offered=offered,
    )


def offer_token(
    site: SiteSnapshot,
    form: FormView,
    visitor_id: str,
    offered: Offered,
    page_stage: str | None,
    now: datetime,
) -> str:
    """The ask token granting ``visitor_id`` answers to exactly the ``offered`` questions on
    ``form`` (those granted conditioned, with their conditions)."""
    questions = offered.questions
    grant = AskGrant(
        site_key=site.key,
        form_key=form.key,
        visitor_id=visitor_id,
        offered=tuple(q.rule.key for q in questions),
        required=tuple(q.rule.key for q in questions if q.rule.required),
        page_stage=page_stage,
        issued_at=int(now.timestamp()),
        consents={q.rule.key: q.consent_version for q in questions if q.rule.kind == "consent"},
        conditions=dict(offered.conditions),
        limit=form.rules.max_questions if offered.conditions else None,
        line=offered.line if offered.conditions else None,
    )
    return ask_token(grant)
