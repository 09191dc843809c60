"""trust of a browser's link: claimed/verified visitors, value provenance, identity secrets

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 03:10:00

What an upgrade changes (docs/architecture.md, "Trust"):
- every browser's link becomes ``claimed``, except the browser that created its contact (it
  typed the email before any other browser did): ``verified`` by ``upgrade``;
- values and history rows given by such a browser are marked verified; account values already
  held keep sparing colleagues (``trusted``);
- each site gets its link key, and every identified contact its email digest;
- skips become per browser (existing ones belong to no browser: only verified browsers see them).
"""

import base64
import hashlib
import hmac
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _digest(key: str, email: str) -> str:
    mac = hmac.new(key.encode(), email.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:22]


def upgrade():
    op.create_table(
        "identity_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_identity_secrets_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_secrets")),
    )
    with op.batch_alter_table("identity_secrets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_secrets_site_id"), ["site_id"], unique=False)

    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "trust", sa.String(length=16), server_default=sa.text("'claimed'"), nullable=False
            )
        )
        batch_op.add_column(sa.Column("verified_by", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("profile_values", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source", sa.String(length=16), server_default=sa.text("'browser'"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("verified", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("applied", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("verified", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "source", sa.String(length=16), server_default=sa.text("'browser'"), nullable=False
            )
        )
    with op.batch_alter_table("account_values", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("trusted", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("applied", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    with op.batch_alter_table("fields", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "overwrite",
                sa.String(length=16),
                server_default=sa.text("'verified'"),
                nullable=False,
            )
        )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_digest", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_contacts_email_digest", ["site_id", "email_digest"], unique=False)
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_key", sa.String(length=64), nullable=True))
    # Event ids per browser (an id another browser sent is kept, not counted). Nothing refers
    # to engagement events or skips, so SQLite may rebuild these tables.
    with op.batch_alter_table("engagement_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("counted", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.drop_constraint("uq_engagement_events_contact_id_external_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_engagement_events_contact_id_visitor_id_external_id",
            ["contact_id", "visitor_id", "external_id"],
        )
    with op.batch_alter_table("skips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visitor_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint("uq_skips_contact_id_field_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_skips_contact_id_field_id_visitor_id", ["contact_id", "field_id", "visitor_id"]
        )
        batch_op.create_index(batch_op.f("ix_skips_visitor_id"), ["visitor_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_skips_visitor_id_visitors"),
            "visitors",
            ["visitor_id"],
            ["id"],
            ondelete="SET NULL",
        )

    bind = op.get_bind()
    # The browser that created its contact, before any other typed the email, stays its owner.
    bind.execute(
        sa.text(
            "UPDATE visitors SET trust = 'verified', verified_by = 'upgrade' WHERE EXISTS ("
            " SELECT 1 FROM contacts c WHERE c.id = visitors.contact_id"
            " AND c.email IS NOT NULL AND c.created_at = visitors.created_at)"
        )
    )
    for table in ("profile_values", "submissions"):
        bind.execute(
            sa.text(
                f"UPDATE {table} SET verified = :yes WHERE visitor_id IN ("  # noqa: S608
                " SELECT id FROM visitors WHERE trust = 'verified')"
            ),
            {"yes": True},
        )
    for (site_id,) in bind.execute(sa.text("SELECT id FROM sites")).all():
        key = secrets.token_urlsafe(32)
        bind.execute(
            sa.text("UPDATE sites SET link_key = :k WHERE id = :i"), {"k": key, "i": site_id}
        )
        contacts = bind.execute(
            sa.text("SELECT id, email FROM contacts WHERE site_id = :i AND email IS NOT NULL"),
            {"i": site_id},
        ).all()
        if contacts:
            bind.execute(
                sa.text("UPDATE contacts SET email_digest = :d WHERE id = :i"),
                [{"d": _digest(key, email), "i": cid} for cid, email in contacts],
            )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.alter_column("link_key", existing_type=sa.String(length=64), nullable=False)


def downgrade():
    op.execute("DELETE FROM engagement_events WHERE counted = false")
    with op.batch_alter_table("engagement_events", schema=None) as batch_op:
        batch_op.drop_constraint(
            "uq_engagement_events_contact_id_visitor_id_external_id", type_="unique"
        )
        batch_op.create_unique_constraint(
            "uq_engagement_events_contact_id_external_id", ["contact_id", "external_id"]
        )
        batch_op.drop_column("counted")
    with op.batch_alter_table("skips", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_skips_visitor_id_visitors"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_skips_visitor_id"))
        batch_op.drop_constraint("uq_skips_contact_id_field_id_visitor_id", type_="unique")
    # Per-browser skips of one field collapse to the newest before the old constraint returns.
    op.execute(
        "DELETE FROM skips WHERE EXISTS (SELECT 1 FROM skips s2 WHERE s2.contact_id ="
        " skips.contact_id AND s2.field_id = skips.field_id AND (s2.skipped_at > skips.skipped_at"
        " OR (s2.skipped_at = skips.skipped_at AND s2.id > skips.id)))"
    )
    # Records kept out of force were never the consent state; before 0009 every record was.
    op.execute("DELETE FROM consent_records WHERE applied = false")
    with op.batch_alter_table("skips", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_skips_contact_id_field_id", ["contact_id", "field_id"]
        )
        batch_op.drop_column("visitor_id")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("link_key")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_email_digest")
        batch_op.drop_column("email_digest")
    with op.batch_alter_table("fields", schema=None) as batch_op:
        batch_op.drop_column("overwrite")
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_column("applied")
    with op.batch_alter_table("account_values", schema=None) as batch_op:
        batch_op.drop_column("trusted")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("source")
        batch_op.drop_column("verified")
        batch_op.drop_column("applied")
    with op.batch_alter_table("profile_values", schema=None) as batch_op:
        batch_op.drop_column("verified")
        batch_op.drop_column("source")
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.drop_column("verified_at")
        batch_op.drop_column("verified_by")
        batch_op.drop_column("trust")
    with op.batch_alter_table("identity_secrets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_secrets_site_id"))
    op.drop_table("identity_secrets")
