"""site_secrets: identity and inbound-webhook secrets in one table, both rotated with an overlap

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 11:20:00

``identity_secrets`` becomes ``site_secrets`` with a ``purpose`` column (``identity`` for the
rows it held); each site's ``sites.inbound_secret`` moves there as its ``inbound`` secret, so an
inbound secret can be replaced while the old one keeps verifying for a while, as identity
secrets can. The downgrade puts back both: the current inbound secret on ``sites`` (secrets in
their overlap are dropped), the identity rows in ``identity_secrets``.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

COLUMNS = "id, site_id, secret, created_at, created_by, expires_at"


def _secrets_table(name: str, with_purpose: bool) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        *([sa.Column("purpose", sa.String(length=16), nullable=False)] if with_purpose else []),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f(f"fk_{name}_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{name}_site_id"), ["site_id"], unique=False)


def _follow_ids(table: str) -> None:
    """On PostgreSQL, move the id sequence past the ids copied in (SQLite needs nothing)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )


def upgrade() -> None:
    _secrets_table("site_secrets", with_purpose=True)
    op.execute(
        f"INSERT INTO site_secrets ({COLUMNS}, purpose)"
        f" SELECT {COLUMNS}, 'identity' FROM identity_secrets"
    )
    _follow_ids("site_secrets")
    bind = op.get_bind()
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    bind.execute(
        sa.text(
            "INSERT INTO site_secrets (site_id, purpose, secret, created_at)"
            " SELECT id, 'inbound', inbound_secret, :now FROM sites"
            " WHERE inbound_secret IS NOT NULL"
        ),
        {"now": now},
    )
    with op.batch_alter_table("identity_secrets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_secrets_site_id"))
    op.drop_table("identity_secrets")
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("inbound_secret")


def downgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("inbound_secret", sa.String(200), nullable=True))
    op.execute(
        "UPDATE sites SET inbound_secret = (SELECT MAX(secret) FROM site_secrets s"
        " WHERE s.site_id = sites.id AND s.purpose = 'inbound' AND s.expires_at IS NULL)"
    )
    _secrets_table("identity_secrets", with_purpose=False)
    op.execute(
        f"INSERT INTO identity_secrets ({COLUMNS})"
        f" SELECT {COLUMNS} FROM site_secrets WHERE purpose = 'identity'"
    )
    _follow_ids("identity_secrets")
    with op.batch_alter_table("site_secrets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_secrets_site_id"))
    op.drop_table("site_secrets")
