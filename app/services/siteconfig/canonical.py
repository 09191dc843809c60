"""A stored site as its canonical config: what importing it again would give back.

Canonical means: archived entities left out, entities in stored order, keys at the value the
schema would default them to left out, whole numbers written as integers, secrets never included.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import Schema

from app.domain.engagement import DEFAULT_ENGAGEMENT
from app.domain.interface import interface_strings
from app.models import Destination, Field, Form, LifecycleStage, Site, Tier
from app.services.siteconfig.language import OWN_LABELS
from app.services.siteconfig.schema import (
    ConsentIn,
    DestinationIn,
    FieldIn,
    FormIn,
    HotActivityIn,
    SalesOutcomesIn,
    SiteIn,
    TierIn,
    schema_defaults,
)


def site_config(site: Site, default_engagement: Mapping[str, float]) -> dict[str, Any]:
    """``site`` (loaded with every config entity) as a config mapping; no secrets."""
    config: dict[str, Any] = {"site": _site(site)}
    engagement = changed_engagement(site.engagement or {}, default_engagement)
    if engagement:
        config["engagement"] = engagement
    config["tiers"] = [_tier(tier) for tier in _active(site.tiers)]
    config["fields"] = [_field(field) for field in _active(site.fields)]
    config["forms"] = [_form(form, site) for form in _active(site.forms)]
    stages = [_stage(stage) for stage in _active(site.stages)]
    if stages:
        config["stages"] = stages
    destinations = [_destination(destination) for destination in _active(site.destinations)]
    if destinations:
        config["destinations"] = destinations
    if site.sales_outcomes is not None:
        config["sales_outcomes"] = _sales_outcomes(site.sales_outcomes)
    return config


def _active(rows: Iterable[Any]) -> list[Any]:
    return [row for row in rows if row.archived_at is None]


def _plain(number: Any) -> Any:
    """5.0 as 5: a Float column gives back floats for the integers a config was written with."""
    return int(number) if isinstance(number, float) and number.is_integer() else number


def without_defaults(values: dict[str, Any], schema: type[Schema]) -> dict[str, Any]:
    defaults = schema_defaults(schema)
    return {
        name: value
        for name, value in values.items()
        if name not in defaults or value != defaults[name]
    }


def _site(site: Site) -> dict[str, Any]:
    values = {
        "key": site.key,
        "name": site.name,
        "origins": list(site.origins or ()),
        "skip_cooldown": site.skip_cooldown,
        "half_life_days": _plain(site.half_life_days),
        "followup_hours": site.followup_hours,
        "definition_approval": site.definition_approval,
        "anonymous_retention_days": site.anonymous_retention_days,
        "delivery_retention_days": site.delivery_retention_days,
        "language": site.language,
        "strings": dict(site.strings or {}),
    }
    return without_defaults(values, SiteIn)


def changed_engagement(stored: Mapping[str, Any], defaults: Mapping[str, float]) -> dict[str, Any]:
    """Only the kinds a config changed or added: a bare weight unless a stage is set."""
    changed: dict[str, Any] = {}
    for kind, spec in stored.items():
        weight, stage = _plain(spec["weight"]), spec.get("stage")
        if stage is None and kind in defaults and defaults[kind] == weight:
            continue
        changed[kind] = weight if stage is None else {"weight": weight, "stage": stage}
    return changed


def engagement_weights(engagement: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every kind a site counts, ``{kind: {weight, stage}}``: the defaults, then a config's
    ``engagement`` (a bare weight or ``{weight, stage}`` per kind) over them."""
    weights = {kind: {"weight": w, "stage": None} for kind, w in DEFAULT_ENGAGEMENT.items()}
    for kind, spec in engagement.items():
        weights[kind] = dict(spec) if isinstance(spec, Mapping) else {"weight": spec, "stage": None}
    return weights


def _tier(tier: Tier) -> dict[str, Any]:
    values = {
        "key": tier.key,
        "rank": tier.rank,
        "min_score": _plain(tier.min_score),
        "min_stage": tier.min_stage,
        "label": tier.label,
    }
    return without_defaults(values, TierIn)


def _field(field: Field) -> dict[str, Any]:
    values = {
        "key": field.key,
        "label": field.label,
        "kind": field.kind,
        "tier": field.tier.key,
        "priority": field.priority,
        "required": field.required,
        "scope": field.scope,
        "identity": field.identity,
        "refresh_after_days": field.refresh_after_days,
        "overwrite": field.overwrite,
        "max_length": field.max_length,
        "help": field.help,
        "placeholder": field.placeholder,
        "options": _options(field.options),
        "ask_if": field.ask_if,
        "pooled": field.pooled,
        "autocomplete": field.autocomplete,
    }
    return without_defaults(values, FieldIn)


def _options(options: list[dict[str, str]] | None) -> list[Any] | None:
    if options is None:
        return None
    return [o["value"] if o["label"] == o["value"] else dict(o) for o in options]


def _form(form: Form, site: Site) -> dict[str, Any]:
    values: dict[str, Any] = {
        "key": form.key,
        "title": form.title,
        "intro": form.intro,
        "stage": form.stage,
        "max_questions": form.max_questions,
        "submit_label": form.submit_label,
        "thank_you": form.thank_you,
        "complete_message": form.complete_message,
        "consent": form.consent and without_defaults(dict(form.consent), ConsentIn),
        "on_complete": form.on_complete and dict(form.on_complete),
        "always_ask": list(form.always_ask or ()),
        "tiers": [link.tier.key for link in form.pool_tiers],
        "fields": [link.field.key for link in form.pool_fields],
        "language": form.language,
        "strings": dict(form.strings or {}),
    }
    # A label that is its language's own word is left out, as the import fills it in
    # (language.labels_in_language): it follows a later change of the form's or site's language.
    own = interface_strings(
        form.language or site.language, site.language, site.strings or {}, form.strings or {}
    )
    for name, key in OWN_LABELS:
        if values[name] == own[key]:
            del values[name]
    return without_defaults(values, FormIn)


def _stage(stage: LifecycleStage) -> dict[str, Any]:
    return _stage_entry(stage.key, stage.when, stage.handoff)


def _stage_entry(key: str, when: Mapping[str, Any], handoff: bool) -> dict[str, Any]:
    plain = {name: _plain(value) for name, value in when.items()}
    return {"key": key, "when": plain} | ({"handoff": True} if handoff else {})


def definition_sections(config: Mapping[str, Any]) -> dict[str, Any]:
    """The definition's sections of a loaded config (``ConfigIn``, defaults filled in) as the
    export writes them, so that ``definition_changed`` and ``definition_diff`` compare a config
    about to be imported with a stored one key for key."""
    sections: dict[str, Any] = {
        "site": without_defaults({"followup_hours": config["site"]["followup_hours"]}, SiteIn)
    }
    stages = [_stage_entry(s["key"], s["when"], s["handoff"]) for s in config["stages"]]
    if stages:
        sections["stages"] = stages
    if config.get("sales_outcomes") is not None:
        sections["sales_outcomes"] = _sales_outcomes(config["sales_outcomes"])
    return sections


def _destination(destination: Destination) -> dict[str, Any]:
    values = {
        "key": destination.key,
        "url": destination.url,
        "events": list(destination.events),
        "format": destination.format,
        "mapping": dict(destination.mapping or {}),
        "enabled": destination.enabled,
        "secret_env": destination.secret_env,
    }
    return without_defaults(values, DestinationIn)


def _sales_outcomes(section: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(section)
    if values.get("requalify_after"):
        values["requalify_after"] = {
            name: _plain(value) for name, value in values["requalify_after"].items()
        }
    if values.get("hot_activity"):
        values["hot_activity"] = without_defaults(dict(values["hot_activity"]), HotActivityIn)
    return without_defaults(values, SalesOutcomesIn)
