"""What a config change did, in words a marketer reads (the History page, issue 22): one line
per change, "Field “Budget” (budget) added", "Stage “mql”: rule “Engagement score ≥ 10” →
“Engagement score ≥ 15”", "Site: follow-up window 48 → 24".

Works on two stored configs (plain dicts as ``export_site_config`` and revisions hold them);
keyed lists (tiers, fields, forms, stages, destinations) are compared entry by entry by key,
other sections setting by setting. Pure: no database, no Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.domain.wording import rule_words

_NOUNS = {
    "tiers": "Tier",
    "fields": "Field",
    "forms": "Form",
    "stages": "Stage",
    "destinations": "Destination",
}
_SECTIONS = {
    "site": "Site",
    "engagement": "Engagement",
    "sales_outcomes": "Sales outcomes",
    "consent": "Consent",
}
_DEFAULT = object()  # a setting left out: the stored config omits defaults
_LONGEST = 60  # characters of a value shown; longer ones are cut with "…"


def config_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[str]:
    """The change from ``before`` (None: nothing before) to ``after``, one line per change,
    in the order of ``after``'s sections; [] when they are the same."""
    if before is None:
        return ["The first recorded version: everything in it is new."]
    labels = _labels(before) | _labels(after)  # the new label where both have one
    lines: list[str] = []
    for section in dict.fromkeys([*after, *before]):
        old, new = before.get(section), after.get(section)
        if old == new:
            continue
        if section in _NOUNS:
            lines += _keyed(_NOUNS[section], old or [], new or [], labels)
        elif isinstance(old, Mapping) and isinstance(new, Mapping):
            name = _SECTIONS.get(section, section)
            lines += [f"{name}: {line}" for line in _settings(old, new)]
        else:
            lines.append(_change(_SECTIONS.get(section, section), old, new))
    return lines


def _labels(config: Mapping[str, Any]) -> dict[str, str]:
    return {
        entry["key"]: entry.get("label") or entry["key"]
        for entry in config.get("fields") or ()
        if isinstance(entry, Mapping) and "key" in entry
    }


def _keyed(noun: str, old: list[Any], new: list[Any], labels: Mapping[str, str]) -> list[str]:
    before = {e.get("key"): e for e in old if isinstance(e, Mapping)}
    after = {e.get("key"): e for e in new if isinstance(e, Mapping)}
    lines = []
    for key, entry in after.items():
        name = _name(noun, key, entry)
        if key not in before:
            lines.append(f"{name} added")
        elif before[key] != entry:
            changes = _entry_changes(noun, before[key], entry, labels)
            lines.append(f"{name}: " + "; ".join(changes))
    lines += [
        f"{_name(noun, key, entry)} removed" for key, entry in before.items() if key not in after
    ]
    kept_before = [key for key in before if key in after]
    kept_after = [key for key in after if key in before]
    if kept_before != kept_after:
        lines.append(f"{noun}s reordered: " + ", ".join(str(key) for key in kept_after))
    return lines


def _name(noun: str, key: Any, entry: Mapping[str, Any]) -> str:
    shown = entry.get("label") or entry.get("title")
    return f"{noun} “{shown}” ({key})" if shown and shown != key else f"{noun} “{key}”"


def _entry_changes(
    noun: str, old: Mapping[str, Any], new: Mapping[str, Any], labels: Mapping[str, str]
) -> list[str]:
    changes = []
    for attribute in dict.fromkeys([*new, *old]):
        was, now = old.get(attribute, _DEFAULT), new.get(attribute, _DEFAULT)
        if was == now:
            continue
        if noun == "Stage" and attribute == "when":
            rule = _rule(was, labels)
            then = _rule(now, labels)
            changes.append(f"rule “{rule}” → “{then}”")
        else:
            changes.append(_change(attribute, was, now))
    return changes


def _rule(when: Any, labels: Mapping[str, str]) -> str:
    if not isinstance(when, Mapping):
        return "none"
    return " and ".join(rule_words({"when": when}, labels))


def _settings(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Setting by setting; a setting that is itself a group of settings (an engagement
    event's weight and stage) one level down."""
    lines = []
    for name in dict.fromkeys([*new, *old]):
        was, now = old.get(name, _DEFAULT), new.get(name, _DEFAULT)
        if was == now:
            continue
        if not prefix and isinstance(was, Mapping) and isinstance(now, Mapping):
            lines += _settings(was, now, f"{name} ")
        else:
            lines.append(_change(prefix + name, was, now))
    return lines


def _change(name: str, was: Any, now: Any) -> str:
    """One setting's change: its old and new value, or only that it changed for a value too
    large for a line (the YAML diff below the words has it all)."""
    label = name.replace("_", " ")
    if _large(was) or _large(now):
        return f"{label} changed"
    return f"{label} {_shown(was)} → {_shown(now)}"


def _large(value: Any) -> bool:
    plain = str | int | float | bool
    return isinstance(value, Mapping) or (
        isinstance(value, list) and not all(isinstance(v, plain) for v in value)
    )


def _shown(value: Any) -> str:
    """A plain value as short text: none, yes / no, a list joined, quoted and cut short."""
    if value is _DEFAULT:
        return "the default"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = (", ".join(str(v) for v in value) or "none") if isinstance(value, list) else str(value)
    return f"“{text if len(text) <= _LONGEST else text[: _LONGEST - 1] + '…'}”"
