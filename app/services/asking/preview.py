"""Live preview: the real widget, run against a made-up visitor, writing nothing.

The console's preview page loads ``/widget.js`` with ``data-api`` pointing at
``/api/v1/preview/<token>``; the widget then calls the usual ask / submit / events paths under
that prefix. The token (signed, short-lived, made for a signed-in console user) names the site,
the form and the hypothetical visitor — engagement score, stage reached, known fields — and,
while the form's editor has unsaved values, that draft of the form (checked as a save would
check it, never saved). Ask runs the same selection as the real endpoint for that state;
submit checks the answers with the same rules and messages; nothing is stored, no visitor
token is handed out, and events are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature

from app.domain.selection import select_questions
from app.services.asking.ask import AskResult, Offered, offer_token
from app.services.asking.explain import hypothetical_state
from app.services.asking.submit import review_answers
from app.services.errors import Invalid, NotFound
from app.services.siteconfig import (
    DRAFT_KEYS,
    Config,
    FormView,
    SiteSnapshot,
    checked_edit,
    draft_form,
    put_entry,
    site_snapshot,
)
from app.services.tokens import read_ask_token, serializer

PREVIEW_MAX_AGE_SECONDS = 4 * 3600
PREVIEW_VISITOR = "preview"  # the visitor id inside a preview's ask tokens
# The token travels in the path of the widget's requests: kept well under the request-line
# limits of servers and proxies (gunicorn's default is 4094 bytes).
PREVIEW_TOKEN_MAX = 3000


@dataclass(frozen=True)
class PreviewVisitor:
    """Who the preview pretends the visitor is."""

    site_key: str
    form_key: str
    score: float = 0
    reached_stage: str | None = None
    known: tuple[str, ...] = ()
    # The form as its editor has it, unsaved (see preview_draft); None: the saved form.
    draft: Config | None = field(default=None, compare=False)


def preview_draft(site_key: str, form_key: str, entry: Config) -> Config:
    """What of the editor's unsaved ``entry`` for form ``form_key`` the preview shows, after
    checking the site's config with it exactly as saving it would (EditRefused with every
    problem otherwise). Nothing is written."""
    checked = checked_edit(site_key, put_entry("forms", entry, form_key))
    form = next(f for f in checked["forms"] if f["key"] == form_key)
    # An unset setting (None, no strings of its own) is left out: the token stays short.
    return {key: form[key] for key in DRAFT_KEYS if form.get(key) not in (None, {})}


def preview_token(visitor: PreviewVisitor, now: datetime) -> str:
    """A token for the preview API; checked against the site when used, not here. Invalid
    when a draft's texts make it too long to travel in a URL."""
    data: dict[str, Any] = {
        "s": visitor.site_key,
        "f": visitor.form_key,
        "sc": visitor.score,
        "st": visitor.reached_stage,
        "k": list(visitor.known),
        "t": int(now.timestamp()),
    }
    if visitor.draft is not None:
        data["d"] = visitor.draft
    token = serializer("preview").dumps(data)
    if len(token) > PREVIEW_TOKEN_MAX:
        raise Invalid(
            "This form has too much text to preview before saving: save it to preview it."
        )
    return token


def read_preview_token(token: str, site_key: str, form_key: str, now: datetime) -> PreviewVisitor:
    """The visitor in ``token``; NotFound when forged, for another form, or expired."""
    try:
        if not token.isascii():
            raise BadSignature("not one of our tokens")
        data = serializer("preview").loads(token)
        visitor = PreviewVisitor(
            site_key=str(data["s"]),
            form_key=str(data["f"]),
            score=float(data["sc"]),
            reached_stage=data["st"] if isinstance(data["st"], str) else None,
            known=tuple(str(key) for key in data["k"]),
            draft=data.get("d"),
        )
        issued = int(data["t"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("No such preview.") from None
    if visitor.draft is not None and not isinstance(visitor.draft, dict):
        raise NotFound("No such preview.")
    if (visitor.site_key, visitor.form_key) != (site_key, form_key):
        raise NotFound("No such preview.")
    if now.timestamp() - issued > PREVIEW_MAX_AGE_SECONDS:
        raise NotFound("This preview has expired; reload the console page.")
    return visitor


def _form(site: SiteSnapshot, visitor: PreviewVisitor) -> FormView:
    """The form previewed: its unsaved draft when the token carries one, else as saved."""
    if visitor.draft is None:
        return site.form(visitor.form_key)
    return draft_form(site, visitor.form_key, visitor.draft)


def _state(site: SiteSnapshot, visitor: PreviewVisitor, now: datetime) -> Any:
    # A field deleted since the token was made is simply no longer known.
    known = tuple(key for key in visitor.known if key in site.fields)
    return hypothetical_state(site, visitor.score, visitor.reached_stage, known, now)


def preview_ask(
    token: str, site_key: str, form_key: str, page_stage: str | None, now: datetime
) -> AskResult:
    """What the ask endpoint would answer this made-up visitor, minus the visitor token."""
    site = site_snapshot(site_key)
    visitor = read_preview_token(token, site.key, site.form(form_key).key, now)
    form = _form(site, visitor)
    selection = select_questions(form.rules, _state(site, visitor, now), now)
    offered = Offered.of(site, form, selection)
    return AskResult(
        visitor="",
        ask_token=offer_token(site, form, PREVIEW_VISITOR, offered, page_stage, now),
        complete=not offered.questions,
        form=form,
        offered=offered,
    )


def preview_submit(
    token: str,
    site_key: str,
    form_key: str,
    ask: str,
    answers: dict[str, Any],
    skipped: list[str],
    now: datetime,
) -> dict[str, Any]:
    """Check answers exactly as the submit endpoint does; store nothing."""
    site = site_snapshot(site_key)
    visitor = read_preview_token(token, site.key, site.form(form_key).key, now)
    form = _form(site, visitor)
    grant = read_ask_token(ask, site.key, form.key, PREVIEW_VISITOR, now)
    reviewed = review_answers(site, grant, answers, skipped, form)
    answered = (*visitor.known, *(k for k in reviewed.values if k not in visitor.known))
    after = replace(visitor, known=tuple(answered))
    selection = select_questions(form.rules, _state(site, after, now), now)
    return {"complete": selection.complete, "message": form.thank_you}
