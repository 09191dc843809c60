"""A site's whole definition as a file (DESIGN §5): read, validate, import, export.

Import is all or nothing: the whole config is validated first and every problem is reported with
its path; only a config without problems is written, in one transaction. Entities are matched by
``key``; the ones a new config leaves out are archived, never deleted, because stored answers and
history point at them. Export gives the canonical config back, with secrets left out, so that
export → import → export is the identity and a config can live in git.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import sys
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import yaml
from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from app.config import secret_from_environment
from app.domain.webhooks import secret_key
from app.extensions import db
from app.models import (
    ConfigRevision,
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
from app.services.siteconfig_export import site_config
from app.services.siteconfig_fields import error_paths
from app.services.siteconfig_rules import SECTIONS, Problems, cross_entry_problems, entries
from app.services.siteconfig_schema import ENV_NAME_PATTERN, ConfigIn
from app.services.transactions import commit_unit

# Event weights every site starts from; a config's ``engagement`` adds kinds or changes weights.
DEFAULT_ENGAGEMENT: dict[str, float] = {
    "page_view": 1,
    "content_download": 3,
    "video_play": 2,
    "webinar": 5,
    "email_click": 1,
    "form_submit": 2,
}
SECRET_PATTERN = re.compile(r"whsec_[A-Za-z0-9+/=]{16,}")
_SECRET_MAX = 200
SECRET_OVERLAP = timedelta(hours=24)  # the width of Destination.secret
_ORDER = ("site", "engagement", *SECTIONS)
_NO_WRAP = 1_000_000

Row = TypeVar("Row", Tier, Field, Form, LifecycleStage, Destination)


def read_config_file(path: str) -> dict[str, Any]:
    """The config in ``path``: JSON for ``*.json``, YAML otherwise, YAML from stdin for ``-``.

    Raises Invalid (one problem under ``<file>``, with line and column when known) when the file
    cannot be read or parsed, or holds something other than a mapping at the top.
    """
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise _unreadable(exc.strerror or str(exc)) from None
    except UnicodeDecodeError:
        raise _unreadable("the file is not UTF-8 text") from None
    return parse_config_text(text, json_format=path.lower().endswith(".json"))


def parse_config_text(text: str, *, json_format: bool = False) -> dict[str, Any]:
    """A config from text (YAML, or JSON), with the same errors as ``read_config_file``."""
    data = _parse_json(text) if json_format else _parse_yaml(text)
    if not isinstance(data, dict):
        raise _unreadable("the top level must be a mapping (site:, tiers:, fields:, forms:, ...)")
    return data


def _unreadable(problem: str) -> Invalid:
    return Invalid("Config file could not be read.", fields={"<file>": [problem]})


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key written twice in one mapping is an error."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f'duplicate key "{key}"', key_node.start_mark
                )
            if isinstance(key, str):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _parse_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise _unreadable(where + str(exc.problem or exc.context)) from None
    except yaml.YAMLError as exc:
        raise _unreadable(str(exc)) from None


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f'duplicate key "{key}"')
        result[key] = value
    return result


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs)
    except json.JSONDecodeError as exc:
        raise _unreadable(f"line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:
        raise _unreadable(str(exc)) from None


def dump_config(data: Mapping[str, Any], fmt: str) -> str:
    """``data`` as text: ``"yaml"`` (keys in their given order) or ``"json"`` (indented).

    YAML lines are never wrapped, so a changed label is a one-line diff in git.
    """
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=_NO_WRAP)
    raise ValueError(f"Unknown config format {fmt!r}: use yaml or json.")


def import_site_config(
    data: Mapping[str, Any],
    author: str = "trickle import-config",
    expected_version: int | None = None,
) -> Site:
    """Create or update the site ``data`` describes, all or nothing, and return it.

    Any problem raises Invalid listing every problem by path; nothing is written then. Otherwise
    the site (matched by ``site.key``) and its tiers, fields, forms, stages and destinations are
    upserted by key, the ones left out archived, archived ones named again restored, and
    ``config_version`` goes up by one, in one committed transaction that also records the
    resulting config as a revision by ``author`` (a user's email, or the command that ran).

    With ``expected_version`` (an editor's optimistic lock), Conflict is raised and nothing is
    written when the stored site is no longer at that version.
    """
    config, env_secrets = _validated(data)
    now = current_app.config["CLOCK"]()

    def work() -> Site:
        site = _apply(config, env_secrets, now, expected_version)
        _record_revision(site, author, now)
        return site

    return commit_unit(work)


def _record_revision(site: Site, author: str, now: datetime) -> None:
    """Store the config as the database now holds it, read back in its stored order."""
    db.session.flush()
    stored = db.session.scalars(
        _site_query(site.key).execution_options(populate_existing=True)
    ).one()
    db.session.add(
        ConfigRevision(
            site_id=stored.id,
            version=stored.config_version,
            author=author,
            created_at=now,
            config=site_config(stored, DEFAULT_ENGAGEMENT),
        )
    )


def _validated(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The loaded config and the signing secrets found in the environment, by destination key."""
    problems: Problems = {}
    config: dict[str, Any] = {}
    try:
        config = ConfigIn().load(data)
    except ValidationError as exc:
        _merge(problems, error_paths(exc.messages))
    env_secrets: dict[int, str] = {}
    if isinstance(data, Mapping):
        allow_private = bool(current_app.config.get("ALLOW_PRIVATE_TARGETS"))
        _merge(problems, cross_entry_problems(data, allow_private))
        env_secrets = _secrets_from_environment(data, problems)
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


def _secrets_from_environment(data: Mapping[str, Any], problems: Problems) -> dict[int, str]:
    """Secrets named by ``secret_env`` and set, by destination index; a malformed one is a problem."""
    found: dict[int, str] = {}
    for i, destination in entries(data, "destinations"):
        name = destination.get("secret_env")
        if not isinstance(name, str) or not ENV_NAME_PATTERN.fullmatch(name):
            continue
        secret = secret_from_environment(name)
        if secret is None:
            continue
        if SECRET_PATTERN.fullmatch(secret) and len(secret) <= _SECRET_MAX and _signs(secret):
            found[i] = secret
        else:
            problems.setdefault(f"destinations[{i}].secret_env", []).append(
                f"{name} does not hold a signing secret: expected whsec_ followed by at least "
                "16 base64 characters"
            )
    return found


def _signs(secret: str) -> bool:
    """Whether ``secret`` can sign: its base64 part decodes (padding and all)."""
    try:
        secret_key(secret)
    except ValueError:
        return False
    return True


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
    if expected_version is not None and (site.config_version if site else 0) != expected_version:
        raise Conflict(
            "Someone changed this site's config while you were editing; "
            "your change was not saved. Reload the page and make it again."
        )
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
    _copy(site, config["site"], ("name", "skip_cooldown", "half_life_days", "followup_hours"))
    _copy(site, config["site"], ("anonymous_retention_days", "delivery_retention_days"))
    site.origins = list(config["site"]["origins"])
    site.engagement = engagement_weights(config["engagement"])
    site.config_version = (site.config_version or 0) + 1
    site.updated_at = now


def engagement_weights(engagement: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every kind a site counts, ``{kind: {weight, stage}}``: the defaults, then a config's
    ``engagement`` (a bare weight or ``{weight, stage}`` per kind) over them."""
    weights = {kind: {"weight": w, "stage": None} for kind, w in DEFAULT_ENGAGEMENT.items()}
    for kind, spec in engagement.items():
        weights[kind] = dict(spec) if isinstance(spec, Mapping) else {"weight": spec, "stage": None}
    return weights


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
    "max_length",
    "help",
    "placeholder",
    "options",
    "ask_if",
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


def rotate_secret(destination: Destination, now: datetime, new: str | None = None) -> str:
    """Give ``destination`` a new signing secret (``new`` or a generated one); the old one
    stays valid beside it for ``SECRET_OVERLAP``. Returns the new secret."""
    destination.previous_secret = destination.secret
    destination.previous_secret_until = now + SECRET_OVERLAP
    destination.secret = new or generate_signing_secret()
    return destination.secret


def rotate_generated_secret(destination: Destination, now: datetime) -> datetime:
    """The console's rotation: a generated secret replaces the current one, which signs too
    until the returned time. Invalid when the secret comes from the environment (the next
    import would put it back) or while a rotation is still under way (its previous secret
    would stop signing early)."""
    if destination.secret_env:
        raise Invalid(
            "The signing secret comes from the environment variable "
            f"{destination.secret_env}: put a new whsec_ secret there and save the config "
            "(the old one keeps signing for 24 hours)."
        )
    until = destination.previous_secret_until
    if until is not None and until > now:
        raise Invalid(
            f"A rotation is under way: the previous secret signs until {until:%Y-%m-%d %H:%M UTC}."
            " Rotate again after that, so that no secret a receiver may still use stops signing "
            "early."
        )
    rotate_secret(destination, now)
    return now + SECRET_OVERLAP


def generate_signing_secret() -> str:
    """A new Standard Webhooks signing secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def export_site_config(site_key: str) -> dict[str, Any]:
    """The canonical config of ``site_key``; NotFound when there is no such site.

    Archived entities are left out, as are keys at their default value and every secret.
    """
    site = db.session.scalars(_site_query(site_key)).one_or_none()
    if site is None:
        raise NotFound(f'No site "{site_key}".')
    return site_config(site, DEFAULT_ENGAGEMENT)
