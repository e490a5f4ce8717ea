"""alerts: alerts, their identifiers, checks and hit reports.

Revision ID: 0008_alerts
Revises: 0007_exchange
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from liaison.db.base import UTCDateTime

revision = "0008_alerts"
down_revision = "0007_exchange"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_sequence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_sequence")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("issuer_agency_id", sa.String(length=26), nullable=False),
        sa.Column("source_ref", sa.String(length=128), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("subject_kind", sa.String(length=8), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("caption", sa.String(length=300), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("review_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("handling", sa.String(length=2), nullable=False),
        sa.Column("h3_conditions", sa.Text(), nullable=True),
        sa.Column("classification", sa.Integer(), nullable=False),
        sa.Column("crime_area", sa.String(length=64), nullable=True),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("diffusion_countries", sa.JSON(), nullable=False),
        sa.Column("personal_data", sa.Boolean(), nullable=False),
        sa.Column("change_seq", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_agency_id"], ["agencies.id"], name=op.f("fk_alerts_issuer_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("issuer_agency_id", "source_ref", name="uq_alerts_source_ref"),
    )
    op.create_index("ix_alerts_category", "alerts", ["category", "status"], unique=False)
    op.create_index("ix_alerts_change_seq", "alerts", ["change_seq"], unique=False)
    op.create_index(
        "ix_alerts_issuer_status", "alerts", ["issuer_agency_id", "status"], unique=False
    )
    op.create_index("ix_alerts_status_review", "alerts", ["status", "review_date"], unique=False)
    op.create_index("ix_alerts_status_valid", "alerts", ["status", "valid_until"], unique=False)
    op.create_table(
        "alert_flags",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("alert_id", sa.String(length=26), nullable=False),
        sa.Column("agency_id", sa.String(length=26), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_alert_flags_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_flags_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_flags")),
        sa.UniqueConstraint("alert_id", "agency_id", name="uq_alert_flags_agency"),
    )
    op.create_index("ix_alert_flags_agency", "alert_flags", ["agency_id", "active"], unique=False)
    op.create_table(
        "alert_identifiers",
        sa.Column("alert_id", sa.String(length=26), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("strong", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_identifiers_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("alert_id", "key", name=op.f("pk_alert_identifiers")),
    )
    op.create_index("ix_alert_identifiers_key", "alert_identifiers", ["key"], unique=False)
    op.create_table(
        "alert_links",
        sa.Column("alert_id", sa.String(length=26), nullable=False),
        sa.Column("target_kind", sa.String(length=8), nullable=False),
        sa.Column("target_id", sa.String(length=26), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_links_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint(
            "alert_id", "target_kind", "target_id", name=op.f("pk_alert_links")
        ),
    )
    op.create_index(
        "ix_alert_links_target", "alert_links", ["target_kind", "target_id"], unique=False
    )
    op.create_table(
        "alert_notes",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("alert_id", sa.String(length=26), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("agency_id", sa.String(length=26), nullable=False),
        sa.Column("hit_report_id", sa.String(length=26), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_alert_notes_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_notes_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notes")),
    )
    op.create_index("ix_alert_notes_alert", "alert_notes", ["alert_id"], unique=False)
    op.create_table(
        "alert_versions",
        sa.Column("alert_id", sa.String(length=26), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.Column("changed_agency_id", sa.String(length=26), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_versions_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("alert_id", "version", name=op.f("pk_alert_versions")),
    )
    op.create_table(
        "hit_reports",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("alert_id", sa.String(length=26), nullable=False),
        sa.Column("issuer_agency_id", sa.String(length=26), nullable=False),
        sa.Column("checking_agency_id", sa.String(length=26), nullable=False),
        sa.Column("checked_by", sa.String(length=100), nullable=False),
        sa.Column("checked_by_user_id", sa.String(length=26), nullable=False),
        sa.Column("check_details", sa.JSON(), nullable=False),
        sa.Column("circumstances", sa.Text(), nullable=False),
        sa.Column("action_taken", sa.Text(), nullable=False),
        sa.Column("flagged_here", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=True),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=100), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=True),
        sa.Column("outcome_by", sa.String(length=100), nullable=True),
        sa.Column("outcome_at", UTCDateTime(), nullable=True),
        sa.Column("message_id", sa.String(length=26), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_hit_reports_alert_id_alerts")
        ),
        sa.ForeignKeyConstraint(
            ["checking_agency_id"],
            ["agencies.id"],
            name=op.f("fk_hit_reports_checking_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["issuer_agency_id"],
            ["agencies.id"],
            name=op.f("fk_hit_reports_issuer_agency_id_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hit_reports")),
    )
    op.create_index("ix_hit_reports_alert", "hit_reports", ["alert_id"], unique=False)
    op.create_index(
        "ix_hit_reports_checking", "hit_reports", ["checking_agency_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_hit_reports_issuer",
        "hit_reports",
        ["issuer_agency_id", "status", "deadline"],
        unique=False,
    )
    op.execute("INSERT INTO alert_sequence (id, value) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_index("ix_hit_reports_issuer", table_name="hit_reports")
    op.drop_index("ix_hit_reports_checking", table_name="hit_reports")
    op.drop_index("ix_hit_reports_alert", table_name="hit_reports")
    op.drop_table("hit_reports")
    op.drop_table("alert_versions")
    op.drop_index("ix_alert_notes_alert", table_name="alert_notes")
    op.drop_table("alert_notes")
    op.drop_index("ix_alert_links_target", table_name="alert_links")
    op.drop_table("alert_links")
    op.drop_index("ix_alert_identifiers_key", table_name="alert_identifiers")
    op.drop_table("alert_identifiers")
    op.drop_index("ix_alert_flags_agency", table_name="alert_flags")
    op.drop_table("alert_flags")
    op.drop_index("ix_alerts_status_valid", table_name="alerts")
    op.drop_index("ix_alerts_status_review", table_name="alerts")
    op.drop_index("ix_alerts_issuer_status", table_name="alerts")
    op.drop_index("ix_alerts_change_seq", table_name="alerts")
    op.drop_index("ix_alerts_category", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("alert_sequence")
