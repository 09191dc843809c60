"""Explain a form's choice for one contact, real or hypothetical, in plain words (console).

Read-only: loads a contact's state (or builds one), runs the same ``select_questions`` the API
runs, and turns every left-out field's domain reason into a sentence a marketer can act on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from app.domain.selection import Reason, select_questions
from app.domain.specs import STAGES, ContactState, Dependency, FormRules, KnownValue
from app.services.errors import Invalid
from app.services.insights import BrowserEntry, CurrentValue, browser_entries, current_values
from app.services.people import load_contact_state, load_person_records
from app.services.siteconfig import SiteSnapshot, site_snapshot

# What a hypothetical "known" field holds: any non-blank value makes it known.
KNOWN_PLACEHOLDER = "(known)"


@dataclass(frozen=True)
class AskedQuestion:
    key: str
    label: str
    tier: str
    # For a question granted conditioned: when the form shows it, in words.
    condition: str | None = None


@dataclass(frozen=True)
class NotAsked:
    key: str
    label: str
    reason: Reason
    sentence: str


@dataclass(frozen=True)
class Explanation:
    """What ``form_key`` would ask, in order, and why each other field of the site is not asked."""

    form_key: str
    form_title: str
    score: float
    reached_stage: str | None
    asked: tuple[AskedQuestion, ...]
    not_asked: tuple[NotAsked, ...]  # the site's field order
    # A stored contact's values with their trust, and its browsers (none for a made-up one).
    values: tuple[CurrentValue, ...] = ()
    browsers: tuple[BrowserEntry, ...] = ()

    @property
    def score_text(self) -> str:
        return _number(self.score)


def explain_contact(site_key: str, form_key: str, contact_id: int, now: datetime) -> Explanation:
    """Explain for a stored contact, as the rules judge the whole profile (what a verified
    browser is asked), with each value's trust and the contact's browsers; NotFound for an
    unknown site, form or contact, or a contact of another site."""
    site = site_snapshot(site_key)
    form = site.form(form_key)
    held = load_person_records(site, contact_id, sent=False)
    explained = _explain(site, form.key, load_contact_state(site, held.contact, now), now)
    return replace(explained, values=current_values(site, held), browsers=browser_entries(held))


def explain_hypothetical(
    site_key: str,
    form_key: str,
    score: float,
    reached_stage: str | None,
    known_keys: tuple[str, ...] | list[str],
    now: datetime,
) -> Explanation:
    """Explain for a made-up contact: ``known_keys`` hold a placeholder answered ``now`` (a
    consent: given); no skips, no account values. Invalid for a negative score, an unknown stage or field key."""
    site = site_snapshot(site_key)
    form = site.form(form_key)
    state = hypothetical_state(site, score, reached_stage, known_keys, now)
    return _explain(site, form.key, state, now)


def hypothetical_state(
    site: SiteSnapshot,
    score: float,
    reached_stage: str | None,
    known_keys: tuple[str, ...] | list[str],
    now: datetime,
) -> ContactState:
    """A made-up contact's state; Invalid for a negative score, an unknown stage or field key."""
    problems: dict[str, list[str]] = {}
    if not math.isfinite(score) or score < 0:
        problems["score"] = ["Must be a number of 0 or more."]
    if reached_stage is not None and reached_stage not in STAGES:
        problems["stage"] = [f"Must be one of {', '.join(STAGES)}."]
    unknown = sorted(set(known_keys) - set(site.fields))
    if unknown:
        problems["known"] = [f"Not fields of this site: {', '.join(unknown)}."]
    if problems:
        raise Invalid("The hypothetical contact is not valid.", problems)
    return ContactState(
        values={key: KnownValue(_known(site, key), now) for key in known_keys},
        score=score,
        reached_stage=reached_stage,
    )


def _known(site: SiteSnapshot, key: str) -> Any:
    """A made-up answer: a known consent is one given (the form's consent line reads it so)."""
    return True if site.fields[key].rule.kind == "consent" else KNOWN_PLACEHOLDER


def _explain(site: SiteSnapshot, form_key: str, state: ContactState, now: datetime) -> Explanation:
    form = site.forms[form_key]
    selection = select_questions(form.rules, state, now)
    conditions = selection.conditions
    asked = tuple(
        AskedQuestion(
            q.key,
            site.fields[q.key].label,
            q.tier,
            _shown_when(conditions[q.key]) if q.key in conditions else None,
        )
        for q in selection.questions
    )
    not_asked = tuple(
        NotAsked(
            key, site.fields[key].label, left.reason, _sentence(form.rules, key, left.reason, state)
        )
        for key, left in selection.left_out.items()
    )
    return Explanation(
        form_key=form.key,
        form_title=form.title,
        score=state.score,
        reached_stage=state.reached_stage,
        asked=asked,
        not_asked=not_asked,
    )


def _sentence(form: FormRules, key: str, reason: Reason, state: ContactState) -> str:
    """One plain sentence for ``reason``, with the numbers read from the rules and the state."""
    field = next(f for f in form.fields if f.key == key)
    if reason is Reason.NOT_IN_POOL:
        return "Not part of this form."
    if reason is Reason.KNOWN:
        answered = f"Already answered ({state.values[key].updated_at:%Y-%m-%d})"
        if field.refresh_after_days is not None:
            return f"{answered}; asked again {field.refresh_after_days} days after the answer."
        return f"{answered}."
    if reason is Reason.KNOWN_FOR_ACCOUNT:
        return "Known for the account (another person at the same company answered)."
    if reason is Reason.TIER_LOCKED:
        tier = form.tiers.get(field.tier)
        if tier is None:
            return f"Locked: its tier {field.tier} is not configured."
        return f"Locked: needs a score of {_number(tier.min_score)} (has {_number(state.score)})."
    if reason is Reason.STAGE_LOCKED:
        needed = form.tiers[field.tier].min_stage
        return f"Locked: needs a {needed}-stage visit (latest: {state.reached_stage or 'none'})."
    if reason is Reason.DEPENDENCY:
        assert field.ask_if is not None
        return f"Asked only when {field.ask_if.field} {field.ask_if.words()}."
    if reason is Reason.SKIPPED:
        since = state.events_since.get(key, 0)
        return (
            f"Skipped; returns after {form.skip_cooldown} more engagement events ({since} so far)."
        )
    if reason is Reason.CONSENT_GIVEN:
        given = f"{state.values[key].updated_at:%Y-%m-%d}"
        return f"The form's consent line: given ({given}); shown again if it is withdrawn."
    if reason is Reason.CONSENT_ALONE:
        return "The form's consent line: shown with the form's questions, and none is asked now."
    return f"Waiting: the form asks at most {form.max_questions} at a time."


def _shown_when(dependency: Dependency) -> str:
    return f"Shown in the same form when the answer to {dependency.field} {dependency.words()}."


def _number(value: float) -> str:
    """Whole numbers as such; others cut (not rounded) to two decimals, so 4.999 never reads 5."""
    if float(value).is_integer():
        return str(int(value))
    return f"{math.floor(value * 100) / 100:.2f}".rstrip("0").rstrip(".")
