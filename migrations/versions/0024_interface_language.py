"""Interface language: sites.language and strings, forms.language and strings, fields.autocomplete

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 14:10:00

The widget's interface text in the site's or a form's language, with the config's replacements
for its built-in strings, and a field's autocomplete token (docs/config.md, "Language and
interface text"). Existing sites speak English (``language`` 'en'), as before; the other columns
start empty (forms speak their site's language, fields derive their token from key and kind).
The downgrade drops the columns.
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch:
        batch.add_column(
            sa.Column("language", sa.String(8), server_default=sa.text("'en'"), nullable=False)
        )
        batch.add_column(sa.Column("strings", sa.JSON(), nullable=True))
    with op.batch_alter_table("forms", schema=None) as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=True))
        batch.add_column(sa.Column("strings", sa.JSON(), nullable=True))
    with op.batch_alter_table("fields", schema=None) as batch:
        batch.add_column(sa.Column("autocomplete", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fields", schema=None) as batch:
        batch.drop_column("autocomplete")
    with op.batch_alter_table("forms", schema=None) as batch:
        batch.drop_column("strings")
        batch.drop_column("language")
    with op.batch_alter_table("sites", schema=None) as batch:
        batch.drop_column("strings")
        batch.drop_column("language")
