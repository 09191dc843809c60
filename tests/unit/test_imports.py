"""domain.imports: one imported row checked by its fields' own rules (no app, no database)."""

from __future__ import annotations

import pytest

from app.domain.imports import (
    CONSENT_NOT_IMPORTED,
    EMAIL_REQUIRED,
    NO_SUCH_FIELD,
    ImportedRow,
    check_imported_row,
    from_text,
)
from app.domain.specs import FieldRule

FIELDS = {
    "email": FieldRule("email", "basics", kind="email", identity=True),
    "tools": FieldRule("tools", "basics", kind="multiselect", options=("a", "b", "c")),
    "signs": FieldRule("signs", "basics", kind="boolean"),
    "size": FieldRule("size", "basics", kind="number"),
    "news": FieldRule("news", "basics", kind="consent"),
}


@pytest.mark.parametrize(
    ("rule", "raw", "value"),
    [
        ("signs", "Yes", True),
        ("signs", " false ", False),
        ("signs", "1", True),
        ("signs", "maybe", "maybe"),
        ("tools", "c; a;", ["c", "a"]),
        ("tools", "", []),
        ("size", "12", "12"),
        ("signs", True, True),
    ],
)
def test_text_values_take_their_kinds_type(rule, raw, value):
    assert from_text(FIELDS[rule], raw) == value


def test_a_row_is_cleaned_in_the_configs_order_with_its_email_normalised():
    row = {"size": "7", "tools": "c;a", "email": " Ann@Acme.Example ", "signs": ""}
    assert check_imported_row(FIELDS, "email", row, text=True) == (
        ImportedRow(
            "ann@acme.example", {"email": "ann@acme.example", "tools": ["a", "c"], "size": 7}
        ),
        {},
    )


def test_every_bad_key_is_named():
    row = {"email": "", "tools": ["z"], "news": True, "shoe": 1}
    assert check_imported_row(FIELDS, "email", row, text=False) == (
        None,
        {
            "email": EMAIL_REQUIRED,
            "tools": "Choose only from the offered options.",
            "news": CONSENT_NOT_IMPORTED,
            "shoe": NO_SUCH_FIELD,
        },
    )


def test_without_an_identity_field_the_email_is_checked_as_an_email_and_not_stored():
    fields = {"size": FIELDS["size"]}
    assert check_imported_row(fields, "email", {"email": "x@"}, text=False) == (
        None,
        {"email": "Enter a valid email address."},
    )
    assert check_imported_row(fields, "email", {"email": "a@b.example", "size": 3}, text=False) == (
        ImportedRow("a@b.example", {"size": 3}),
        {},
    )
