"""Tables of the shared information system: entities and their versions, links, identifier keys,
cross-matches and requests for details, identity conflicts, ingestion batches and their rows."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import Index as SqlIndex
from sqlalchemy.orm import Mapped, mapped_column

from liaison.core.clock import utcnow
from liaison.core.ids import new_id
from liaison.db.base import Base, UTCDateTime


class SubjectCategory(StrEnum):
    """Data-subject categories of Annex II.B of Regulation (EU) 2016/794, as the issue lists."""

    SUSPECT = "suspect"
    CONVICTED = "convicted"
    VICTIM = "victim"
    WITNESS = "witness"
    CONTACT = "contact"


class LinkColour(StrEnum):
    """Identity-conflict link colours (Regulation (EU) 2019/818 Arts 30–33)."""

    YELLOW = "yellow"  # pending manual verification
    WHITE = "white"  # the same person, legitimately
    RED = "red"  # identity fraud: different identities used unjustifiably, or another's identity
    GREEN = "green"  # different persons who share data legitimately

    @property
    def meaning(self) -> str:
        return COLOUR_MEANINGS[self]


COLOUR_MEANINGS = {
    LinkColour.YELLOW: "to be verified: the records share an identifier but their identity data "
    "are not similar",
    LinkColour.WHITE: "verified: the same person, legitimately (Art. 33)",
    LinkColour.RED: "verified: identity fraud — a person using different identities "
    "unjustifiably or another person's identity (Art. 32)",
    LinkColour.GREEN: "verified: different persons sharing the identifier legitimately (Art. 31)",
}


class Entity(Base):
    """One record contributed by its data owner; ``properties`` are canonical (schema-checked)."""

    __tablename__ = "entities"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    owner_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    entity_type: Mapped[str] = mapped_column(String(32))
    source_ref: Mapped[str | None] = mapped_column(String(128))
    caption: Mapped[str] = mapped_column(String(300))
    properties: Mapped[dict[str, Any]] = mapped_column(JSON)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    handling: Mapped[str] = mapped_column(String(2), default="H0")
    h3_conditions: Mapped[str | None] = mapped_column(Text)
    classification: Mapped[int] = mapped_column(Integer, default=0)
    evaluation: Mapped[str | None] = mapped_column(String(2))
    crime_area: Mapped[str | None] = mapped_column(String(64))
    subject_category: Mapped[str | None] = mapped_column(String(16))
    minor: Mapped[bool] = mapped_column(Boolean, default=False)
    review_date: Mapped[dt.date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    change_seq: Mapped[int] = mapped_column(Integer)
    crosscheck_pending: Mapped[bool] = mapped_column(Boolean, default=True)
    batch_id: Mapped[str | None] = mapped_column(String(26))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("owner_agency_id", "source_ref", name="uq_entities_source_ref"),
        SqlIndex("ix_entities_change_seq", "change_seq"),
        SqlIndex("ix_entities_pending", "crosscheck_pending"),
        SqlIndex("ix_entities_owner_type", "owner_agency_id", "entity_type"),
    )


class EntityVersion(Base):
    """Every state a record has had, with who changed it and when."""

    __tablename__ = "entity_versions"

    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    change: Mapped[str] = mapped_column(String(16))
    properties: Mapped[dict[str, Any]] = mapped_column(JSON)
    markings: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class EntitySequence(Base):
    """One row counting changes: in-memory indexes catch up on ``change_seq`` above theirs."""

    __tablename__ = "entity_sequence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class EntityKey(Base):
    """An exact identifier key of a record (``document:X123``): objects' cross-checks, identity
    conflicts and identifier search."""

    __tablename__ = "entity_keys"

    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)

    __table_args__ = (SqlIndex("ix_entity_keys_key", "key"),)


class EntityLink(Base):
    """A link between two records, owned by the agency that contributed it."""

    __tablename__ = "entity_links"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    owner_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    link_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(ForeignKey("entities.id"))
    target_id: Mapped[str] = mapped_column(ForeignKey("entities.id"))
    role: Mapped[str | None] = mapped_column(String(16))
    start_date: Mapped[str | None] = mapped_column(String(10))
    end_date: Mapped[str | None] = mapped_column(String(10))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        SqlIndex("ix_entity_links_source", "source_id"),
        SqlIndex("ix_entity_links_target", "target_id"),
    )


class CrossMatch(Base):
    """Two owners hold the same person or object: both are told, neither sees the other's data."""

    __tablename__ = "cross_matches"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    entity_type: Mapped[str] = mapped_column(String(32))
    left_id: Mapped[str] = mapped_column(ForeignKey("entities.id"))
    right_id: Mapped[str] = mapped_column(ForeignKey("entities.id"))
    left_owner_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    right_owner_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    probability: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(16))
    explanation: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="active")  # or "withdrawn"
    left_seen: Mapped[bool] = mapped_column(Boolean, default=False)
    right_seen: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("left_id", "right_id", name="uq_cross_matches_pair"),
        SqlIndex("ix_cross_matches_left_owner", "left_owner_id", "created_at"),
        SqlIndex("ix_cross_matches_right_owner", "right_owner_id", "created_at"),
    )


class DetailsRequest(Base):
    """An agency asks the data owner for the details behind a hit."""

    __tablename__ = "details_requests"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    cross_match_id: Mapped[str | None] = mapped_column(ForeignKey("cross_matches.id"))
    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.id"))
    owner_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    requester_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    requested_by: Mapped[str] = mapped_column(String(64))
    justification: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    message_id: Mapped[str | None] = mapped_column(String(26))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (SqlIndex("ix_details_requests_owner", "owner_agency_id", "created_at"),)


class IdentityConflict(Base):
    """Records sharing a strong identifier whose identity data differ: a link for a reviewer."""

    __tablename__ = "identity_conflicts"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    left_id: Mapped[str] = mapped_column(ForeignKey("entities.id"))
    right_id: Mapped[str] = mapped_column(ForeignKey("entities.id"))
    identifier: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    colour: Mapped[str] = mapped_column(String(8), default=LinkColour.YELLOW.value)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_agency_id: Mapped[str | None] = mapped_column(String(26))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("left_id", "right_id", name="uq_identity_conflicts_pair"),
        SqlIndex("ix_identity_conflicts_colour", "colour", "created_at"),
    )


class IngestBatch(Base):
    """One upload: its per-row report and the progress of its cross-checks."""

    __tablename__ = "ingest_batches"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    username: Mapped[str] = mapped_column(String(64))
    source_format: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(200))
    total: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="running")  # done, failed
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IngestRow(Base):
    """What happened to one row of an upload."""

    __tablename__ = "ingest_rows"

    batch_id: Mapped[str] = mapped_column(ForeignKey("ingest_batches.id"), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_ref: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str | None] = mapped_column(String(26))
    message: Mapped[str] = mapped_column(Text, default="")
