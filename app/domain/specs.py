"""Plain frozen dataclasses the rules take and return. Services map rows to these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

STAGES: tuple[str, ...] = ("early", "mid", "late")
FIELD_KINDS: tuple[str, ...] = (
    "text",
    "textarea",
    "email",
    "phone",
    "url",
    "number",
    "select",
    "multiselect",
    "boolean",
    "consent",
)
SCOPES: tuple[str, ...] = ("contact", "account")
# Per field: who may replace a non-blank value someone else gave (docs/config.md, "overwrite").
OVERWRITE: tuple[str, ...] = ("verified", "claimed")


def stage_rank(stage: str | None) -> int:
    """0 for no stage, then 1 (early), 2 (mid), 3 (late)."""
    return 0 if stage is None else STAGES.index(stage) + 1


@lru_cache(maxsize=4096)
def iso(moment: datetime) -> str:
    """An aware time as ISO 8601 in UTC with a Z (no fraction when it is zero). Cached: a
    payload stamps many values with one time (an import's batch, all of them)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else iso(moment)


def is_blank(value: Any) -> bool:
    """A value that is no answer: None, "" or whitespace, or an empty list. 0/False/"no" are answers."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, list | tuple):
        return len(value) == 0
    return False


def is_storable_text(text: str) -> bool:
    """False for text no database column can hold: NUL, or lone surrogates (valid JSON escapes)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# Numbers beyond this are no plausible answer, and downstream systems cannot hold them exactly.
MAX_NUMBER = 10**15


@dataclass(frozen=True)
class Dependency:
    """``ask_if``: ask a field only when another field's current value satisfies this.

    ``op`` is "equals" (value == ``value``), "in" (value in ``value``, a tuple) or
    "known" (``value`` True: the field has a non-blank value; False: it has none).
    """

    field: str
    op: str
    value: Any

    def holds_for(self, value: Any) -> bool:
        """Whether a current value (None: no non-blank value) meets this condition; a list
        value meets ``in`` when one of its items does."""
        if self.op == "known":
            return (value is not None) == bool(self.value)
        if value is None:
            return False
        if self.op == "equals":
            return _same(value, self.value)
        if self.op == "in":
            choices = self.value
            if not isinstance(choices, tuple | list | set | frozenset):
                choices = (choices,)
            given = value if isinstance(value, list | tuple) else (value,)
            return any(_same(v, c) for v in given for c in choices)
        return False  # an unknown operator never holds

    def words(self) -> str:
        """The condition in words, after the field's name: "is Yes", "is one of a, b"."""
        if self.op == "known":
            return "is answered" if self.value else "is not answered"
        if self.op == "in":
            choices = self.value if isinstance(self.value, tuple) else (self.value,)
            return "is one of " + ", ".join(_plain(c) for c in choices)
        if self.op == "equals":
            return f"is {_plain(self.value)}"
        return f"{self.op} {_plain(self.value)}"


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def _same(a: Any, b: Any) -> bool:
    # True == 1 in Python; a yes/no answer must not satisfy a numeric condition or vice versa.
    return isinstance(a, bool) == isinstance(b, bool) and a == b


@dataclass(frozen=True)
class FieldRule:
    key: str
    tier: str
    kind: str = "text"
    priority: int = 100
    required: bool = False
    scope: str = "contact"
    identity: bool = False
    refresh_after_days: int | None = None
    # Who may replace a value another browser or source gave: "verified" or also "claimed".
    overwrite: str = "verified"
    ask_if: Dependency | None = None
    options: tuple[str, ...] = ()  # allowed values for select / multiselect
    max_length: int | None = None


@dataclass(frozen=True)
class TierRule:
    key: str
    rank: int
    min_score: float = 0
    min_stage: str | None = None


@dataclass(frozen=True)
class FormRules:
    """One form as the rules see it.

    ``fields`` are all active fields of the site (so every left-out field gets a reason);
    ``pool`` the keys the form draws from; ``tiers`` every tier by key. ``consent_line`` is
    the key of the consent field the form shows under its questions until the contact gives it.
    """

    key: str
    fields: tuple[FieldRule, ...]
    tiers: Mapping[str, TierRule]
    pool: frozenset[str]
    max_questions: int = 3
    always_ask: tuple[str, ...] = ()
    skip_cooldown: int = 3
    consent_line: str | None = None


@dataclass(frozen=True)
class KnownValue:
    value: Any
    updated_at: datetime


@dataclass(frozen=True)
class ContactState:
    """What the rules need to know of one contact, at one moment."""

    values: Mapping[str, KnownValue] = field(default_factory=dict)
    # Values the contact's account holds (empty for an anonymous or free-mail contact).
    account_values: Mapping[str, KnownValue] = field(default_factory=dict)
    score: float = 0
    reached_stage: str | None = None  # the latest funnel stage of any counted event
    skips: Mapping[str, datetime] = field(default_factory=dict)  # field key -> skipped at
    # Field key -> the engagement events counted since its skip (the skip's cooldown).
    events_since: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class EventRecord:
    kind: str
    stage: str
    occurred_at: datetime
    external_id: str | None = None


@dataclass(frozen=True)
class ContactRef:
    id: int
    email: str | None
