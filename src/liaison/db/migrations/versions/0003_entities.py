"""entities: the shared information system's records, links, keys, cross-matches, identity
conflicts and ingestion reports.

Revision ID: 0003_entities
Revises: 0002_matching
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from liaison.db.base import UTCDateTime

revision = "0003_entities"
down_revision = "0002_matching"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "entity_sequence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_sequence")),
    )
    op.create_table(
        "entities",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("owner_agency_id", sa.String(length=26), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("source_ref", sa.String(length=128), nullable=True),
        sa.Column("caption", sa.String(length=300), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("handling", sa.String(length=2), nullable=False),
        sa.Column("h3_conditions", sa.Text(), nullable=True),
        sa.Column("classification", sa.Integer(), nullable=False),
        sa.Column("evaluation", sa.String(length=2), nullable=True),
        sa.Column("crime_area", sa.String(length=64), nullable=True),
        sa.Column("subject_category", sa.String(length=16), nullable=True),
        sa.Column("minor", sa.Boolean(), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("change_seq", sa.Integer(), nullable=False),
        sa.Column("crosscheck_pending", sa.Boolean(), nullable=False),
        sa.Column("batch_id", sa.String(length=26), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_agency_id"], ["agencies.id"], name=op.f("fk_entities_owner_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entities")),
        sa.UniqueConstraint("owner_agency_id", "source_ref", name="uq_entities_source_ref"),
    )
    op.create_index("ix_entities_change_seq", "entities", ["change_seq"], unique=False)
    op.create_index(
        "ix_entities_owner_type", "entities", ["owner_agency_id", "entity_type"], unique=False
    )
    op.create_index("ix_entities_pending", "entities", ["crosscheck_pending"], unique=False)
    op.create_table(
        "ingest_batches",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("agency_id", sa.String(length=26), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("source_format", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_ingest_batches_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_batches")),
    )
    op.create_table(
        "cross_matches",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("left_id", sa.String(length=26), nullable=False),
        sa.Column("right_id", sa.String(length=26), nullable=False),
        sa.Column("left_owner_id", sa.String(length=26), nullable=False),
        sa.Column("right_owner_id", sa.String(length=26), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("band", sa.String(length=16), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("left_seen", sa.Boolean(), nullable=False),
        sa.Column("right_seen", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["left_id"], ["entities.id"], name=op.f("fk_cross_matches_left_id_entities")
        ),
        sa.ForeignKeyConstraint(
            ["left_owner_id"], ["agencies.id"], name=op.f("fk_cross_matches_left_owner_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["right_id"], ["entities.id"], name=op.f("fk_cross_matches_right_id_entities")
        ),
        sa.ForeignKeyConstraint(
            ["right_owner_id"],
            ["agencies.id"],
            name=op.f("fk_cross_matches_right_owner_id_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cross_matches")),
        sa.UniqueConstraint("left_id", "right_id", name="uq_cross_matches_pair"),
    )
    op.create_index(
        "ix_cross_matches_left_owner",
        "cross_matches",
        ["left_owner_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_cross_matches_right_owner",
        "cross_matches",
        ["right_owner_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "entity_keys",
        sa.Column("entity_id", sa.String(length=26), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_entity_keys_entity_id_entities")
        ),
        sa.PrimaryKeyConstraint("entity_id", "key", name=op.f("pk_entity_keys")),
    )
    op.create_index("ix_entity_keys_key", "entity_keys", ["key"], unique=False)
    op.create_table(
        "entity_links",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("owner_agency_id", sa.String(length=26), nullable=False),
        sa.Column("link_type", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=26), nullable=False),
        sa.Column("target_id", sa.String(length=26), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("start_date", sa.String(length=10), nullable=True),
        sa.Column("end_date", sa.String(length=10), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_agency_id"],
            ["agencies.id"],
            name=op.f("fk_entity_links_owner_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["entities.id"], name=op.f("fk_entity_links_source_id_entities")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["entities.id"], name=op.f("fk_entity_links_target_id_entities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_links")),
    )
    op.create_index("ix_entity_links_source", "entity_links", ["source_id"], unique=False)
    op.create_index("ix_entity_links_target", "entity_links", ["target_id"], unique=False)
    op.create_table(
        "entity_versions",
        sa.Column("entity_id", sa.String(length=26), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("markings", sa.JSON(), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_entity_versions_entity_id_entities")
        ),
        sa.PrimaryKeyConstraint("entity_id", "version", name=op.f("pk_entity_versions")),
    )
    op.create_table(
        "identity_conflicts",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("left_id", sa.String(length=26), nullable=False),
        sa.Column("right_id", sa.String(length=26), nullable=False),
        sa.Column("identifier", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("colour", sa.String(length=8), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_agency_id", sa.String(length=26), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["left_id"], ["entities.id"], name=op.f("fk_identity_conflicts_left_id_entities")
        ),
        sa.ForeignKeyConstraint(
            ["right_id"], ["entities.id"], name=op.f("fk_identity_conflicts_right_id_entities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_conflicts")),
        sa.UniqueConstraint("left_id", "right_id", name="uq_identity_conflicts_pair"),
    )
    op.create_index(
        "ix_identity_conflicts_colour", "identity_conflicts", ["colour", "created_at"], unique=False
    )
    op.create_table(
        "ingest_rows",
        sa.Column("batch_id", sa.String(length=26), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("source_ref", sa.String(length=128), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.String(length=26), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["ingest_batches.id"], name=op.f("fk_ingest_rows_batch_id_ingest_batches")
        ),
        sa.PrimaryKeyConstraint("batch_id", "line", name=op.f("pk_ingest_rows")),
    )
    op.create_table(
        "details_requests",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("cross_match_id", sa.String(length=26), nullable=True),
        sa.Column("entity_id", sa.String(length=26), nullable=False),
        sa.Column("owner_agency_id", sa.String(length=26), nullable=False),
        sa.Column("requester_agency_id", sa.String(length=26), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=26), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cross_match_id"],
            ["cross_matches.id"],
            name=op.f("fk_details_requests_cross_match_id_cross_matches"),
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_details_requests_entity_id_entities")
        ),
        sa.ForeignKeyConstraint(
            ["owner_agency_id"],
            ["agencies.id"],
            name=op.f("fk_details_requests_owner_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["requester_agency_id"],
            ["agencies.id"],
            name=op.f("fk_details_requests_requester_agency_id_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_details_requests")),
    )
    op.create_index(
        "ix_details_requests_owner",
        "details_requests",
        ["owner_agency_id", "created_at"],
        unique=False,
    )
    op.execute("INSERT INTO entity_sequence (id, value) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("details_requests")
    op.drop_table("ingest_rows")
    op.drop_table("identity_conflicts")
    op.drop_table("entity_versions")
    op.drop_table("entity_links")
    op.drop_table("entity_keys")
    op.drop_table("cross_matches")
    op.drop_table("ingest_batches")
    op.drop_table("entities")
    op.drop_table("entity_sequence")
