"""Console edits of a site's config, one entity at a time, through the one importer.

Every edit takes the site's canonical config (what ``export-config`` writes), changes one entry
and imports the result with the editor as author. So a console edit is validated exactly like a
file, is all or nothing, and lands in the config history with its before → after. Editors hold
the ``config_version`` they loaded; a save against a newer version is refused (Conflict) instead
of silently undoing someone else's change.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.domain.selection import asking_order as form_asking_order
from app.domain.specs import FieldRule, FormRules, TierRule
from app.extensions import db
from app.models import Site
from app.services.errors import Invalid, NotFound
from app.services.siteconfig.importer import (
    checked_config,
    export_site_config,
    import_site_config,
)
from app.services.siteconfig.snapshots import SiteSnapshot

Config = dict[str, Any]
Problems = dict[str, list[str]]
PRIORITY_STEP = 10

# A new site starts with what every progressive form needs, ready to be edited.
STARTER_SECTIONS: Config = {
    "tiers": [{"key": "basics", "rank": 1, "label": "Basics"}],
    "fields": [
        {
            "key": "email",
            "label": "Work email",
            "kind": "email",
            "tier": "basics",
            "identity": True,
            "required": True,
        }
    ],
    "forms": [{"key": "newsletter", "title": "Stay in the loop", "tiers": ["basics"]}],
}


class EditRefused(Invalid):
    """The edited config did not validate; ``lines`` name entries by key, for people."""

    def __init__(self, message: str, fields: Problems, config: Config) -> None:
        super().__init__(message, fields)
        self.config = config

    def lines(self, problems: Problems | None = None) -> list[str]:
        """``problems`` (default: all of them) as readable lines."""
        return readable_problems(self.fields if problems is None else problems, self.config)


@dataclass(frozen=True)
class EditableConfig:
    """A site's canonical config and the version it was read at."""

    config: Config
    version: int

    def section(self, name: str) -> list[Config]:
        return list(self.config.get(name) or [])

    def keys(self, section: str) -> list[str]:
        return [entry["key"] for entry in self.section(section)]

    def position(self, section: str, key: str | None) -> int:
        """Where entry ``key`` is in its section; a new entry goes last."""
        keys = self.keys(section)
        return keys.index(key) if key in keys else len(keys)

    def entry(self, section: str, key: str) -> Config:
        """The entry ``key`` of ``section``; NotFound when there is none."""
        for entry in self.section(section):
            if entry["key"] == key:
                return copy.deepcopy(entry)
        raise NotFound(f'No {section[:-1]} "{key}".')


def editable_config(site_key: str) -> EditableConfig:
    """The site's config for an editor; NotFound for an unknown site."""
    version = db.session.scalar(select(Site.config_version).where(Site.key == site_key))
    if version is None:
        raise NotFound(f'No site "{site_key}".')
    return EditableConfig(export_site_config(site_key), version)


def edit_config(site_key: str, version: int, author: str, change: Callable[[Config], None]) -> Site:
    """Apply ``change`` to the site's config (as of ``version``) and import it by ``author``.

    Invalid with every problem by config path (``fields[3].label``) when the result does not
    validate; Conflict when the site moved past ``version``; nothing is written either way.
    """
    config = export_site_config(site_key)
    change(config)
    try:
        return import_site_config(config, author=author, expected_version=version)
    except Invalid as exc:
        fields = exc.fields or {}
        raise EditRefused(exc.message, fields, config) from None


def checked_edit(site_key: str, change: Callable[[Config], None]) -> Config:
    """The site's config with ``change`` applied, checked as :func:`edit_config` checks it and
    written nowhere (the live preview of an unsaved editor): EditRefused with every problem."""
    config = export_site_config(site_key)
    change(config)
    try:
        return checked_config(config)
    except Invalid as exc:
        raise EditRefused(exc.message, exc.fields or {}, config) from None


def create_site(key: str, name: str, origins: list[str], author: str) -> Site:
    """A new site with a starter tier, identity field and form; Invalid if the key is taken."""
    if db.session.scalar(select(Site.id).where(Site.key == key)) is not None:
        raise Invalid("The site was not created.", {"site.key": ["a site with this key exists"]})
    config: Config = {"site": {"key": key, "name": name, "origins": origins}}
    config.update(copy.deepcopy(STARTER_SECTIONS))
    return import_site_config(config, author=author, expected_version=0)


# ---- changes: each takes the config and edits it in place ----


def put_entry(section: str, entry: Config, replaces: str | None) -> Callable[[Config], None]:
    """Replace the entry keyed ``replaces`` by ``entry`` in place, or append a new one.

    A new entry whose key is already used is refused here, with the editor's wording.
    """

    def change(config: Config) -> None:
        entries = config.setdefault(section, [])
        keys = [e["key"] for e in entries]
        if replaces is None:
            if entry["key"] in keys:
                raise Invalid(
                    "Nothing was saved.", {f"{section}[{len(entries)}].key": ["this key is taken"]}
                )
            entries.append(entry)
            return
        if replaces not in keys:
            raise NotFound(f'No {section[:-1]} "{replaces}".')
        entries[keys.index(replaces)] = entry

    return change


def remove_tier(key: str) -> Callable[[Config], None]:
    """Archive tier ``key``; refused while fields still belong to it. Forms drop it."""

    def change(config: Config) -> None:
        _index(config, "tiers", key)
        users = [f["key"] for f in config["fields"] if f["tier"] == key]
        if users:
            raise Invalid(
                f'Tier "{key}" was not deleted: fields still use it.',
                {
                    "tier": [
                        f"Move {_listing(users)} to another tier (or delete "
                        f"{'it' if len(users) == 1 else 'them'}) first."
                    ]
                },
            )
        del config["tiers"][_index(config, "tiers", key)]
        _drop_from_pools(config, "tiers", key, f'tier "{key}"')

    return change


def remove_field(key: str) -> Callable[[Config], None]:
    """Archive field ``key`` and take it out of every form; what else refers to it (another
    field's condition, a stage rule, a destination mapping) is reported by validation."""

    def change(config: Config) -> None:
        del config["fields"][_index(config, "fields", key)]
        _drop_from_pools(config, "fields", key, f'field "{key}"')
        for form in config["forms"]:
            if "always_ask" in form:
                form["always_ask"] = [k for k in form["always_ask"] if k != key]
            if (form.get("consent") or {}).get("field") == key:
                del form["consent"]  # the form's consent line goes with its field

    return change


def _drop_from_pools(config: Config, pool: str, key: str, what: str) -> None:
    """Take ``key`` out of every form's ``pool``; refused when that would empty a form's pool,
    because an empty pool means "every field" and the form would start asking everything."""
    emptied = []
    for form in config["forms"]:
        if key in form.get(pool, []):
            form[pool] = [k for k in form[pool] if k != key]
            if not form.get("tiers") and not form.get("fields"):
                emptied.append(form["key"])
    if emptied:
        forms = _listing(emptied)
        raise Invalid(
            f"{what.capitalize()} was not deleted: it is all that {forms} ask.",
            {
                "forms": [
                    f"It is the only question source of form {forms}: without it the form would "
                    "ask every field of the site. Add other tiers or fields to the form first."
                ]
            },
        )


def remove_form(key: str) -> Callable[[Config], None]:
    def change(config: Config) -> None:
        del config["forms"][_index(config, "forms", key)]

    return change


def remove_destination(key: str) -> Callable[[Config], None]:
    """Archive destination ``key``: nothing more is queued for it; its deliveries are kept."""

    def change(config: Config) -> None:
        del config["destinations"][_index(config, "destinations", key)]

    return change


def move_field(key: str, steps: int) -> Callable[[Config], None]:
    """Move field ``key`` ``steps`` places (negative: earlier) in its tier's asking order.

    The tier's fields are renumbered 10, 20, 30… in their new order, so ties and gaps left by
    hand-written priorities do not make a move a no-op. Other tiers are untouched. An identity
    field is asked first whatever its priority: it is not moved, and the others move around it.
    """

    def change(config: Config) -> None:
        field = config["fields"][_index(config, "fields", key)]
        if field.get("identity"):
            raise Invalid(
                f'Field "{key}" was not moved: the identity field is asked first while '
                "unknown, in every form."
            )
        ordered = [
            f for f in asking_order(config["fields"], field["tier"]) if not f.get("identity")
        ]
        position = ordered.index(field)
        ordered.pop(position)
        ordered.insert(max(0, min(len(ordered), position + steps)), field)
        for number, sibling in enumerate(ordered, start=1):
            sibling["priority"] = number * PRIORITY_STEP

    return change


def asking_order(fields: list[Config], tier: str) -> list[Config]:
    """The fields of ``tier`` in the order a form asks them, by the ask's own ordering
    (``domain.selection.asking_order``): an identity field first, then priority, then key."""
    entries = {f["key"]: f for f in fields if f["tier"] == tier}
    rules = tuple(
        FieldRule(
            key=key,
            tier=tier,
            priority=entry.get("priority", 100),
            identity=bool(entry.get("identity")),
        )
        for key, entry in entries.items()
    )
    tiers = {tier: TierRule(tier, 0)}
    form = FormRules(key=tier, fields=rules, tiers=tiers, pool=frozenset(entries))
    return [entries[rule.key] for rule in form_asking_order(form)]


@dataclass(frozen=True)
class FormOrder:
    """One form's questions in the order its ask puts them (before what the visitor knows,
    the tiers' unlocking and the form's limit leave out)."""

    key: str
    title: str
    max_questions: int
    questions: list[tuple[str, str, str]]  # (key, label, what puts it there)


def form_asking_orders(site: SiteSnapshot) -> list[FormOrder]:
    """Every form of ``site`` with its questions in asking order (``FormOrder``)."""
    orders = []
    for form in site.forms.values():
        always = set(form.rules.always_ask)
        questions = []
        for rule in form_asking_order(form.rules):
            note = (
                "the consent line, under the questions"
                if rule.key == form.rules.consent_line
                else "identity: first while unknown"
                if rule.identity
                else "always asked"
                if rule.key in always
                else ""
            )
            questions.append((rule.key, site.fields[rule.key].label, note))
        orders.append(FormOrder(form.key, form.title, form.rules.max_questions, questions))
    return orders


def _index(config: Config, section: str, key: str) -> int:
    for index, entry in enumerate(config.get(section) or []):
        if entry["key"] == key:
            return index
    raise NotFound(f'No {section[:-1]} "{key}".')


def _listing(keys: list[str]) -> str:
    quoted = [f'"{k}"' for k in keys]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


# ---- problems back onto the editor's form ----


def readable_problems(problems: Problems | None, config: Config) -> list[str]:
    """Problems with entries named by key: ``field "budget", ask_if.field: unknown field …``."""
    lines = []
    for path, messages in (problems or {}).items():
        match = _PATH.fullmatch(path)
        entries = config.get(match["section"]) if match else None
        if match and match["index"] is not None and isinstance(entries, list):
            index = int(match["index"])
            key = entries[index].get("key") if index < len(entries) else None
            noun = match["section"][:-1].capitalize()
            where = f'{noun} "{key}"' + (f", {match['rest']}" if match["rest"] else "")
        else:
            where = path
        lines.extend(f"{where}: {message}" for message in messages)
    return lines


# Settings whose problems are named by their inner key, for the inputs an editor has per key.
_BY_KEY = frozenset({"strings"})
_PATH = re.compile(r"(?P<section>\w+)(?:\[(?P<index>\d+)\])?(?:\.(?P<rest>.*))?")


def problems_for_entry(
    problems: Problems, section: str, index: int | None
) -> tuple[Problems, Problems]:
    """Split config problems into the ones of entry ``section[index]`` (by its first key, e.g.
    ``label`` or ``ask_if``; a string by its own, ``strings.submit``) and the rest (by path).

    ``index`` None means the section is a mapping (``site``, ``engagement``).
    """
    mine: Problems = {}
    rest: Problems = {}
    for path, messages in problems.items():
        match = _PATH.fullmatch(path)
        same = (
            match is not None
            and match["section"] == section
            and (match["index"] is None if index is None else match["index"] == str(index))
        )
        if same and match["rest"]:
            name = re.split(r"[.\[]", match["rest"], maxsplit=1)[0]
            if name in _BY_KEY:  # "strings.submit": each string has an input of its own
                name = match["rest"]
            mine.setdefault(name, []).extend(messages)
        else:
            rest.setdefault(path, []).extend(messages)
    return mine, rest
