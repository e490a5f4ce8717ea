"""matching: candidate keys of stored records.

Revision ID: 0002_matching
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_matching"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_keys",
        sa.Column("namespace", sa.String(32), nullable=False),
        sa.Column("record_ref", sa.String(64), nullable=False),
        sa.Column("key_kind", sa.String(8), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "record_ref", "key_kind", "key", name="pk_match_keys"),
    )
    op.create_index("ix_match_keys_lookup", "match_keys", ["namespace", "key_kind", "key"])


def downgrade() -> None:
    op.drop_index("ix_match_keys_lookup", table_name="match_keys")
    op.drop_table("match_keys")
