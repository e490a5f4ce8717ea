"""exchange: cases, participants, messages (sealed, signed), recipients with deadlines,
attachments (sealed), consent requests; the agencies' time zone for calendar-day deadlines.

Revision ID: 0007_exchange
Revises: 0006_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from liaison.db.base import UTCDateTime

revision = "0007_exchange"
down_revision = "0006_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_cases",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("title_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("crime_area", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("owner_agency_id", sa.String(length=26), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_agency_id"],
            ["agencies.id"],
            name=op.f("fk_exchange_cases_owner_agency_id_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_cases")),
        sa.UniqueConstraint("reference", name=op.f("uq_exchange_cases_reference")),
    )
    op.create_table(
        "exchange_case_participants",
        sa.Column("case_id", sa.String(length=26), nullable=False),
        sa.Column("agency_id", sa.String(length=26), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_exchange_case_participants_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["exchange_cases.id"],
            name=op.f("fk_exchange_case_participants_case_id_exchange_cases"),
        ),
        sa.PrimaryKeyConstraint("case_id", "agency_id", name=op.f("pk_exchange_case_participants")),
    )
    op.create_table(
        "exchange_messages",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("case_id", sa.String(length=26), nullable=False),
        sa.Column("thread_id", sa.String(length=26), nullable=False),
        sa.Column("in_reply_to_id", sa.String(length=26), nullable=True),
        sa.Column("forwarded_from_id", sa.String(length=26), nullable=True),
        sa.Column("sender_agency_id", sa.String(length=26), nullable=False),
        sa.Column("sender_user_id", sa.String(length=26), nullable=True),
        sa.Column("sender_username", sa.String(length=64), nullable=False),
        sa.Column("provider_agency_id", sa.String(length=26), nullable=False),
        sa.Column("message_type", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("accessibility", sa.String(length=8), nullable=True),
        sa.Column("legal_basis", sa.String(length=300), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("crime_area", sa.String(length=64), nullable=True),
        sa.Column("handling", sa.String(length=2), nullable=False),
        sa.Column("h3_conditions", sa.Text(), nullable=True),
        sa.Column("classification", sa.Integer(), nullable=False),
        sa.Column("personal_data", sa.Boolean(), nullable=False),
        sa.Column("refusal_ground", sa.String(length=64), nullable=True),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("subject_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("content_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("signature_key_id", sa.String(length=26), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("reference_type", sa.String(length=32), nullable=True),
        sa.Column("reference_id", sa.String(length=26), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["exchange_cases.id"],
            name=op.f("fk_exchange_messages_case_id_exchange_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_agency_id"],
            ["agencies.id"],
            name=op.f("fk_exchange_messages_provider_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["sender_agency_id"],
            ["agencies.id"],
            name=op.f("fk_exchange_messages_sender_agency_id_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_messages")),
        sa.UniqueConstraint(
            "sender_agency_id", "idempotency_key", name="uq_exchange_messages_idem"
        ),
    )
    op.create_index(
        "ix_exchange_messages_case", "exchange_messages", ["case_id", "sent_at"], unique=False
    )
    op.create_index(
        "ix_exchange_messages_sender_sent",
        "exchange_messages",
        ["sender_agency_id", "sent_at", "id"],
        unique=False,
    )
    op.create_index("ix_exchange_messages_thread", "exchange_messages", ["thread_id"], unique=False)
    op.create_index(
        "ix_exchange_messages_reply_to", "exchange_messages", ["in_reply_to_id"], unique=False
    )
    op.create_table(
        "exchange_attachments",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("message_id", sa.String(length=26), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["exchange_messages.id"],
            name=op.f("fk_exchange_attachments_message_id_exchange_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_attachments")),
    )
    op.create_index(
        op.f("ix_exchange_attachments_message_id"),
        "exchange_attachments",
        ["message_id"],
        unique=False,
    )
    op.create_table(
        "exchange_consents",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("source_message_id", sa.String(length=26), nullable=False),
        sa.Column("provider_agency_id", sa.String(length=26), nullable=False),
        sa.Column("requester_agency_id", sa.String(length=26), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("draft_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("request_message_id", sa.String(length=26), nullable=True),
        sa.Column("result_message_id", sa.String(length=26), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_agency_id"],
            ["agencies.id"],
            name=op.f("fk_exchange_consents_provider_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["requester_agency_id"],
            ["agencies.id"],
            name=op.f("fk_exchange_consents_requester_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["source_message_id"],
            ["exchange_messages.id"],
            name=op.f("fk_exchange_consents_source_message_id_exchange_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_consents")),
    )
    op.create_index(
        "ix_exchange_consents_provider",
        "exchange_consents",
        ["provider_agency_id", "status"],
        unique=False,
    )
    op.create_table(
        "exchange_recipients",
        sa.Column("message_id", sa.String(length=26), nullable=False),
        sa.Column("agency_id", sa.String(length=26), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("message_type", sa.String(length=16), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("answer_id", sa.String(length=26), nullable=True),
        sa.Column("deadline_at", UTCDateTime(), nullable=True),
        sa.Column("deadline_rule", sa.String(length=200), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_exchange_recipients_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["exchange_messages.id"],
            name=op.f("fk_exchange_recipients_message_id_exchange_messages"),
        ),
        sa.PrimaryKeyConstraint("message_id", "agency_id", name=op.f("pk_exchange_recipients")),
    )
    op.create_index(
        "ix_exchange_recipients_inbox",
        "exchange_recipients",
        ["agency_id", "sent_at", "message_id"],
        unique=False,
    )
    op.create_index(
        "ix_exchange_recipients_open",
        "exchange_recipients",
        ["agency_id", "closed", "deadline_at"],
        unique=False,
    )
    op.create_index(
        "ix_exchange_recipients_unread",
        "exchange_recipients",
        ["agency_id", "read_at", "sent_at", "message_id"],
        unique=False,
    )
    op.add_column("agencies", sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("agencies", "timezone")
    for index, table in (
        ("ix_exchange_recipients_unread", "exchange_recipients"),
        ("ix_exchange_recipients_open", "exchange_recipients"),
        ("ix_exchange_recipients_inbox", "exchange_recipients"),
        ("ix_exchange_consents_provider", "exchange_consents"),
        ("ix_exchange_attachments_message_id", "exchange_attachments"),
        ("ix_exchange_messages_reply_to", "exchange_messages"),
        ("ix_exchange_messages_thread", "exchange_messages"),
        ("ix_exchange_messages_sender_sent", "exchange_messages"),
        ("ix_exchange_messages_case", "exchange_messages"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "exchange_recipients",
        "exchange_consents",
        "exchange_attachments",
        "exchange_messages",
        "exchange_case_participants",
        "exchange_cases",
    ):
        op.drop_table(table)
