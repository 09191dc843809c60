"""The columns of a contact export: fixed ones, then each field's value and provenance."""

from __future__ import annotations

from dataclasses import dataclass

from app.services.exports.writers import Column
from app.services.siteconfig import SiteSnapshot

PARQUET_KIND = {"number": "float", "boolean": "bool", "consent": "bool", "multiselect": "list"}


BASE_COLUMNS = (
    Column("contact_id", "int"),
    Column("email", "text"),
    Column("stage", "text"),
    Column("engagement_score", "float"),
    Column("engagement_events", "int"),
    Column("created_at", "time"),
    Column("last_seen_at", "time"),
    Column("completeness", "int"),
)


@dataclass(frozen=True)
class FieldColumns:
    key: str
    value: str | None  # the value column's name; None when the email column already holds it
    at: str  # provenance columns' names (used only when asked for)
    source: str


def field_columns(site: SiteSnapshot) -> tuple[FieldColumns, ...]:
    """Column names per active field: ``<key>``, ``<key>__at``, ``<key>__source``. The identity
    field ``email`` is the contact's email column. A name already taken (a field keyed
    ``stage``, or ``name__at`` beside ``name``'s provenance) gets ``__2``, ``__3``… appended, so
    no column ever shadows another."""
    wanted = [c.name for c in BASE_COLUMNS]
    for key, view in site.fields.items():
        if not (key == "email" and view.rule.identity):
            wanted.append(key)
        wanted += [f"{key}__at", f"{key}__source"]
    taken: set[str] = set()

    def unique(name: str) -> str:
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name}__{n}"
        taken.add(candidate)
        return candidate

    names = iter([unique(name) for name in wanted][len(BASE_COLUMNS) :])
    layout = []
    for key, view in site.fields.items():
        value = None if key == "email" and view.rule.identity else next(names)
        layout.append(FieldColumns(key, value, next(names), next(names)))
    return tuple(layout)


def contact_columns(site: SiteSnapshot, provenance: bool) -> tuple[Column, ...]:
    columns = list(BASE_COLUMNS)
    for names in field_columns(site):
        if names.value is not None:
            kind = PARQUET_KIND.get(site.fields[names.key].rule.kind, "text")
            columns.append(Column(names.value, kind))
        if provenance:
            columns += [Column(names.at, "time"), Column(names.source, "text")]
    return tuple(columns)
