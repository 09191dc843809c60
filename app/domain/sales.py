"""What a sales outcome must say to be recorded, and which stage it moves a contact to.

Pure rules over the site's ``sales_outcomes`` config (docs/sales.md): the service reads the
rows and writes the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

OUTCOME_KINDS: tuple[str, ...] = (
    "accepted",
    "contacted",
    "rejected",
    "recycled",
    "opportunity",
    "won",
    "lost",
    "nurtured",
)
# The first of these on or after a hand-off to sales stops its clock (docs/sales.md).
SALES_TOUCHES: frozenset[str] = frozenset({"accepted", "contacted", "rejected", "recycled"})
# Outcomes that take a contact off the sales queue: sales decided (or the deal went on).
QUEUE_CLOSERS: frozenset[str] = frozenset(
    {"accepted", "rejected", "recycled", "opportunity", "won", "lost"}
)
# The marketing touch a recycled contact is owed within ``recycle_followup_days``.
MARKETING_TOUCH = "nurtured"
# Outcomes that need a reason, and the config list it must come from.
REASON_LISTS: dict[str, str] = {
    "rejected": "rejection_reasons",
    "recycled": "rejection_reasons",
    "lost": "loss_reasons",
}
# Outcomes the config's ``stages`` map to a stage (forward only).
MAPPED_KINDS: tuple[str, ...] = ("accepted", "opportunity", "won")
# ISO 4217 codes accepted for an opportunity's amount (two-decimal currencies in common use).
CURRENCIES: frozenset[str] = frozenset(
    {
        "AED",
        "AUD",
        "BRL",
        "CAD",
        "CHF",
        "CNY",
        "CZK",
        "DKK",
        "EUR",
        "GBP",
        "HKD",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "MXN",
        "MYR",
        "NOK",
        "NZD",
        "PHP",
        "PLN",
        "RON",
        "SAR",
        "SEK",
        "SGD",
        "THB",
        "TRY",
        "TWD",
        "USD",
        "ZAR",
    }
)
MAX_SKEW = timedelta(minutes=5)  # how far in the future an occurred_at may be (clock skew)
NOTE_MAX = 2000
AMOUNT_LIMIT = Decimal(10) ** 15


@dataclass(frozen=True)
class OutcomeInput:
    """One outcome as reported (the API's body, or later the CRM's inbound webhook)."""

    kind: str
    by: str
    idempotency_key: str
    occurred_at: datetime
    reason: str | None = None
    note: str | None = None
    external_id: str | None = None
    amount: Decimal | None = None
    currency: str | None = None


def outcome_problems(
    data: OutcomeInput, config: Mapping[str, Any] | None, now: datetime
) -> dict[str, list[str]]:
    """Every rule ``data`` breaks, by field; empty when it may be recorded."""
    problems: dict[str, list[str]] = {}
    if data.kind not in OUTCOME_KINDS:
        problems["kind"] = ["must be one of: " + ", ".join(OUTCOME_KINDS)]
    reasons_key = REASON_LISTS.get(data.kind)
    if reasons_key is not None:
        agreed = list((config or {}).get(reasons_key) or ())
        if data.reason is None or not data.reason.strip():
            problems["reason"] = [f"required for {data.kind}"]
        elif agreed and data.reason not in agreed:
            problems["reason"] = [f"must be one of the agreed {reasons_key}: " + ", ".join(agreed)]
    elif data.reason is not None:
        problems["reason"] = [f"only for {', '.join(sorted(set(REASON_LISTS)))}"]
    if data.note is not None and len(data.note) > NOTE_MAX:
        problems["note"] = [f"must be at most {NOTE_MAX} characters long"]
    problems.update(_money_problems(data))
    if data.occurred_at > now + MAX_SKEW:
        problems["occurred_at"] = ["must not be in the future"]
    return problems


def _money_problems(data: OutcomeInput) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if data.kind != "opportunity":
        for name in ("external_id", "amount", "currency"):
            if getattr(data, name) is not None:
                problems[name] = ["only for opportunity"]
        return problems
    amount = data.amount
    if amount is not None:
        if not amount.is_finite() or amount < 0:
            problems["amount"] = ["must be a number, 0 or more"]
        elif amount >= AMOUNT_LIMIT:
            problems["amount"] = [f"must be less than {AMOUNT_LIMIT:.0f}"]
        elif amount != amount.quantize(Decimal("0.01")):
            problems["amount"] = ["must have at most 2 decimal places"]
        if data.currency is None:
            problems["currency"] = ["required with amount"]
    if data.currency is not None and data.currency not in CURRENCIES:
        problems["currency"] = [
            "must be an ISO 4217 code, one of: " + ", ".join(sorted(CURRENCIES))
        ]
    return problems


def outcome_stage(
    kind: str,
    config: Mapping[str, Any] | None,
    stage_keys: Sequence[str],
    current: str | None,
    in_order: bool,
) -> str | None:
    """The stage an outcome moves a contact on ``current`` to, or None when it stays.

    ``stages`` moves only forward; ``recycled`` is the one way back, to ``recycle_to``. An
    outcome older than the contact's latest (``in_order`` False) moves nothing: it is history.
    """
    if not in_order or not config:
        return None
    if kind == "recycled":
        target = config.get("recycle_to")
        return target if target in stage_keys and target != current else None
    target = (config.get("stages") or {}).get(kind) if kind in MAPPED_KINDS else None
    if target not in stage_keys:
        return None
    at = stage_keys.index(current) if current in stage_keys else -1
    return target if stage_keys.index(target) > at else None
