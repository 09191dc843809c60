"""A site's whole definition as a file (DESIGN §5): read, validate, import, export.

Import is all or nothing: the whole config is validated first and every problem is reported with
its path; only a config without problems is written, in one transaction. Entities are matched by
``key``; the ones a new config leaves out are archived, never deleted, because stored answers and
history point at them. Export gives the canonical config back, with secrets left out, so that
export → import → export is the identity and a config can live in git.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from app.clock import current_time
from app.domain.engagement import DEFAULT_ENGAGEMENT, tally_basis
from app.extensions import db
from app.models import (
    ConfigRevision,
    DefinitionProposal,
    Destination,
    Field,
    Form,
    FormField,
    FormTier,
    LifecycleStage,
    Site,
    Tier,
)
from app.services.errors import Conflict, Invalid, NotFound
from app.services.siteconfig.canonical import engagement_weights, site_config
from app.services.siteconfig.fields import error_paths
from app.services.siteconfig.masking import restore_masked_urls
from app.services.siteconfig.proposals import (
    Approval,
    DefinitionPending,
    definition_gate,
    hold,
    record_approval,
)
from app.services.siteconfig.requalification import announce_definition_change
from app.services.siteconfig.rules import SECTIONS, Problems, cross_entry_problems
from app.services.siteconfig.schema import ConfigIn
from app.services.siteconfig.signing import (
    generate_signing_secret,
    rotate_secret,
    secrets_from_environment,
)
from app.services.siteconfig.snapshots import forget_request_snapshots
from app.services.transactions import commit_unit

_ORDER = ("site", "engagement", *SECTIONS, "sales_outcomes")

Row = TypeVar("Row", Tier, Field, Form, LifecycleStage, Destination)


def import_site_config(
    data: Mapping[str, Any],
    author: str = "trickle import-config",
    expected_version: int | None = None,
    *,
    approval: Approval | None = None,
) -> Site:
    """Create or update the site ``data`` describes, all or nothing, and return it.

    Any problem raises Invalid listing every problem by path; nothing is written then. Otherwise
    the site (matched by ``site.key``) and its tiers, fields, forms, stages and destinations are
    upserted by key, the ones left out archived, archived ones named again restored, and
    ``config_version`` goes up by one, in one committed transaction that also records the
    resulting config as a revision by ``author`` (a user's email, or the command that ran).

    With ``expected_version`` (an editor's optimistic lock), Conflict is raised and nothing is
    written when the stored site is no longer at that version.

    A change to the definition of a site with approvals on (``proposals.py``) is not applied:
    the import is stored as a pending proposal and DefinitionPending raised, unless
    ``approval`` approves it (Forbidden or Conflict when that approval does not hold).
    """
    config, env_secrets = _validated(data)
    now = current_time()

    def work() -> Site | DefinitionProposal:
        gate = definition_gate(config, _current_config(config["site"]["key"]), author, approval)
        if gate.needed and approval is None:
            _check_version(gate.base_version, expected_version)
            return hold(gate, _as_json(data), author, now)
        site = _apply(config, env_secrets, now, expected_version)
        revision = _record_revision(site, author, now)
        record_approval(gate, _as_json(data), author, site.config_version, now)
        approved_by = gate.approval.by if gate.needed and gate.approval is not None else None
        announce_definition_change(site, revision, now, approved_by=approved_by)
        return site

    result = commit_unit(work)
    if isinstance(result, DefinitionProposal):
        raise DefinitionPending(result)
    return result


def _current_config(site_key: str) -> dict[str, Any] | None:
    """The site's config as stored (None for a new site), its row locked first: what an
    import is judged against cannot change before it is applied."""
    query = select(Site.id).where(Site.key == site_key).with_for_update()
    return export_site_config(site_key) if db.session.scalar(query) is not None else None


def _as_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` as a proposal stores it (a YAML date in a label becomes its text)."""
    return json.loads(json.dumps(data, default=str))


def _check_version(version: int, expected_version: int | None) -> None:
    if expected_version is not None and version != expected_version:
        raise Conflict(
            "Someone changed this site's config while you were editing; "
            "your change was not saved. Reload the page and make it again."
        )


def _record_revision(site: Site, author: str, now: datetime) -> ConfigRevision:
    """Store the config as the database now holds it, read back in its stored order."""
    db.session.flush()
    stored = db.session.scalars(
        _site_query(site.key).execution_options(populate_existing=True)
    ).one()
    revision = ConfigRevision(
        site_id=stored.id,
        version=stored.config_version,
        author=author,
        created_at=now,
        config=site_config(stored, DEFAULT_ENGAGEMENT),
    )
    db.session.add(revision)
    return revision


def _validated(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The loaded config and the signing secrets found in the environment, by destination key.
    A destination URL masked for a non-admin reader stays the URL the destination has."""
    data, problems = restore_masked_urls(data)
    config: dict[str, Any] = {}
    try:
        config = ConfigIn().load(data)
    except ValidationError as exc:
        _merge(problems, error_paths(exc.messages))
    env_secrets: dict[int, str] = {}
    if isinstance(data, Mapping):
        allow_private = bool(current_app.config.get("ALLOW_PRIVATE_TARGETS"))
        _merge(problems, cross_entry_problems(data, allow_private))
        env_secrets = secrets_from_environment(data, problems)
    if problems:
        count = sum(len(messages) for messages in problems.values())
        noun = "error" if count == 1 else "errors"
        raise Invalid(f"The config has {count} {noun}.", fields=_in_document_order(problems))
    keys = [destination["key"] for destination in config["destinations"]]
    return config, {keys[i]: secret for i, secret in env_secrets.items()}


def _merge(problems: Problems, more: Problems) -> None:
    for path, messages in more.items():
        problems.setdefault(path, []).extend(messages)


def _in_document_order(problems: Problems) -> Problems:
    """Problems sorted by section, then entry; the order within one entry is kept."""

    def place(path: str) -> tuple[int, int]:
        match = re.match(r"(\w+)(?:\[(\d+)\])?", path)
        section, index = (match.group(1), match.group(2)) if match else (path, None)
        rank = _ORDER.index(section) if section in _ORDER else len(_ORDER)
        return rank, int(index) if index is not None else -1

    return dict(sorted(problems.items(), key=lambda item: place(item[0])))


def _site_query(site_key: str) -> Select[Any]:
    """The site with every config entity, archived ones included, loaded up front."""
    forms = selectinload(Site.forms)
    return (
        select(Site)
        .where(Site.key == site_key)
        .options(
            selectinload(Site.tiers),
            selectinload(Site.fields),
            forms.selectinload(Form.pool_tiers).selectinload(FormTier.tier),
            forms.selectinload(Form.pool_fields).selectinload(FormField.field),
            selectinload(Site.stages),
            selectinload(Site.destinations),
        )
    )


def _apply(
    config: dict[str, Any],
    env_secrets: dict[str, str],
    now: datetime,
    expected_version: int | None = None,
) -> Site:
    query = _site_query(config["site"]["key"]).with_for_update(of=Site)
    site = db.session.scalars(query.execution_options(populate_existing=True)).one_or_none()
    _check_version(site.config_version if site else 0, expected_version)
    if site is None:
        site = Site(key=config["site"]["key"], config_version=0, created_at=now)
        db.session.add(site)
    with db.session.no_autoflush:
        _set_site(site, config, now)
        tiers = _upsert(site.tiers, config["tiers"], Tier, _set_tier, now)
        fields = _upsert(
            site.fields, config["fields"], Field, partial(_set_field, tiers=tiers), now
        )
        set_form = partial(_set_form, tiers=tiers, fields=fields)
        _upsert(site.forms, config["forms"], Form, set_form, now)
        _upsert(site.stages, config["stages"], LifecycleStage, _set_stage, now)
        set_destination = partial(_set_destination, env_secrets=env_secrets, now=now)
        _upsert(site.destinations, config["destinations"], Destination, set_destination, now)
    return site


def _upsert(
    rows: list[Row],
    specs: list[dict[str, Any]],
    model: type[Row],
    update: Callable[[Row, dict[str, Any], int], None],
    now: datetime,
) -> dict[str, Row]:
    """Make ``rows`` match ``specs`` by key: update or add each, archive the rest; by key."""
    existing = {row.key: row for row in rows}
    kept: dict[str, Row] = {}
    for position, spec in enumerate(specs):
        row = existing.pop(spec["key"], None)
        if row is None:
            row = model(key=spec["key"])
            rows.append(row)
        row.archived_at = None
        update(row, spec, position)
        kept[spec["key"]] = row
    for row in existing.values():
        row.archived_at = row.archived_at or now
    return kept


def _copy(row: object, spec: Mapping[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        setattr(row, name, spec[name])


def _set_site(site: Site, config: dict[str, Any], now: datetime) -> None:
    scored_with = _tally_basis(site)
    _copy(site, config["site"], ("name", "skip_cooldown", "half_life_days", "followup_hours"))
    _copy(site, config["site"], ("definition_approval", "language"))
    _copy(site, config["site"], ("anonymous_retention_days", "delivery_retention_days"))
    site.origins = list(config["site"]["origins"])
    site.strings = config["site"]["strings"] or None
    site.engagement = engagement_weights(config["engagement"])
    site.sales_outcomes = config["sales_outcomes"]
    if _tally_basis(site) != scored_with:
        # New weights or half-life: the worker rebuilds the contacts' engagement tallies
        # (people.rebuild_stale_tallies); until then they are scored from their events.
        site.tally_basis = None
    site.config_version = (site.config_version or 0) + 1
    forget_request_snapshots()
    site.updated_at = now


def _tally_basis(site: Site) -> str:
    weights = {kind: spec["weight"] for kind, spec in (site.engagement or {}).items()}
    return tally_basis(weights, site.half_life_days)


def _set_tier(tier: Tier, spec: dict[str, Any], _position: int) -> None:
    _copy(tier, spec, ("rank", "min_score", "min_stage", "label"))


_FIELD_COLUMNS = (
    "label",
    "kind",
    "priority",
    "required",
    "scope",
    "identity",
    "refresh_after_days",
    "overwrite",
    "max_length",
    "help",
    "placeholder",
    "options",
    "ask_if",
    "pooled",
    "autocomplete",
)


def _set_field(field: Field, spec: dict[str, Any], position: int, tiers: dict[str, Tier]) -> None:
    _copy(field, spec, _FIELD_COLUMNS)
    field.position = position
    field.tier = tiers[spec["tier"]]


_FORM_COLUMNS = (
    "title",
    "intro",
    "stage",
    "max_questions",
    "submit_label",
    "thank_you",
    "complete_message",
    "consent",
    "always_ask",
    "language",
    "on_complete",
)


def _set_form(
    form: Form,
    spec: dict[str, Any],
    position: int,
    tiers: dict[str, Tier],
    fields: dict[str, Field],
) -> None:
    """The form's columns and its pool; pool links already there are kept, not re-created."""
    _copy(form, spec, _FORM_COLUMNS)
    form.strings = spec["strings"] or None
    form.position = position
    by_tier = {link.tier.key: link for link in form.pool_tiers}
    form.pool_tiers = [
        _placed(by_tier.get(key) or FormTier(tier=tiers[key]), i)
        for i, key in enumerate(spec["tiers"])
    ]
    by_field = {link.field.key: link for link in form.pool_fields}
    form.pool_fields = [
        _placed(by_field.get(key) or FormField(field=fields[key]), i)
        for i, key in enumerate(spec["fields"])
    ]


def _placed(link: Any, position: int) -> Any:
    link.position = position
    return link


def _set_stage(stage: LifecycleStage, spec: dict[str, Any], position: int) -> None:
    stage.position = position
    stage.when = spec["when"]
    stage.handoff = spec["handoff"]


def _set_destination(
    destination: Destination,
    spec: dict[str, Any],
    position: int,
    env_secrets: dict[str, str],
    now: datetime,
) -> None:
    """Columns from the config; the secret from the environment, else the one kept, else new.

    A new secret from the environment is a rotation: the one it replaces keeps signing too for
    ``SECRET_OVERLAP`` so receivers can switch without dropping a request.
    """
    _copy(destination, spec, ("url", "events", "format", "mapping", "secret_env", "enabled"))
    destination.position = position
    given = env_secrets.get(spec["key"])
    if given and given == destination.previous_secret:
        # A process still holding the variable's old value must not rotate back to it.
        given = None
    if given and destination.secret and given != destination.secret:
        rotate_secret(destination, now, given)
    destination.secret = given or destination.secret or generate_signing_secret()


def export_site_config(site_key: str) -> dict[str, Any]:
    """The canonical config of ``site_key``; NotFound when there is no such site.

    Archived entities are left out, as are keys at their default value and every secret.
    """
    site = db.session.scalars(_site_query(site_key)).one_or_none()
    if site is None:
        raise NotFound(f'No site "{site_key}".')
    return site_config(site, DEFAULT_ENGAGEMENT)


def checked_config(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` loaded and checked as an import would check it, without writing anything:
    Invalid listing every problem by path (a what-if of a proposed config, say)."""
    config, _secrets = _validated(data)
    return config
