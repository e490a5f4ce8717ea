"""Candidate keys in the database: the index behind search on SQLite and PostgreSQL.

Capabilities store the keys of their records under a namespace (``entities``, ``alerts``) and an
opaque ref; a query fetches refs sharing a selective key. Query builders return plain
statements so they can be read and tested without a backend.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Index as SqlIndex
from sqlalchemy import Select, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from liaison.db.base import Base
from liaison.matching.index import MAX_POSTINGS
from liaison.matching.record import Prepared, candidate_keys


class MatchKey(Base):
    """One candidate key of one record."""

    __tablename__ = "match_keys"

    namespace: Mapped[str] = mapped_column(String(32), primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)

    __table_args__ = (SqlIndex("ix_match_keys_namespace_key", "namespace", "key"),)


def store_keys(session: Session, namespace: str, record: Prepared) -> int:
    """Replace the stored keys of ``record.ref``; returns how many keys it has."""
    session.execute(
        delete(MatchKey).where(MatchKey.namespace == namespace, MatchKey.ref == record.ref)
    )
    keys = sorted(candidate_keys(record))
    session.add_all(MatchKey(namespace=namespace, ref=record.ref, key=k[:200]) for k in keys)
    return len(keys)


def remove_keys(session: Session, namespace: str, ref: str) -> None:
    session.execute(delete(MatchKey).where(MatchKey.namespace == namespace, MatchKey.ref == ref))


def candidates_query(
    namespace: str, keys: Sequence[str], *, limit: int, max_postings: int = MAX_POSTINGS
) -> Select[str, int]:
    """Refs sharing the most keys with the query; keys held by too many records are left out."""
    selective = (
        select(MatchKey.key)
        .where(MatchKey.namespace == namespace, MatchKey.key.in_(keys))
        .group_by(MatchKey.key)
        .having(func.count() <= max_postings)
    )
    shared = func.count().label("shared")
    return (
        select(MatchKey.ref, shared)
        .where(MatchKey.namespace == namespace, MatchKey.key.in_(selective))
        .group_by(MatchKey.ref)
        .order_by(shared.desc(), MatchKey.ref)
        .limit(limit)
    )


def candidate_refs(
    session: Session, namespace: str, query: Prepared, *, limit: int = 500
) -> list[str]:
    """Refs of stored records that may be the query's person, most shared keys first."""
    keys = sorted(candidate_keys(query, query=True))
    if not keys:
        return []
    return [
        ref
        for ref, _ in session.execute(
            candidates_query(namespace, [k[:200] for k in keys], limit=limit)
        )
    ]
