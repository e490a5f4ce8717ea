"""Candidate keys in the database: the index behind search on SQLite and PostgreSQL.

Capabilities store the keys of their records under a namespace (``entities``, ``alerts``) and an
opaque ref; a query fetches the refs sharing its selective keys. One row per key:
``(namespace, record_ref, key_kind, key)``, looked up by ``(namespace, key_kind, key)``. Query
builders return plain statements so they can be read and tested without a backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, Select, String, and_, delete, func, or_, select
from sqlalchemy import Index as SqlIndex
from sqlalchemy.orm import Mapped, Session, mapped_column

from liaison.db.base import Base
from liaison.matching.index import MAX_POSTINGS
from liaison.matching.keys import candidate_keys
from liaison.matching.record import Prepared

KEY_LENGTH = 200


class MatchKey(Base):
    """One candidate key of one record."""

    __tablename__ = "match_keys"

    namespace: Mapped[str] = mapped_column(String(32), primary_key=True)
    record_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)

    __table_args__ = (SqlIndex("ix_match_keys_lookup", "namespace", "key_kind", "key"),)


def split_keys(keys: Iterable[str]) -> list[tuple[str, str]]:
    """``kind:value`` keys as (kind, value) rows, values cut to the column's length."""
    rows = []
    for key in sorted(keys):
        kind, _, value = key.partition(":")
        rows.append((kind, value[:KEY_LENGTH]))
    return sorted(set(rows))


def store_keys(session: Session, namespace: str, record: Prepared) -> int:
    """Replace the stored keys of ``record.ref``; returns how many keys it has."""
    remove_keys(session, namespace, record.ref)
    rows = split_keys(candidate_keys(record))
    session.add_all(
        MatchKey(namespace=namespace, record_ref=record.ref, key_kind=kind, key=value)
        for kind, value in rows
    )
    return len(rows)


def remove_keys(session: Session, namespace: str, ref: str) -> None:
    session.execute(
        delete(MatchKey).where(MatchKey.namespace == namespace, MatchKey.record_ref == ref)
    )


def _matching(namespace: str, keys: Sequence[tuple[str, str]]) -> ColumnElement[bool]:
    by_kind: dict[str, list[str]] = {}
    for kind, value in keys:
        by_kind.setdefault(kind, []).append(value)
    return and_(
        MatchKey.namespace == namespace,
        or_(
            *(
                and_(MatchKey.key_kind == kind, MatchKey.key.in_(values))
                for kind, values in sorted(by_kind.items())
            )
        ),
    )


def candidates_query(
    namespace: str,
    keys: Sequence[tuple[str, str]],
    *,
    limit: int,
    max_postings: int = MAX_POSTINGS,
) -> Select[str, int]:
    """Refs sharing the most keys with the query; keys held by too many records are left out."""
    selective = (
        select(MatchKey.key_kind, MatchKey.key)
        .where(_matching(namespace, keys))
        .group_by(MatchKey.key_kind, MatchKey.key)
        .having(func.count() <= max_postings)
        .subquery()
    )
    shared = func.count().label("shared")
    return (
        select(MatchKey.record_ref, shared)
        .join(
            selective,
            and_(MatchKey.key_kind == selective.c.key_kind, MatchKey.key == selective.c.key),
        )
        .where(MatchKey.namespace == namespace)
        .group_by(MatchKey.record_ref)
        .order_by(shared.desc(), MatchKey.record_ref)
        .limit(limit)
    )


def candidate_refs(
    session: Session, namespace: str, query: Prepared, *, limit: int = 500
) -> list[str]:
    """Refs of stored records that may be the query's person, most shared keys first."""
    keys = split_keys(candidate_keys(query, query=True))
    if not keys:
        return []
    return [ref for ref, _ in session.execute(candidates_query(namespace, keys, limit=limit))]
