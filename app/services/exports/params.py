"""What an export is asked for: the format and filters, parsed and checked once for all three
ways in (the console's download form, the token API's query string, ``trickle export``'s
options). Unknown parameters, formats and values are ``Invalid`` (422), each one named."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import select

from app.domain.specs import is_storable_text
from app.extensions import db
from app.models import Field, Form, LifecycleStage, Tier
from app.services.errors import Invalid
from app.services.siteconfig import SiteSnapshot, site_snapshot

FORMATS: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
_TRUE, _FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"", "0", "false", "no", "off"})
CONTACT_PARAMS = (
    "format",
    "stage",
    "updated_since",
    "min_completeness",
    "tier_complete",
    "form",
    "identified",
    "provenance",
)
HISTORY_PARAMS = ("format", "since", "form", "field")


@dataclass(frozen=True)
class ContactFilters:
    stages: tuple[str, ...] = ()  # any of these lifecycle stages; empty: every contact
    updated_since: datetime | None = None
    min_completeness: int | None = None  # percent
    tiers_complete: tuple[str, ...] = ()  # every active field of each of these tiers known
    form: str | None = None  # gave at least one value through this form
    identified: bool | None = None  # True: with an email only; False: anonymous only
    provenance: bool = False  # add <field>__at and <field>__source


@dataclass(frozen=True)
class HistoryFilters:
    since: datetime | None = None
    form: str | None = None
    field: str | None = None


def contact_export_request(site_key: str, params: Mapping[str, str]) -> tuple[str, ContactFilters]:
    """The format and filters named by ``params`` (query-string style values), checked against
    the site's configuration; ``Invalid`` names every bad parameter."""
    site = site_snapshot(site_key)
    errors: dict[str, list[str]] = {}
    _unknown_params(params, CONTACT_PARAMS, errors)
    fmt = _format(params, errors)
    stages = _keys(params.get("stage"), _stage_keys(site), "stage", "lifecycle stage", errors)
    tiers = _keys(params.get("tier_complete"), _tier_keys(site), "tier_complete", "tier", errors)
    forms = _keys(params.get("form"), _form_keys(site), "form", "form", errors)
    filters = ContactFilters(
        stages=stages,
        updated_since=_moment(params.get("updated_since"), "updated_since", errors),
        min_completeness=_percent(params.get("min_completeness"), errors),
        tiers_complete=tiers,
        form=_single(forms, "form", errors),
        identified=_flag(params.get("identified"), "identified", errors, default=None),
        provenance=bool(_flag(params.get("provenance"), "provenance", errors, default=False)),
    )
    if errors:
        raise Invalid("Invalid export: " + ", ".join(sorted(errors)) + ".", errors)
    return fmt, filters


def history_export_request(site_key: str, params: Mapping[str, str]) -> tuple[str, HistoryFilters]:
    site = site_snapshot(site_key)
    errors: dict[str, list[str]] = {}
    _unknown_params(params, HISTORY_PARAMS, errors)
    fmt = _format(params, errors)
    forms = _keys(params.get("form"), _form_keys(site), "form", "form", errors)
    fields = _keys(
        params.get("field"), set(_all_field_keys(site).values()), "field", "field", errors
    )
    filters = HistoryFilters(
        since=_moment(params.get("since"), "since", errors),
        form=_single(forms, "form", errors),
        field=_single(fields, "field", errors),
    )
    if errors:
        raise Invalid("Invalid export: " + ", ".join(sorted(errors)) + ".", errors)
    return fmt, filters


def _unknown_params(
    params: Mapping[str, str], known: Sequence[str], errors: dict[str, list[str]]
) -> None:
    for name in params:
        if name not in known:
            shown = f' "{name}"' if is_storable_text(name) and len(name) <= 64 else ""
            errors[str(name)] = [f"Unknown parameter{shown}; use: {', '.join(known)}."]


def _format(params: Mapping[str, str], errors: dict[str, list[str]]) -> str:
    fmt = (params.get("format") or "csv").strip().lower()
    if fmt not in FORMATS:
        errors["format"] = [f"Unknown format; use one of: {', '.join(FORMATS)}."]
    return fmt


def _keys(
    raw: str | None, allowed: set[str], name: str, what: str, errors: dict[str, list[str]]
) -> tuple[str, ...]:
    """A comma-separated list of keys, each of which must be in ``allowed``."""
    if raw is None or not raw.strip():
        return ()
    keys = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    unknown = [key for key in keys if key not in allowed]
    if unknown:
        shown = ", ".join(f'"{key}"' if is_storable_text(key) else "?" for key in unknown[:5])
        choices = ", ".join(sorted(allowed)) or "none configured"
        errors[name] = [f"Unknown {what} {shown}; this site has: {choices}."]
    return keys


def _single(keys: tuple[str, ...], name: str, errors: dict[str, list[str]]) -> str | None:
    if len(keys) > 1:
        errors[name] = ["Give one key."]
    return keys[0] if keys else None


def _moment(raw: str | None, name: str, errors: dict[str, list[str]]) -> datetime | None:
    """An ISO 8601 date or date-time; without a zone it is UTC."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time(0))
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 shifted out of range
        errors[name] = [
            f"{text} is not a day of the calendar."
            if _DAY.fullmatch(text)
            else "Give an ISO 8601 date or date-time, e.g. 2026-03-01 or 2026-03-01T09:00Z."
        ]
        return None


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _percent(raw: str | None, errors: dict[str, list[str]]) -> int | None:
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 3) or int(text) > 100:
        errors["min_completeness"] = ["Give a whole percentage from 0 to 100."]
        return None
    return int(text)


def _flag(
    raw: str | None, name: str, errors: dict[str, list[str]], *, default: bool | None
) -> bool | None:
    if raw is None:
        return default
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False if text else default
    errors[name] = ["Give true or false."]
    return default


@dataclass(frozen=True)
class ExportChoices:
    """What the filters may name on a site, for the console's form."""

    stages: tuple[str, ...]
    tiers: tuple[str, ...]
    forms: tuple[str, ...]
    fields: tuple[str, ...]


def export_choices(site_key: str) -> ExportChoices:
    site = site_snapshot(site_key)
    stages = db.session.scalars(
        select(LifecycleStage.key)
        .where(LifecycleStage.site_id == site.id, LifecycleStage.archived_at.is_(None))
        .order_by(LifecycleStage.position)
    )
    tiers = db.session.scalars(
        select(Tier.key)
        .where(Tier.site_id == site.id, Tier.archived_at.is_(None))
        .order_by(Tier.rank)
    )
    return ExportChoices(
        stages=tuple(stages),
        tiers=tuple(tiers),
        forms=tuple(sorted(_form_keys(site))),
        fields=tuple(sorted(set(_all_field_keys(site).values()))),
    )


def _stage_keys(site: SiteSnapshot) -> set[str]:
    return set(
        db.session.scalars(
            select(LifecycleStage.key).where(
                LifecycleStage.site_id == site.id, LifecycleStage.archived_at.is_(None)
            )
        )
    )


def _tier_keys(site: SiteSnapshot) -> set[str]:
    return {view.rule.tier for view in site.fields.values()} | set(
        db.session.scalars(
            select(Tier.key).where(Tier.site_id == site.id, Tier.archived_at.is_(None))
        )
    )


def _form_keys(site: SiteSnapshot) -> set[str]:
    """Every form the site ever had: history keeps archived forms' keys."""
    return set(db.session.scalars(select(Form.key).where(Form.site_id == site.id)))


def _all_field_keys(site: SiteSnapshot) -> dict[int, str]:
    """Field id → key for every field the site ever had (history outlives archiving)."""
    return dict(
        db.session.execute(select(Field.id, Field.key).where(Field.site_id == site.id)).all()
    )
