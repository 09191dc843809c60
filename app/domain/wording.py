"""Stored values and recorded rules in the words people read: an answer with its option's label
(what the visitor chose, not the key the config stores), and why a contact moved stage.

Pure: the site's labels and options come in as plain mappings. The console escapes the text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.domain.selection import current_value
from app.domain.specs import ContactState

Options = Sequence[tuple[str, str]]  # (value, label), as a field lists them


def number_text(value: float) -> str:
    """6.0 → "6", 2.5 → "2.5": scores and thresholds are sums of weights, usually whole."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def count_text(count: int) -> str:
    """20000 → "20 000": counts of contacts, grouped by thousands as people write them."""
    return f"{count:,}".replace(",", " ")


def amount_text(cents: int) -> str:
    """Hundredths as a decimal amount, exactly: 120050 is "1200.50"."""
    whole, part = divmod(cents, 100)
    return f"{whole}.{part:02d}"


def answer_text(value: Any, options: Options = ()) -> str:
    """A stored value as plain text: an option's label for its value, lists joined, booleans
    Yes/No, "—" for none."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return ", ".join(answer_text(item, options) for item in value)
    labels = dict(options)
    return labels.get(value, str(value)) if isinstance(value, str) else str(value)


def rule_words(
    rule: Mapping[str, Any] | None,
    labels: Mapping[str, str],
    options: Mapping[str, Options] | None = None,
) -> tuple[str, ...]:
    """Why a stage move happened, one line per condition, from the ``rule`` a stage change
    records: a stage rule (``{"stage", "when"}``, see ``StageRule.as_config``; a ``score`` beside
    it is the score at the move, shown as "(was …)") or a sales outcome (``{"outcome", …}``).
    Fields are named by their ``labels``; an equals condition's value by its option label."""
    if not rule:
        return ("Not recorded",)
    if "outcome" in rule:
        reason = f" ({rule['reason']})" if rule.get("reason") else ""
        return (f"Sales outcome: {rule['outcome']}{reason}",)
    when = rule.get("when") or {}
    lines = []
    if when.get("min_score") is not None:
        was = rule.get("score")
        line = f"Engagement score ≥ {number_text(when['min_score'])}"
        lines.append(line if was is None else f"{line} (was {number_text(was)})")
    if when.get("fields_known"):
        lines.append("Known: " + ", ".join(labels.get(key, key) for key in when["fields_known"]))
    for key, wanted in (when.get("field_equals") or {}).items():
        shown = answer_text(wanted, (options or {}).get(key, ()))
        lines.append(f"{labels.get(key, key)} is {shown}")
    if when.get("min_stage"):
        lines.append(f"Reached the {when['min_stage']} funnel stage or later")
    return tuple(lines) or ("No condition: every contact qualifies",)


def rule_answers(
    rule: Mapping[str, Any] | None,
    state: ContactState,
    labels: Mapping[str, str],
    options: Mapping[str, Options] | None = None,
) -> dict[str, dict[str, Any]]:
    """The answers that made a stage ``rule`` hold: for each field it names (``fields_known``,
    ``field_equals``), by key, ``{label, value, text}`` (``text``: the value in words, an option
    by its label) as the rules judged it (the contact's own value, else its company's). A sales
    outcome's rule names no field: ``{}``."""
    when = (rule or {}).get("when") or {}
    keys = dict.fromkeys([*(when.get("fields_known") or ()), *(when.get("field_equals") or {})])
    answers = {}
    for key in keys:
        value = current_value(key, state)
        if value is not None:
            shown = answer_text(value, (options or {}).get(key, ()))
            answers[key] = {"label": labels.get(key, key), "value": value, "text": shown}
    return answers
