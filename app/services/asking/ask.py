"""Ask: which questions this visitor sees now on this form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.selection import select_questions
from app.services.insights import count_shown
from app.services.people import load_contact_state, resolve_visitor
from app.services.siteconfig import FieldView, FormView, SiteSnapshot, site_snapshot
from app.services.tokens import AskGrant, ask_token, visitor_token
from app.services.transactions import commit_unit


@dataclass(frozen=True)
class AskResult:
    visitor: str
    ask_token: str
    complete: bool
    form: FormView
    questions: tuple[FieldView, ...]


def ask_questions(
    site_key: str, form_key: str, token: str | None, page_stage: str | None, now: datetime
) -> AskResult:
    """Select the questions for the visitor behind ``token`` (a new visitor if none or forged).

    Asking is not an engagement: nothing is recorded but a first-time visitor.
    """
    site = site_snapshot(site_key)
    form = site.form(form_key)

    def work() -> tuple[str, tuple[FieldView, ...]]:
        visitor = resolve_visitor(site, token, now)
        selection = select_questions(
            form.rules, load_contact_state(site, visitor.contact, now, visitor), now
        )
        return visitor.public_id, tuple(site.fields[q.key] for q in selection.questions)

    public_id, questions = commit_unit(work, serialize=False)
    count_shown(site, form.key, (q.id for q in questions), now)
    return AskResult(
        visitor=visitor_token(site.key, public_id),
        ask_token=offer_token(site, form, public_id, questions, page_stage, now),
        complete=not questions,
        form=form,
        questions=questions,
    )


def offer_token(
    site: SiteSnapshot,
    form: FormView,
    visitor_id: str,
    questions: tuple[FieldView, ...],
    page_stage: str | None,
    now: datetime,
) -> str:
    """The ask token granting ``visitor_id`` answers to exactly ``questions`` on ``form``."""
    grant = AskGrant(
        site_key=site.key,
        form_key=form.key,
        visitor_id=visitor_id,
        offered=tuple(q.rule.key for q in questions),
        required=tuple(q.rule.key for q in questions if q.rule.required),
        page_stage=page_stage,
        issued_at=int(now.timestamp()),
        consents={q.rule.key: q.consent_version for q in questions if q.rule.kind == "consent"},
    )
    return ask_token(grant)
