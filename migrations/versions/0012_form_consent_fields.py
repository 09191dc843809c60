"""a form's consent line is a consent field: what a visitor ticks is recorded and forwarded

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 05:40:00

Before, a form's ``consent: {text, required}`` was shown by the widget and never sent. Each such
form now names a consent field (``consent: {field: key}``), made here as the import makes it
(docs/config.md, "Consent line"): keyed ``<form>_consent`` (a free key if that one is taken),
labelled with the text, in the site's first tier, required as the line was, and not pooled
(the new ``fields.pooled``): asked only as the line, never as a question of another form. An
archived form's field is made archived with it. No data changes otherwise: nothing was ever
recorded for these lines.

The downgrade turns each line back into text and takes away the not-pooled fields lines named
(the old code would ask them as questions under the same line): deleted when nothing refers to
them, archived when they hold values, consents or answers' history.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

LABEL_MAX = 500

forms = sa.table(
    "forms",
    sa.column("id", sa.Integer),
    sa.column("site_id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("consent", sa.JSON),
    sa.column("archived_at", sa.DateTime(timezone=True)),
)
fields = sa.table(
    "fields",
    sa.column("id", sa.Integer),
    sa.column("site_id", sa.Integer),
    sa.column("tier_id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("label", sa.String),
    sa.column("kind", sa.String),
    sa.column("position", sa.Integer),
    sa.column("priority", sa.Integer),
    sa.column("required", sa.Boolean),
    sa.column("scope", sa.String),
    sa.column("identity", sa.Boolean),
    sa.column("help", sa.Text),
    sa.column("overwrite", sa.String),
    sa.column("pooled", sa.Boolean),
    sa.column("archived_at", sa.DateTime(timezone=True)),
)
tiers = sa.table(
    "tiers",
    sa.column("id", sa.Integer),
    sa.column("site_id", sa.Integer),
    sa.column("rank", sa.Integer),
    sa.column("archived_at", sa.DateTime),
)


def _split(text):
    """Label and help that read back as the text (label, a blank line, help)."""
    if len(text) <= LABEL_MAX:
        return text, None
    at = text.rfind("\n\n", 0, LABEL_MAX + 1)
    if at <= 0:
        return text[:LABEL_MAX], text[LABEL_MAX:]
    return text[:at], text[at + 2 :] or None


def _free_key(taken, form_key):
    key, n = f"{form_key}_consent"[:64], 2
    while key in taken:
        key, n = f"{form_key}_consent_{n}"[:64], n + 1
    return key


# What refers to a field: its values, consents and their history. Pool links (form_fields) do
# not count: they go with the field.
HOLDERS = (
    "profile_values",
    "account_values",
    "consent_records",
    "submissions",
    "skips",
    "question_stats",
)


def upgrade():
    # A plain default: SQLite adds the column in place instead of copying the table.
    op.add_column("fields", sa.Column("pooled", sa.Boolean(), server_default="1", nullable=False))
    bind = op.get_bind()
    for form in bind.execute(sa.select(forms)).all():
        consent = form.consent
        if not consent or "text" not in consent or "field" in consent:
            continue
        taken = set(bind.scalars(sa.select(fields.c.key).where(fields.c.site_id == form.site_id)))
        tier_id = bind.scalar(
            sa.select(tiers.c.id)
            .where(tiers.c.site_id == form.site_id)
            .order_by(tiers.c.archived_at.is_not(None), tiers.c.rank)
            .limit(1)
        )
        if tier_id is None:
            continue  # a site without tiers has no fields for a line to join
        position = bind.scalar(
            sa.select(sa.func.coalesce(sa.func.max(fields.c.position), -1)).where(
                fields.c.site_id == form.site_id
            )
        )
        key = _free_key(taken, form.key)
        label, help_ = _split(consent["text"])
        bind.execute(
            fields.insert().values(
                site_id=form.site_id,
                tier_id=tier_id,
                key=key,
                label=label,
                kind="consent",
                position=position + 1,
                priority=100,
                required=bool(consent.get("required", True)),
                scope="contact",
                identity=False,
                help=help_,
                overwrite="verified",
                pooled=False,
                archived_at=form.archived_at,
            )
        )
        bind.execute(forms.update().where(forms.c.id == form.id).values(consent={"field": key}))


def downgrade():
    bind = op.get_bind()
    made = set()
    for form in bind.execute(sa.select(forms)).all():
        consent = form.consent
        if not consent or "field" not in consent:
            continue
        field = bind.execute(
            sa.select(
                fields.c.id, fields.c.label, fields.c.help, fields.c.required, fields.c.pooled
            ).where(fields.c.site_id == form.site_id, fields.c.key == consent["field"])
        ).one_or_none()
        if field is None:
            continue
        text = field.label if not field.help else f"{field.label}\n\n{field.help}"
        bind.execute(
            forms.update()
            .where(forms.c.id == form.id)
            .values(consent={"text": text, "required": field.required})
        )
        if not field.pooled:
            made.add(field.id)
    for field_id in sorted(made):
        _take_away(bind, field_id)
    op.drop_column("fields", "pooled")


def _take_away(bind, field_id):
    """Delete a line's field, or archive it when something refers to it."""
    held = any(
        bind.scalar(
            sa.text(f"SELECT 1 FROM {table} WHERE field_id = :id LIMIT 1"), {"id": field_id}
        )
        for table in HOLDERS
    )
    if held:
        bind.execute(
            fields.update()
            .where(fields.c.id == field_id, fields.c.archived_at.is_(None))
            .values(archived_at=datetime.now(UTC))
        )
        return
    bind.execute(sa.text("DELETE FROM form_fields WHERE field_id = :id"), {"id": field_id})
    bind.execute(fields.delete().where(fields.c.id == field_id))
