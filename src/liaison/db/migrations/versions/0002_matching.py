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
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "ref", "key", name="pk_match_keys"),
    )
    op.create_index("ix_match_keys_namespace_key", "match_keys", ["namespace", "key"])


def downgrade() -> None:
    op.drop_table("match_keys")
