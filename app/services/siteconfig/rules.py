"""Rules of a site config that span entries: unique keys, references, cycles, webhook targets.

They read the raw config, not the loaded one, so they still run — and their problems are listed
with the schema's — when some entries fail the schema. A value of the wrong type is left to the
schema to report; these checks skip it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from app.domain.engagement import DEFAULT_ENGAGEMENT
from app.domain.webhooks import private_host
from app.services.addresses import private_resolution
from app.services.siteconfig.schema import consent_field_key, split_consent_text

Problems = dict[str, list[str]]
SECTIONS: tuple[str, ...] = ("tiers", "fields", "forms", "stages", "destinations")


class _Report:
    def __init__(self) -> None:
        self.problems: Problems = {}

    def add(self, path: str, message: str) -> None:
        self.problems.setdefault(path, []).append(message)

    def reference(self, path: str, value: Any, known: set[str], what: str) -> None:
        if isinstance(value, str) and value not in known:
            self.add(path, f'unknown {what} "{value}"')

    def references(self, path: str, values: Any, known: set[str], what: str) -> None:
        """Each listed key must exist and be listed once."""
        if not isinstance(values, list):
            return
        for index, value in enumerate(values):
            if isinstance(value, str) and value in values[:index]:
                self.add(f"{path}[{index}]", "listed twice")
            else:
                self.reference(f"{path}[{index}]", value, known, what)


def entries(data: Mapping[str, Any], section: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """(index, entry) for every entry of ``section`` that is a mapping."""
    value = data.get(section)
    if isinstance(value, list):
        yield from ((i, item) for i, item in enumerate(value) if isinstance(item, Mapping))


def cross_entry_problems(data: Mapping[str, Any], allow_private_targets: bool) -> Problems:
    """Every problem between entries of ``data``, by path (``forms[1].always_ask[0]``)."""
    report = _Report()
    keys = {section: _unique_keys(report, data, section) for section in SECTIONS}
    _check_ranks(report, data)
    _check_fields(report, data, keys["tiers"], keys["fields"])
    for i, form in entries(data, "forms"):
        for name, what, known in (
            ("always_ask", "field", keys["fields"]),
            ("tiers", "tier", keys["tiers"]),
            ("fields", "field", keys["fields"]),
        ):
            report.references(f"forms[{i}].{name}", form.get(name), known, what)
        _check_consent_line(report, data, i, form)
    handoffs = [i for i, stage in entries(data, "stages") if stage.get("handoff") is True]
    for i in handoffs[1:]:
        report.add(
            f"stages[{i}].handoff",
            f"only one stage can be the hand-off stage (stages[{handoffs[0]}] is)",
        )
    for i, stage in entries(data, "stages"):
        when = stage.get("when")
        if isinstance(when, Mapping):
            path = f"stages[{i}].when"
            report.references(
                f"{path}.fields_known", when.get("fields_known"), keys["fields"], "field"
            )
            for key in _mapping_keys(when.get("field_equals")):
                report.reference(f"{path}.field_equals.{key}", key, keys["fields"], "field")
    _check_sales_outcomes(report, data.get("sales_outcomes"), keys["stages"], _event_kinds(data))
    for i, destination in entries(data, "destinations"):
        for key in _mapping_keys(destination.get("mapping")):
            report.reference(f"destinations[{i}].mapping.{key}", key, keys["fields"], "field")
        if not allow_private_targets and _private_target(destination.get("url")):
            report.add(
                f"destinations[{i}].url",
                "points to a private, loopback or link-local address "
                "(set TRICKLE_ALLOW_PRIVATE_TARGETS=true to allow it)",
            )
    return report.problems


def _check_sales_outcomes(report: _Report, section: Any, stages: set[str], kinds: set[str]) -> None:
    """Every stage ``sales_outcomes`` moves a contact to is a configured lifecycle stage, and
    every hot activity an event kind the site counts (an unknown one would never be sent)."""
    if not isinstance(section, Mapping):
        return
    moves = section.get("stages")
    moves = moves if isinstance(moves, Mapping) else {}
    for kind in ("accepted", "opportunity", "won"):
        path = f"sales_outcomes.stages.{kind}"
        report.reference(path, moves.get(kind), stages, "lifecycle stage")
    recycle_to = section.get("recycle_to")
    report.reference("sales_outcomes.recycle_to", recycle_to, stages, "lifecycle stage")
    hot = section.get("hot_activity")
    events = hot.get("events") if isinstance(hot, Mapping) else None
    for index, kind in enumerate(events if isinstance(events, list) else ()):
        if isinstance(kind, str) and kind not in kinds:
            report.add(
                f"sales_outcomes.hot_activity.events[{index}]",
                f'unknown event kind "{kind}" (the site counts: {", ".join(sorted(kinds))})',
            )


def _event_kinds(data: Mapping[str, Any]) -> set[str]:
    """The event kinds a site counts: the built-in ones and those its ``engagement`` adds."""
    engagement = data.get("engagement")
    added = engagement if isinstance(engagement, Mapping) else {}
    return set(DEFAULT_ENGAGEMENT) | {kind for kind in added if isinstance(kind, str)}


def _check_consent_line(
    report: _Report, data: Mapping[str, Any], i: int, form: Mapping[str, Any]
) -> None:
    """``field`` names a consent field; a ``text`` becomes one, under a key still free."""
    consent = form.get("consent")
    if not isinstance(consent, Mapping):
        return
    fields = entries(data, "fields")
    kinds = {f["key"]: f.get("kind") for _, f in fields if isinstance(f.get("key"), str)}
    line = consent.get("field")
    if isinstance(line, str) and line in kinds and kinds[line] != "consent":
        report.add(f"forms[{i}].consent.field", f'field "{line}" is not of kind consent')
    elif isinstance(line, str) and line not in kinds:
        report.reference(f"forms[{i}].consent.field", line, set(kinds), "field")
    text, key = consent.get("text"), form.get("key")
    if not isinstance(text, str) or not isinstance(key, str) or "field" in consent:
        return
    if consent_field_key(key) in kinds:
        report.add(
            f"forms[{i}].consent.text",
            f'becomes the consent field "{consent_field_key(key)}", a key already used by a'
            " field: name a consent field with field instead",
        )
    try:
        split_consent_text(text)
    except ValueError as exc:
        report.add(f"forms[{i}].consent.text", str(exc))


def _mapping_keys(value: Any) -> list[str]:
    return [k for k in value if isinstance(k, str)] if isinstance(value, Mapping) else []


def _unique_keys(report: _Report, data: Mapping[str, Any], section: str) -> set[str]:
    """The keys ``section`` declares; a key used again is reported at the later entry."""
    first: dict[str, int] = {}
    for i, entry in entries(data, section):
        key = entry.get("key")
        if not isinstance(key, str):
            continue
        if key in first:
            report.add(
                f"{section}[{i}].key",
                f'duplicate key "{key}", first used by {section}[{first[key]}]',
            )
        else:
            first[key] = i
    return set(first)


def _check_ranks(report: _Report, data: Mapping[str, Any]) -> None:
    first: dict[int, int] = {}
    for i, tier in entries(data, "tiers"):
        rank = tier.get("rank")
        if not isinstance(rank, int) or isinstance(rank, bool):
            continue
        if rank in first:
            report.add(f"tiers[{i}].rank", f"rank {rank} is already used by tiers[{first[rank]}]")
        else:
            first[rank] = i


def _check_fields(
    report: _Report, data: Mapping[str, Any], tiers: set[str], keys: set[str]
) -> None:
    identity_at: int | None = None
    depends_on: dict[str, str] = {}
    for i, field in entries(data, "fields"):
        report.reference(f"fields[{i}].tier", field.get("tier"), tiers, "tier")
        if field.get("identity") is True:
            if identity_at is None:
                identity_at = i
            else:
                report.add(
                    f"fields[{i}].identity",
                    f"only one field can be the identity; fields[{identity_at}] already is",
                )
        ask_if = field.get("ask_if")
        target = ask_if.get("field") if isinstance(ask_if, Mapping) else None
        if not isinstance(target, str):
            continue
        if target == field.get("key"):
            report.add(f"fields[{i}].ask_if.field", "a field cannot depend on itself")
        elif target not in keys:
            report.add(f"fields[{i}].ask_if.field", f'unknown field "{target}"')
        elif isinstance(field.get("key"), str):
            depends_on.setdefault(field["key"], target)
    _check_cycles(report, data, depends_on)


def _check_cycles(report: _Report, data: Mapping[str, Any], depends_on: dict[str, str]) -> None:
    """Each field depends on at most one other, so every cycle is found by walking forward."""
    position: dict[str, int] = {}
    for i, entry in entries(data, "fields"):
        if isinstance(entry.get("key"), str):
            position.setdefault(entry["key"], i)
    done: set[str] = set()
    for start in depends_on:
        walk: list[str] = []
        node = start
        while node in depends_on and node not in done and node not in walk:
            walk.append(node)
            node = depends_on[node]
        done.update(walk)
        if node not in walk:
            continue
        cycle = walk[walk.index(node) :]
        first = min(cycle, key=lambda key: position[key])
        turn = cycle.index(first)
        cycle = cycle[turn:] + cycle[:turn]
        report.add(
            f"fields[{position[first]}].ask_if.field",
            "dependency cycle: " + " -> ".join([*cycle, first]),
        )


def _private_target(url: Any) -> bool:
    """True for a URL whose host is localhost, a private IP literal, or a name that resolves to a
    private address now. A name that does not resolve is let through; every send resolves again
    and checks the address it connects to (``app.services.delivery.http``, with ``app.services.addresses``)."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return False
    return private_host(host) or private_resolution(host, port or 443) is not None
