"""Append-only, hash-chained audit log.

Every read of personal data and every change writes one entry in the same transaction as the
operation. Each entry's hash covers its content and the previous entry's hash, so altering or
removing a row behind the database's back breaks the chain; ``verify`` names the first broken
entry. The database itself refuses UPDATE and DELETE on the log (triggers in the migration).

Appends are serialised through the one-row ``audit_head`` table: the UPDATE … RETURNING that
claims the next sequence number takes the row lock (PostgreSQL) or the write lock (SQLite)
before the previous hash is read, so concurrent writers cannot fork the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import BigInteger, Integer, String, Table, Text, bindparam, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from liaison.core.actor import Actor
from liaison.core.clock import utcnow
from liaison.db.base import Base

GENESIS = "0" * 64


class Outcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    FAILED = "failed"


class AuditEntry(Base):
    """One line of the audit trail. Never updated, never deleted."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor_user_id: Mapped[str | None] = mapped_column(String(26), index=True)
    actor_username: Mapped[str | None] = mapped_column(String(100))
    agency_id: Mapped[str | None] = mapped_column(String(26), index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str | None] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(100), index=True)
    purpose: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The chain's head: last sequence number and hash. Mutable, unlike the log."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    last_hash: Mapped[str] = mapped_column(String(64))


def entry_hash(
    *,
    seq: int,
    at: dt.datetime,
    actor_user_id: str | None,
    actor_username: str | None,
    agency_id: str | None,
    action: str,
    object_type: str | None,
    object_id: str | None,
    purpose: str | None,
    outcome: str,
    detail: str,
    prev_hash: str,
) -> str:
    """SHA-256 over a canonical JSON form of the entry and its predecessor's hash."""
    canonical = json.dumps(
        [
            seq,
            at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            actor_user_id,
            actor_username,
            agency_id,
            action,
            object_type,
            object_id,
            purpose,
            outcome,
            detail,
            prev_hash,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    outcome: Outcome = Outcome.SUCCESS,
    detail: Mapping[str, Any] | None = None,
    purpose: str | None = None,
    agency_id: str | None = None,
    username: str | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction; it commits (or not) with the operation.
    The entry is written at once (Core, not the unit of work); the object returned is a copy
    of it, not attached to the session.

    ``actor`` is None for unauthenticated events (failed logins) and system jobs; then
    ``username``/``agency_id`` say who was involved, if anyone.
    """
    at = utcnow()
    seq, prev_hash = _claim_next(session)
    values: dict[str, Any] = {
        "seq": seq,
        "at": at,
        "actor_user_id": actor.user_id if actor else None,
        "actor_username": actor.username if actor else username,
        "agency_id": actor.agency_id if actor else agency_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "purpose": purpose if purpose is not None else (actor.purpose if actor else None),
        "outcome": outcome.value,
        "detail": json.dumps(dict(detail or {}), sort_keys=True, ensure_ascii=False, default=str),
        "prev_hash": prev_hash,
    }
    values["hash"] = entry_hash(**values)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_APPEND_POSTGRESQL, values)
    else:
        session.execute(_INSERT, values)
        session.execute(_ADVANCE, values)
    return AuditEntry(**values)


# The entry and the head's new hash. PostgreSQL takes both in one statement (a data-modifying
# WITH): one round trip less on every audited operation.
_TABLE = cast(Table, AuditEntry.__table__)
_INSERT = _TABLE.insert()
_ADVANCE = text("UPDATE audit_head SET last_hash = :hash WHERE id = 1")
_APPEND_POSTGRESQL = text(
    "WITH entry AS ("
    "INSERT INTO audit_log (seq, at, actor_user_id, actor_username, agency_id, action, "
    "object_type, object_id, purpose, outcome, detail, prev_hash, hash) VALUES (:seq, :at, "
    ":actor_user_id, :actor_username, :agency_id, :action, :object_type, :object_id, :purpose, "
    ":outcome, :detail, :prev_hash, :hash) RETURNING hash) "
    "UPDATE audit_head SET last_hash = (SELECT hash FROM entry) WHERE id = 1"
).bindparams(bindparam("at", type_=_TABLE.c.at.type))


def _claim_next(session: Session) -> tuple[int, str]:
    row = session.execute(
        text("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, last_hash")
    ).one_or_none()
    if row is None:
        raise RuntimeError("audit_head is missing: run `liaison db upgrade`")
    return int(row[0]), str(row[1])


@dataclass(frozen=True, slots=True)
class Verification:
    """Result of walking the chain."""

    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None

    def describe(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.checked} entries verified"
        return f"audit chain broken at entry {self.broken_seq}: {self.reason}"


def _rows(session: Session, batch: int = 5000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        page = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not page:
            return
        yield from page
        last = page[-1].seq
        session.expunge_all()


def verify(session: Session) -> Verification:
    """Recompute every hash in order; report the first entry that was altered, removed or added."""
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    for entry in _rows(session):
        if entry.seq != expected_seq:
            return Verification(
                False,
                checked,
                expected_seq,
                f"entry {expected_seq} is missing (next is {entry.seq})",
            )
        if entry.prev_hash != expected_prev:
            return Verification(False, checked, entry.seq, "previous-hash link does not match")
        recomputed = entry_hash(
            seq=entry.seq,
            at=entry.at,
            actor_user_id=entry.actor_user_id,
            actor_username=entry.actor_username,
            agency_id=entry.agency_id,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            purpose=entry.purpose,
            outcome=entry.outcome,
            detail=entry.detail,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.hash:
            return Verification(False, checked, entry.seq, "content does not match its hash")
        expected_prev = entry.hash
        expected_seq += 1
        checked += 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.last_hash != expected_prev):
        missing = checked + 1
        return Verification(
            False, checked, missing, f"entries after {checked} are missing (head is at {head.seq})"
        )
    return Verification(True, checked)
