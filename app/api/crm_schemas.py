"""The bodies of the CRM's upserts (token API): one contact by email, or many at once.

Values are taken as JSON and checked by each field's own rules in the service (a bad one is
422 naming ``fields.<key>``, or ``contacts.<index>.fields.<key>`` in a bulk call).
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from app.api.schemas import Text

MAX_FIELDS = 200


def _values() -> fields.Dict:
    """Values by field key (any JSON: each field's rules check them in the service)."""
    return fields.Dict(
        keys=Text(validate=validate.Length(min=1, max=64)),
        values=fields.Raw(allow_none=True),
        required=True,
        validate=validate.Length(max=MAX_FIELDS),
    )


def _origin() -> Text:
    return Text(data_key="from", validate=validate.Length(min=1, max=64))


def _forward_to_origin() -> fields.Boolean:
    """Send what the values change to the ``from`` destination too (it is spared otherwise)."""
    return fields.Boolean(load_default=False)


class UpsertContactIn(Schema):
    """What the CRM knows of one person: values by field key; ``from``: the destination the
    values came from, not sent them back unless ``forward_to_origin``."""

    class Meta:
        unknown = RAISE

    origin = _origin()
    forward_to_origin = _forward_to_origin()
    fields = _values()


class BulkContactIn(Schema):
    """One person of a bulk upsert: the email and values by field key."""

    class Meta:
        unknown = RAISE

    email = Text(required=True, validate=validate.Length(min=1, max=320))
    fields = _values()


class BulkContactsIn(Schema):
    class Meta:
        unknown = RAISE

    origin = _origin()
    forward_to_origin = _forward_to_origin()
    contacts = fields.List(
        fields.Nested(BulkContactIn),
        required=True,
        validate=validate.Length(min=1, max=1000),
    )


class UpsertedOut(Schema):
    contact_id = fields.Integer(required=True)
    email = fields.String(required=True)
    created = fields.Boolean(required=True)
    changed = fields.List(fields.String(), required=True)


class BulkContactsOut(Schema):
    contacts = fields.List(fields.Nested(UpsertedOut), required=True)
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
