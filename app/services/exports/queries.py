"""SQL that builds export rows in the database: values as JSON documents, ISO times, scores."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Float,
    String,
    Text,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from app.extensions import db
from app.models import AccountValue, Contact, EngagementEvent, Submission
from app.services.exports.params import ContactFilters
from app.services.siteconfig import SiteSnapshot


def contact_query(site: SiteSnapshot, filters: ContactFilters) -> Any:
    sqlite = db.engine.dialect.name == "sqlite"
    query = select(
        Contact.id,
        Contact.email,
        Contact.lifecycle_stage,
        iso_text(Contact.created_at, sqlite).label("created_at"),
    ).where(Contact.site_id == site.id)
    if filters.stages:
        query = query.where(Contact.lifecycle_stage.in_(filters.stages))
    if filters.updated_since is not None:
        # A company value given by a colleague changes this contact's row too.
        query = query.where(
            or_(
                Contact.updated_at >= filters.updated_since,
                exists().where(
                    AccountValue.account_id == Contact.account_id,
                    AccountValue.updated_at >= filters.updated_since,
                ),
            )
        )
    if filters.identified is not None:
        query = query.where(
            Contact.email.is_not(None) if filters.identified else Contact.email.is_(None)
        )
    if filters.form is not None:
        query = query.where(
            exists().where(Submission.contact_id == Contact.id, Submission.form_key == filters.form)
        )
    return query


def as_one_document(chunk: Any, json_columns: set[str]) -> Any:
    """The rows of ``chunk`` as one JSON array of arrays, in key order, built by the
    database, and the last key: a single value per chunk to fetch and decode (C speed),
    instead of a Python tuple per row built while holding the GIL the reading thread shares
    with the writer. ``json_columns`` name the columns holding JSON, embedded as such."""
    rows = chunk.subquery()
    last = func.max(rows.c[0])  # the key to read on from
    if db.engine.dialect.name == "sqlite":
        cells = [func.json(c) if c.name in json_columns else c for c in rows.c]
        return select(func.json_group_array(func.json_array(*cells)), last)
    ordered = aggregate_order_by(func.json_build_array(*rows.c), rows.c[0])
    return select(cast(func.json_agg(ordered), Text), last)


def values_document(table: Any, owned: Any, field_ids: list[int], provenance: bool) -> Any:
    """The owner's values of ``field_ids`` as one JSON object built by the database:
    ``{"<field id>": value}``, or ``{"<field id>": [value, given at (ISO), form]}``."""
    sqlite = db.engine.dialect.name == "sqlite"
    value = func.json(table.value) if sqlite else table.value
    if provenance:
        build = func.json_array if sqlite else func.json_build_array
        value = build(value, iso_text(table.updated_at, sqlite), table.form_key)
    aggregate = func.json_group_object if sqlite else func.json_object_agg
    return (
        select(aggregate(table.field_id, value))
        .where(owned, table.field_id.in_(field_ids))
        .scalar_subquery()
    )


def iso_text(moment: Any, sqlite: bool) -> Any:
    """A stored UTC time as the text ``iso`` writes (2026-11-24T10:00:00.123456Z, no fraction
    when it is zero), rendered by the database: no datetime object per value."""
    if sqlite:  # stored as naive UTC text: 2026-11-24 10:00:00.123456
        text = func.replace(func.replace(moment, " ", "T"), ".000000", "") + "Z"
    else:
        utc = func.timezone("UTC", moment)
        text = func.replace(func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), ".000000", "")
    return type_coerce(text, String)


def event_score(site: SiteSnapshot, now: datetime, sqlite: bool) -> Any:
    """One event's part of the score, as ``score_of`` computes it: its kind's weight, halved
    every ``half_life_days`` of age when the site has a half-life (no decay before ``now``)."""
    kind = EngagementEvent.kind
    weight: Any = literal(0.0, Float)
    if site.weights:
        weight = case(
            *[(kind == k, literal(w, Float)) for k, w in site.weights.items()], else_=weight
        )
    half_life = site.half_life_days
    if half_life is None or half_life <= 0:
        return weight
    if sqlite:
        naive = now.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        days = func.max(func.julianday(naive) - func.julianday(EngagementEvent.occurred_at), 0)
        return weight * func.pow(0.5, days / float(half_life))
    # date_part gives double precision; extract() gives numeric, slower to compute with.
    seconds = func.date_part("epoch", literal(now) - EngagementEvent.occurred_at, type_=Float)
    days = func.greatest(seconds, 0.0) / 86400.0
    return weight * func.power(literal(0.5, Float), days / float(half_life))
