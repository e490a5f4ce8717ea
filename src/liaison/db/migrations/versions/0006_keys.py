"""keys: envelope data keys and agency signing keys.

Revision ID: 0006_keys
Revises: 0005_alerts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from liaison.db.base import UTCDateTime

revision = "0006_keys"
down_revision = "0005_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("master_key_id", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_keys")),
    )
    op.create_index("ix_data_keys_master_key_id", "data_keys", ["master_key_id"], unique=False)
    op.create_index(
        "uq_data_keys_active",
        "data_keys",
        ["active"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "agency_signing_keys",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("agency_id", sa.String(length=26), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("private_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_agency_signing_keys_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_signing_keys")),
    )
    op.create_index(
        "ix_agency_signing_keys_agency_id", "agency_signing_keys", ["agency_id"], unique=False
    )
    op.create_index(
        "uq_agency_signing_keys_current",
        "agency_signing_keys",
        ["agency_id"],
        unique=True,
        sqlite_where=sa.text("retired_at IS NULL"),
        postgresql_where=sa.text("retired_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_agency_signing_keys_current", table_name="agency_signing_keys")
    op.drop_index("ix_agency_signing_keys_agency_id", table_name="agency_signing_keys")
    op.drop_table("agency_signing_keys")
    op.drop_index("uq_data_keys_active", table_name="data_keys")
    op.drop_index("ix_data_keys_master_key_id", table_name="data_keys")
    op.drop_table("data_keys")
