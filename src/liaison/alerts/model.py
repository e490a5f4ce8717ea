"""Tables of alerts and checks: alerts and their versions, identifier keys, links, flags,
misused-identity notes and hit reports."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy import Index as SqlIndex
from sqlalchemy.orm import Mapped, mapped_column

from liaison.core.clock import utcnow
from liaison.core.ids import new_id
from liaison.db.base import Base, UTCDateTime


class AlertStatus(StrEnum):
    """Where an alert stands. Active and hit-pending alerts are found by checks."""

    ACTIVE = "active"
    HIT_PENDING = "hit_pending"  # a hit was confirmed; the issuing agency is to answer
    EXECUTED = "executed"  # the action was taken; the alert no longer applies
    EXPIRED = "expired"  # validity or review date passed without extension
    DELETED = "deleted"  # withdrawn by the issuing agency

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    AlertStatus.ACTIVE: "active",
    AlertStatus.HIT_PENDING: "hit pending",
    AlertStatus.EXECUTED: "executed",
    AlertStatus.EXPIRED: "expired",
    AlertStatus.DELETED: "deleted",
}
IN_FORCE = (AlertStatus.ACTIVE.value, AlertStatus.HIT_PENDING.value)


class HitStatus(StrEnum):
    """A hit report: open until the issuing agency answers, or the hit proves false."""

    OPEN = "open"
    ANSWERED = "answered"
    FALSE_HIT = "false_hit"


class HitOutcome(StrEnum):
    """What the checking officer finally did."""

    ACTION_TAKEN = "action_taken"
    NOT_TAKEN_FLAG = "not_taken_flag"  # the action is not executed here: the agency flagged it
    NOT_TAKEN_OTHER = "not_taken_other"
    FALSE_HIT = "false_hit"  # not the subject: documented on the alert


class AlertAnswer(StrEnum):
    """The issuing agency's answer to a hit report."""

    EXECUTED = "executed"
    KEEP_ACTIVE = "keep_active"


class Alert(Base):
    """One alert on a person or an object, owned by its issuing agency."""

    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    issuer_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    source_ref: Mapped[str | None] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(40))
    subject_kind: Mapped[str] = mapped_column(String(8))  # person or object
    subject_type: Mapped[str] = mapped_column(String(32))
    properties: Mapped[dict[str, Any]] = mapped_column(JSON)
    caption: Mapped[str] = mapped_column(String(300))
    legal_basis: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    instructions: Mapped[str | None] = mapped_column(Text)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    review_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=AlertStatus.ACTIVE.value)
    handling: Mapped[str] = mapped_column(String(2), default="H0")
    h3_conditions: Mapped[str | None] = mapped_column(Text)
    classification: Mapped[int] = mapped_column(Integer, default=0)
    crime_area: Mapped[str | None] = mapped_column(String(64))
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    diffusion_countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    personal_data: Mapped[bool] = mapped_column(Boolean, default=True)
    change_seq: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (
        UniqueConstraint("issuer_agency_id", "source_ref", name="uq_alerts_source_ref"),
        SqlIndex("ix_alerts_change_seq", "change_seq"),
        SqlIndex("ix_alerts_issuer_status", "issuer_agency_id", "status"),
        SqlIndex("ix_alerts_status_review", "status", "review_date"),
        SqlIndex("ix_alerts_status_valid", "status", "valid_until"),
        SqlIndex("ix_alerts_category", "category", "status"),
    )

    @property
    def in_force(self) -> bool:
        return self.status in IN_FORCE


class AlertVersion(Base):
    """Every state an alert has had: who changed it, when, what, and why."""

    __tablename__ = "alert_versions"

    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    change: Mapped[str] = mapped_column(String(16))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_agency_id: Mapped[str | None] = mapped_column(String(26))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertSequence(Base):
    """One row counting alert changes: the in-memory person index catches up on it."""

    __tablename__ = "alert_sequence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class AlertIdentifier(Base):
    """A canonical exact-lookup key of an object alert (``plate:BAB1234``); weak keys are the
    serial alone of a firearm or banknote."""

    __tablename__ = "alert_identifiers"

    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(2))
    strong: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (SqlIndex("ix_alert_identifiers_key", "key"),)


class AlertLink(Base):
    """An alert's link to a related alert or to a record of the shared information system."""

    __tablename__ = "alert_links"

    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # alert or entity
    target_id: Mapped[str] = mapped_column(String(26), primary_key=True)

    __table_args__ = (SqlIndex("ix_alert_links_target", "target_kind", "target_id"),)


class AlertFlag(Base):
    """An agency's flag: the alert's action is not executed on its territory."""

    __tablename__ = "alert_flags"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"))
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    reason: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("alert_id", "agency_id", name="uq_alert_flags_agency"),
        SqlIndex("ix_alert_flags_agency", "agency_id", "active"),
    )


class AlertNote(Base):
    """A documented false hit: a person (or object) confirmed NOT to be the alert's subject,
    with the details that tell them apart, so the same innocent person is not stopped again."""

    __tablename__ = "alert_notes"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"))
    kind: Mapped[str] = mapped_column(String(24))  # misused_identity or look_alike
    details: Mapped[str] = mapped_column(Text)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    hit_report_id: Mapped[str | None] = mapped_column(String(26))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (SqlIndex("ix_alert_notes_alert", "alert_id"),)


class HitReport(Base):
    """A confirmed hit, reported to the issuing agency, which answers within the deadline."""

    __tablename__ = "hit_reports"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"))
    issuer_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    checking_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    checked_by: Mapped[str] = mapped_column(String(100))
    checked_by_user_id: Mapped[str] = mapped_column(String(26))
    check_details: Mapped[dict[str, Any]] = mapped_column(JSON)
    circumstances: Mapped[str] = mapped_column(Text)
    action_taken: Mapped[str] = mapped_column(Text)
    flagged_here: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=HitStatus.OPEN.value)
    deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(String(16))
    answer_text: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(100))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(24))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    outcome_by: Mapped[str | None] = mapped_column(String(100))
    outcome_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(String(26))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        SqlIndex("ix_hit_reports_issuer", "issuer_agency_id", "status", "deadline"),
        SqlIndex("ix_hit_reports_checking", "checking_agency_id", "created_at"),
        SqlIndex("ix_hit_reports_alert", "alert_id"),
    )
