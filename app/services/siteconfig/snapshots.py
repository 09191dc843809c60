"""An immutable view of one site's configuration, as the rules and the API need it.

Building it takes a handful of queries; it is cached per process and rebuilt whenever the site's
``config_version`` moves (every import bumps it), so N processes never serve a stale config for
longer than one request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import timedelta
from functools import cached_property
from typing import Any

from flask import current_app, has_request_context, request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import selectinload

from app.domain.engagement import tally_basis
from app.domain.interface import WIDGET_KEYS, autocomplete_for, direction, interface_strings
from app.domain.qualification import StageRule
from app.domain.specs import Dependency, FieldRule, FormRules, TierRule, is_storable_text
from app.extensions import db
from app.models import Field, Form, FormTier, Site
from app.services.errors import NotFound


@dataclass(frozen=True)
class FieldView:
    id: int
    rule: FieldRule
    label: str
    help: str | None
    placeholder: str | None
    options: tuple[tuple[str, str], ...]  # (value, label)
    max_length: int | None
    pooled: bool  # False: only where a form names it, never through a tier or every field
    autocomplete: str | None = None  # the input's autocomplete token (domain.interface)

    @property
    def consent_text(self) -> str:
        """What a visitor reads when this field is a consent: its label, then its help."""
        return self.label if not self.help else f"{self.label}\n\n{self.help}"

    @cached_property
    def consent_version(self) -> str:
        """The version of :attr:`consent_text`: rewording it makes a new version."""
        return hashlib.sha256(self.consent_text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class FormView:
    id: int
    key: str
    title: str
    intro: str | None
    stage: str | None
    submit_label: str
    thank_you: str
    complete_message: str | None
    rules: FormRules  # rules.consent_line: the consent field shown under the questions
    language: str = "en"
    # Every interface string in ``language``: built-in, then the config's (domain.interface).
    strings: dict[str, str] = dataclass_field(default_factory=dict)

    @property
    def direction(self) -> str:
        return direction(self.language)

    @cached_property
    def widget_strings(self) -> dict[str, str]:
        """The strings the widget shows, which travel with every ask."""
        return {key: self.strings[key] for key in WIDGET_KEYS}

    # What the form does once the visitor is done (docs/config.md, forms: on_complete).
    on_complete: dict[str, str] | None = None


@dataclass(frozen=True)
class HotActivity:
    """``sales_outcomes.hot_activity``: the event kinds that make a handed-off contact (or its
    account) hot, and the window in which one contact is reported at most once."""

    kinds: frozenset[str]
    window: timedelta


@dataclass(frozen=True)
class SiteSnapshot:
    id: int
    key: str
    config_version: int
    origins: frozenset[str]
    half_life_days: float | None
    weights: dict[str, float]
    kind_stages: dict[str, str | None]
    fields: dict[str, FieldView]
    forms: dict[str, FormView]
    stages: tuple[StageRule, ...] = ()  # lifecycle stages, in order
    handoff_stage: str | None = None  # the stage sales follow up within followup_hours
    followup_hours: int = 48
    # The config's ``sales_outcomes`` (reasons, stage moves), None when it has none.
    sales_outcomes: dict[str, Any] | None = None
    # Keys the email digests of signed links (never shown in a repr or a log line).
    link_key: str = dataclass_field(default="", repr=False)
    language: str = "en"  # the site's; its forms' own are on each FormView
    strings: dict[str, str] = dataclass_field(default_factory=dict)  # the site's replacements

    @cached_property
    def tally_basis(self) -> str:
        """Names the weights and half-life engagement tallies are summed with (a tally built
        with another basis is rebuilt before it is read; see ``people.tallies``)."""
        return tally_basis(self.weights, self.half_life_days)

    @cached_property
    def hot_activity(self) -> HotActivity | None:
        """What makes a handed-off lead hot; None when the config names nothing."""
        section = (self.sales_outcomes or {}).get("hot_activity")
        if not section:
            return None
        return HotActivity(frozenset(section["events"]), timedelta(hours=section["window_hours"]))

    def form(self, key: str) -> FormView:
        try:
            return self.forms[key]
        except KeyError:
            raise NotFound(f'No form "{key}" on site "{self.key}".') from None

    @cached_property
    def field_labels(self) -> dict[str, str]:
        """Each field's label by key: how a rule in words (``domain.wording``) names fields."""
        return {key: view.label for key, view in self.fields.items()}

    @cached_property
    def field_options(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """Each field's options ``(value, label)`` by key: how a value is said in words."""
        return {key: view.options for key, view in self.fields.items()}

    @cached_property
    def keys_by_field_id(self) -> dict[int, str]:
        return {view.id: key for key, view in self.fields.items()}


# Every widget request runs it first: built once, like the other statements of that path
# (docs/benchmarks.md, "Hot path profile").
_SITE_VERSION = select(Site.id, Site.config_version).where(Site.key == bindparam("key"))


def site_snapshot(site_key: str) -> SiteSnapshot:
    """The current configuration of ``site_key``; NotFound when there is no such site.

    Looked up once per request: the origin check, the rate limits and the handler of one
    widget request share one freshness check (an import in the request forgets it).
    """
    memo = _request_memo()
    if memo is not None and site_key in memo:
        return memo[site_key]
    if not is_storable_text(site_key):
        raise NotFound("No such site.")
    row = db.session.execute(_SITE_VERSION, {"key": site_key}).one_or_none()
    if row is None:
        raise NotFound(f'No site "{site_key}".')
    cache: dict[int, SiteSnapshot] = current_app.extensions.setdefault("trickle.snapshots", {})
    cached = cache.get(row.id)
    if cached is None or (cached.key, cached.config_version) != (site_key, row.config_version):
        cached = cache[row.id] = _build(row.id)
    if memo is not None:
        memo[site_key] = cached
    return cached


def remembered_snapshot(site_key: str) -> SiteSnapshot | None:
    """The snapshot of ``site_key`` this request, else this process, already read (perhaps of
    an older version), or None: never asks the database, which may be what just failed."""
    memo = _request_memo() or {}
    if site_key in memo:
        return memo[site_key]
    cache: dict[int, SiteSnapshot] = current_app.extensions.get("trickle.snapshots", {})
    # A copy: another request's lookup may add a site meanwhile.
    return next((snapshot for snapshot in tuple(cache.values()) if snapshot.key == site_key), None)


def _request_memo() -> dict[str, SiteSnapshot] | None:
    """The snapshots this request looked up (None outside a request)."""
    if not has_request_context():
        return None
    memo: dict[str, SiteSnapshot] = request.environ.setdefault("trickle.snapshots", {})
    return memo


def forget_request_snapshots() -> None:
    """A config changed in this request: its next lookup checks the database again."""
    if has_request_context():
        request.environ.pop("trickle.snapshots", None)


def _build(site_id: int) -> SiteSnapshot:
    site = db.session.scalars(
        select(Site)
        .where(Site.id == site_id)
        .options(
            selectinload(Site.tiers),
            selectinload(Site.fields).selectinload(Field.tier),
            selectinload(Site.forms).selectinload(Form.pool_tiers).selectinload(FormTier.tier),
            selectinload(Site.forms).selectinload(Form.pool_fields),
            selectinload(Site.stages),
        )
    ).one()
    tiers = {
        t.key: TierRule(t.key, t.rank, t.min_score, t.min_stage)
        for t in site.tiers
        if t.archived_at is None
    }
    fields = {f.key: _field_view(f) for f in site.fields if f.archived_at is None}
    lines = consent_lines(site)
    forms = {
        form.key: _form_view(form, site, fields, tiers, lines)
        for form in site.forms
        if form.archived_at is None
    }
    engagement = site.engagement or {}
    stages = sorted((s for s in site.stages if s.archived_at is None), key=lambda s: s.position)
    return SiteSnapshot(
        id=site.id,
        key=site.key,
        config_version=site.config_version,
        origins=frozenset(site.origins or ()),
        half_life_days=site.half_life_days,
        weights={kind: float(spec["weight"]) for kind, spec in engagement.items()},
        kind_stages={kind: spec.get("stage") for kind, spec in engagement.items()},
        fields=fields,
        forms=forms,
        stages=tuple(StageRule.from_config(stage.key, stage.when or {}) for stage in stages),
        handoff_stage=next((s.key for s in stages if s.handoff), None)
        or next((s.key for s in stages if s.key == "mql"), None),
        followup_hours=site.followup_hours,
        sales_outcomes=site.sales_outcomes,
        link_key=site.link_key,
        language=site.language,
        strings=site.strings or {},
    )


def _field_view(field: Field) -> FieldView:
    options = tuple((o["value"], o.get("label", o["value"])) for o in field.options or ())
    return FieldView(
        id=field.id,
        rule=FieldRule(
            key=field.key,
            tier=field.tier.key,
            kind=field.kind,
            priority=field.priority,
            required=field.required,
            scope=field.scope,
            identity=field.identity,
            refresh_after_days=field.refresh_after_days,
            overwrite=field.overwrite,
            ask_if=_dependency(field.ask_if),
            options=tuple(value for value, _label in options),
            max_length=field.max_length,
        ),
        label=field.label,
        help=field.help,
        placeholder=field.placeholder,
        options=options,
        max_length=field.max_length,
        pooled=field.pooled,
        autocomplete=autocomplete_for(field.key, field.kind, field.autocomplete),
    )


def _dependency(ask_if: dict[str, Any] | None) -> Dependency | None:
    if not ask_if:
        return None
    op = next(k for k in ("equals", "in", "known") if k in ask_if)
    value = tuple(ask_if[op]) if op == "in" else ask_if[op]
    return Dependency(field=ask_if["field"], op=op, value=value)


def _form_view(
    form: Form,
    site: Site,
    fields: dict[str, FieldView],
    tiers: dict[str, TierRule],
    lines: frozenset[str],
) -> FormView:
    pool_ids = {pf.field_id for pf in form.pool_fields}
    listed = {key for key, view in fields.items() if view.id in pool_ids}
    pool = _pool(fields, {pt.tier.key for pt in form.pool_tiers}, listed, lines)
    line = (form.consent or {}).get("field")
    language = form.language or site.language
    return FormView(
        id=form.id,
        key=form.key,
        title=form.title,
        intro=form.intro,
        stage=form.stage,
        submit_label=form.submit_label,
        thank_you=form.thank_you,
        complete_message=form.complete_message,
        rules=FormRules(
            key=form.key,
            fields=tuple(view.rule for view in fields.values()),
            tiers=tiers,
            pool=pool,
            max_questions=form.max_questions,
            always_ask=tuple(form.always_ask or ()),
            skip_cooldown=site.skip_cooldown,
            consent_line=line if line in fields else None,
        ),
        language=language,
        strings=interface_strings(language, site.language, site.strings or {}, form.strings or {}),
        on_complete=form.on_complete,
    )


def _pool(
    fields: dict[str, FieldView], tiers: set[str], listed: set[str], lines: frozenset[str]
) -> frozenset[str]:
    """The keys a form draws from: the fields it lists, and the pooled fields of its tiers (of
    every tier when it names none). A form's consent line, and a field that is not pooled (made
    from a consent text), is asked where it is the line; a form asks it as a question only
    when it lists it under fields (or always_ask), never through a tier or every field."""
    return frozenset(
        key
        for key, view in fields.items()
        if key in listed
        or (view.pooled and key not in lines and (not (tiers or listed) or view.rule.tier in tiers))
    )


def draft_form(site: SiteSnapshot, key: str, entry: dict[str, Any]) -> FormView:
    """Form ``key`` as ``entry`` would make it, unsaved: the console's live preview of an
    editor's values. ``entry`` is a form entry as a config import checked it; fields and tiers
    it names that are gone since are left out."""
    saved = site.form(key)
    line = (entry.get("consent") or {}).get("field")
    others = {f.rules.consent_line for k, f in site.forms.items() if k != key}
    lines = frozenset(k for k in (*others, line) if k)
    listed = {k for k in entry.get("fields") or () if k in site.fields}
    pool = _pool(site.fields, set(entry.get("tiers") or ()), listed, lines)
    rules = replace(
        saved.rules,
        pool=pool,
        max_questions=entry.get("max_questions", saved.rules.max_questions),
        always_ask=tuple(k for k in entry.get("always_ask") or () if k in site.fields),
        consent_line=line if line in site.fields else None,
    )
    texts = {name: entry.get(name) for name in _DRAFT_TEXTS}
    language = entry.get("language") or site.language
    strings = interface_strings(language, site.language, site.strings, entry.get("strings") or {})
    return replace(saved, **texts, rules=rules, language=language, strings=strings)


# What an editor's draft may change of a form besides its rules (the rest of the entry).
_DRAFT_TEXTS = ("title", "intro", "stage", "submit_label", "thank_you", "complete_message")
DRAFT_KEYS = (
    *_DRAFT_TEXTS,
    "max_questions",
    "tiers",
    "fields",
    "always_ask",
    "consent",
    "language",
    "strings",
)


def consent_lines(site: Site) -> frozenset[str]:
    """The keys of the consent fields that some active form shows as its consent line."""
    return frozenset(
        form.consent["field"]
        for form in site.forms
        if form.archived_at is None and form.consent and "field" in form.consent
    )
