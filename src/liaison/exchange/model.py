"""Tables of the secure exchange: cases and their participants, messages (content sealed at rest,
signed by the sending agency), per-recipient delivery state with the legal deadline, attachments
(sealed) and consent requests for forwarding H2 information."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import Index as SqlIndex
from sqlalchemy.orm import Mapped, mapped_column

from liaison.core.clock import utcnow
from liaison.core.ids import new_id
from liaison.db.base import Base, UTCDateTime


class MessageType(StrEnum):
    REQUEST = "request"
    REPLY = "reply"
    INFORMATION = "information"
    HIT_FOLLOW_UP = "hit_follow_up"
    CONSENT_REQUEST = "consent_request"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Priority(StrEnum):
    URGENT = "urgent"
    NORMAL = "normal"


class Accessibility(StrEnum):
    """Directive (EU) 2023/977 Art. 2: information the requested authority holds itself (direct)
    or may obtain from other authorities or private parties (indirect)."""

    DIRECT = "direct"
    INDIRECT = "indirect"


class RecipientKind(StrEnum):
    TO = "to"
    CC = "cc"


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"
    READ = "read"
    ANSWERED = "answered"


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ConsentStatus(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    REFUSED = "refused"


class Case(Base):
    """Groups messages about one matter; the owner opens and closes it."""

    __tablename__ = "exchange_cases"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    # The title often names people or operations: sealed like message subjects.
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    crime_area: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8), default=CaseStatus.OPEN.value)
    owner_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CaseParticipant(Base):
    __tablename__ = "exchange_case_participants"

    case_id: Mapped[str] = mapped_column(ForeignKey("exchange_cases.id"), primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Message(Base):
    """One message as sent. ``subject_sealed`` and ``content_sealed`` (body, structured items and
    links) are encrypted at rest; the signature covers the canonical form of everything shown."""

    __tablename__ = "exchange_messages"
    __table_args__ = (
        UniqueConstraint("sender_agency_id", "idempotency_key", name="uq_exchange_messages_idem"),
        SqlIndex("ix_exchange_messages_sender_sent", "sender_agency_id", "sent_at", "id"),
        SqlIndex("ix_exchange_messages_case", "case_id", "sent_at"),
        SqlIndex("ix_exchange_messages_thread", "thread_id"),
        SqlIndex("ix_exchange_messages_reply_to", "in_reply_to_id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("exchange_cases.id"))
    thread_id: Mapped[str] = mapped_column(String(26))
    in_reply_to_id: Mapped[str | None] = mapped_column(String(26))
    forwarded_from_id: Mapped[str | None] = mapped_column(String(26))
    sender_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    sender_user_id: Mapped[str | None] = mapped_column(String(26))
    sender_username: Mapped[str] = mapped_column(String(64))
    # The agency whose permission H2 information needs: the first provider along a forward chain.
    provider_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    message_type: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(8))
    accessibility: Mapped[str | None] = mapped_column(String(8))
    legal_basis: Mapped[str] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(String(500))
    crime_area: Mapped[str | None] = mapped_column(String(64))
    handling: Mapped[str] = mapped_column(String(2))
    h3_conditions: Mapped[str | None] = mapped_column(Text)
    classification: Mapped[int] = mapped_column(Integer)
    personal_data: Mapped[bool] = mapped_column(Boolean)
    refusal_ground: Mapped[str | None] = mapped_column(String(64))
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    subject_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    content_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    signature_key_id: Mapped[str] = mapped_column(String(26))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Free reference to what the message is about (e.g. ("alert", id), ("cross_match", id)).
    reference_type: Mapped[str | None] = mapped_column(String(32))
    reference_id: Mapped[str | None] = mapped_column(String(26))


class MessageRecipient(Base):
    """Delivery to one agency: status, first read, acknowledgement and, for requests, the legal
    deadline counted from receipt; a reply from this agency closes its request."""

    __tablename__ = "exchange_recipients"
    __table_args__ = (
        SqlIndex("ix_exchange_recipients_inbox", "agency_id", "sent_at", "message_id"),
        SqlIndex("ix_exchange_recipients_open", "agency_id", "closed", "deadline_at"),
        # Unread first by time: ``read_at IS NULL`` is an equality for the index.
        SqlIndex("ix_exchange_recipients_unread", "agency_id", "read_at", "sent_at", "message_id"),
    )

    message_id: Mapped[str] = mapped_column(ForeignKey("exchange_messages.id"), primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(12), default=DeliveryStatus.DELIVERED.value)
    # Copied from the message so the inbox is one index range scan.
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    priority: Mapped[str] = mapped_column(String(8))
    message_type: Mapped[str] = mapped_column(String(16))
    delivered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    answer_id: Mapped[str | None] = mapped_column(String(26))
    deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    deadline_rule: Mapped[str | None] = mapped_column(String(200))
    # A request to this agency is open until it answers (reply or refusal); others are closed.
    closed: Mapped[bool] = mapped_column(Boolean, default=True)


class Attachment(Base):
    """A file sent with a message: content type detected from the bytes, SHA-256 of the plain
    bytes (signed with the message), the bytes themselves sealed."""

    __tablename__ = "exchange_attachments"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(ForeignKey("exchange_messages.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class ConsentRequest(Base):
    """A forward of H2 information waiting for the provider's permission (the held forward is
    sealed in ``draft_sealed``; it is sent when the provider grants, never otherwise)."""

    __tablename__ = "exchange_consents"
    __table_args__ = (SqlIndex("ix_exchange_consents_provider", "provider_agency_id", "status"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    source_message_id: Mapped[str] = mapped_column(ForeignKey("exchange_messages.id"))
    provider_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    requester_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    requested_by: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    draft_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(8), default=ConsentStatus.PENDING.value)
    request_message_id: Mapped[str | None] = mapped_column(String(26))
    result_message_id: Mapped[str | None] = mapped_column(String(26))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
