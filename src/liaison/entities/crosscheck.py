"""The automatic cross-check (EIS hit/no-hit) and identity conflicts (the MID idea).

Every new, changed or deleted record is *pending*. ``run_pending`` takes pending records in
chunks, in the order they changed, and:

- persons: searches the person index (the matching engine) for other owners' records of the
  same person; hits at or above the cross-check *possible* threshold become cross-matches;
- objects (vehicles, documents, phones, …): other owners' records of the same type sharing a
  canonical identifier (``entity_keys``) are cross-matches;
- persons sharing a document or national number whose identity data are *not* similar become a
  yellow identity-conflict link for a reviewer;
- cross-matches that no longer hold (the record changed or was deleted) are withdrawn.

Both data owners are notified by the cross-match row itself (each side's inbox lists it); what
each side sees of the other is decided by ``policy.crossmatch_view``.

The person index lives in memory, one per database engine, and catches up with the database by
``change_seq`` before every use, so several processes stay consistent. ``Runner`` runs the
cross-check in a background thread after bulk loads; tests call ``run_pending`` directly.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Engine, Table, and_, func, or_, select, update
from sqlalchemy.orm import Session, load_only

from liaison.core import audit
from liaison.core.clock import utcnow
from liaison.core.ids import new_id
from liaison.db.engine import Database
from liaison.entities.model import (
    CrossMatch,
    Entity,
    EntityKey,
    EntitySequence,
    IdentityConflict,
    LinkColour,
)
from liaison.entities.service import insert_rows, prepared
from liaison.matching import PRESETS, Index, MatchResult, Prepared, Thresholds
from liaison.matching.scoring import IDENTIFIER_FEATURES

PERSON = "Person"
CHUNK = 500
# A person found more often than this is a very common identity; the strongest hits are kept.
MAX_HITS_PER_RECORD = 50
# Identifier kinds that identify one person: sharing one while the identity data differ is a
# conflict (Reg. 2019/818 Art. 28: travel documents; national numbers likewise).
STRONG_KINDS = ("document", "national_id")


def thresholds() -> Thresholds:
    return PRESETS["crosscheck"]


def pair(a: str, b: str) -> tuple[str, str]:
    """A pair of record ids in a fixed order, so (a, b) and (b, a) are one row."""
    return (a, b) if a < b else (b, a)


# ── The person index ────────────────────────────────────────────────────────────────────────


class PersonIndex:
    """Every live person record of one database, prepared for matching, with its owner."""

    def __init__(self) -> None:
        self.index = Index()
        self.owner: dict[str, str] = {}
        self.seen = 0
        self.lock = threading.RLock()

    def refresh(self, session: Session) -> None:
        """Catch up with every change committed since the last refresh."""
        with self.lock:
            current = int(session.scalar(select(EntitySequence.value)) or 0)
            if current <= self.seen:
                return
            rows = session.execute(
                select(
                    Entity.id,
                    Entity.owner_agency_id,
                    Entity.properties,
                    Entity.deleted,
                    Entity.change_seq,
                )
                .where(Entity.change_seq > self.seen, Entity.entity_type == PERSON)
                .order_by(Entity.change_seq)
            ).all()
            latest: dict[str, tuple[str, dict[str, object], bool]] = {}
            top = current
            for entity_id, owner, props, deleted, seq in rows:
                latest[entity_id] = (owner, props, deleted)
                top = max(top, seq)
            adds: list[Prepared] = []
            for entity_id, (owner, props, deleted) in latest.items():
                if deleted:
                    self.index.remove(entity_id)
                    self.owner.pop(entity_id, None)
                    continue
                record = prepared(entity_id, PERSON, props)
                if record is not None:
                    adds.append(record)
                    self.owner[entity_id] = owner
            self.index.add_all(adds)
            self.seen = top

    def search(
        self,
        queries: Sequence[Prepared],
        *,
        thresholds: Thresholds,
        limit: int,
        floor: float | None = None,
        accept: Callable[[int, str], bool] | None = None,
    ) -> list[list[MatchResult]]:
        with self.lock:
            return self.index.search_many(
                queries, thresholds=thresholds, limit=limit, threshold=floor, accept=accept
            )

    def score_many(
        self, pairs: Sequence[tuple[str, str]], th: Thresholds
    ) -> list[MatchResult | None]:
        """Pairs of indexed records scored at once (None where one is not indexed)."""
        with self.lock:
            return self.index.score_refs(pairs, th)

    def score(self, a: Prepared, b: Prepared, th: Thresholds) -> MatchResult:
        with self.lock:
            return self.index.model.score(
                a, b, th, population=max(len(self.index), 1), frequencies=self.index.frequencies()
            )

    def get(self, entity_id: str) -> Prepared | None:
        with self.lock:
            return self.index.get(entity_id)


_INDEXES: weakref.WeakKeyDictionary[Engine, PersonIndex] = weakref.WeakKeyDictionary()
_INDEXES_LOCK = threading.Lock()


def person_index(session: Session) -> PersonIndex:
    """The person index of the session's database, brought up to date."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    with _INDEXES_LOCK:
        index = _INDEXES.get(engine)
        if index is None:
            index = _INDEXES[engine] = PersonIndex()
    index.refresh(session)
    return index


# ── One pass over pending records ───────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Found:
    """A record of another owner that is the same person or object."""

    other_id: str
    other_owner: str
    probability: float
    band: str
    explanation: str


_RUN_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def _run_lock(engine: Engine) -> threading.Lock:
    with _INDEXES_LOCK:
        lock = _RUN_LOCKS.get(engine)
        if lock is None:
            lock = _RUN_LOCKS[engine] = threading.Lock()
        return lock


def run_pending(database: Database, *, chunk: int = CHUNK) -> int:
    """Cross-check every pending record; returns how many were checked."""
    done = 0
    with _run_lock(database.engine):
        while True:
            with database.session() as session:
                checked = check_chunk(session, limit=chunk)
            if not checked:
                return done
            done += checked


def pending_count(session: Session, *, batch_id: str | None = None) -> int:
    query = select(func.count()).select_from(Entity).where(Entity.crosscheck_pending.is_(True))
    if batch_id:
        query = query.where(Entity.batch_id == batch_id)
    return int(session.scalar(query) or 0)


def check_chunk(session: Session, *, limit: int = CHUNK) -> int:
    """Check up to ``limit`` pending records in this transaction; returns how many."""
    entities = list(
        session.scalars(
            select(Entity)
            # What the check reads of a record (its properties only if the index lacks it).
            .options(load_only(Entity.entity_type, Entity.owner_agency_id, Entity.deleted))
            .where(Entity.crosscheck_pending.is_(True))
            .order_by(Entity.change_seq)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not entities:
        return 0
    live_persons = [e for e in entities if e.entity_type == PERSON and not e.deleted]
    found: dict[str, list[Found]] = {}
    if live_persons:
        found.update(_person_matches(session, live_persons))
    for entity in entities:
        if entity.deleted:
            found[entity.id] = []
        elif entity.entity_type != PERSON:
            found[entity.id] = _object_matches(session, entity)
    ids = [e.id for e in entities]
    with session.no_autoflush:
        existing = _existing(session, ids)
        created: list[CrossMatch] = []
        for entity in entities:
            _reconcile(session, entity, found[entity.id], existing, created)
    # The chunk's records are checked: one statement, not one UPDATE per record.
    for start in range(0, len(ids), 900):
        session.execute(
            update(Entity)
            .where(Entity.id.in_(ids[start : start + 900]))
            .values(crosscheck_pending=False)
            .execution_options(synchronize_session=False)
        )
    if created:
        # New cross-matches are complete once every record of the chunk is reconciled (a pair
        # found from both sides is one row): inserted together, without the unit of work.
        insert_rows(session, _CROSS_MATCHES, [_row(cm) for cm in created])
        audit.record(
            session,
            None,
            "crossmatch.create",
            object_type="CrossMatch",
            username="system:crosscheck",
            detail={
                "created": [
                    {"id": cm.id, "left": cm.left_id, "right": cm.right_id, "band": cm.band}
                    for cm in created
                ]
            },
        )
    if live_persons:
        _identity_conflicts(session, live_persons)
    session.flush()
    return len(entities)


_CROSS_MATCHES = cast(Table, CrossMatch.__table__)


def _row(cm: CrossMatch) -> dict[str, object]:
    return {column.key: getattr(cm, column.key) for column in _CROSS_MATCHES.columns}


def _existing(session: Session, ids: Sequence[str]) -> dict[str, dict[str, CrossMatch]]:
    """Cross-matches of these records: record id → other record id → cross-match."""
    out: dict[str, dict[str, CrossMatch]] = {i: {} for i in ids}
    for column in (CrossMatch.left_id, CrossMatch.right_id):
        for start in range(0, len(ids), 900):
            for cm in session.scalars(
                select(CrossMatch).where(column.in_(ids[start : start + 900]))
            ):
                for mine, other in ((cm.left_id, cm.right_id), (cm.right_id, cm.left_id)):
                    if mine in out:
                        out[mine][other] = cm
    return out


def _person_matches(session: Session, persons: Sequence[Entity]) -> dict[str, list[Found]]:
    index = person_index(session)
    th = thresholds()
    queries: list[Prepared] = []
    owners: list[str] = []
    for entity in persons:
        record = index.get(entity.id) or prepared(entity.id, PERSON, entity.properties)
        if record is not None:
            queries.append(record)
            owners.append(entity.owner_agency_id)
    results = index.search(
        queries,
        thresholds=th,
        limit=MAX_HITS_PER_RECORD,
        # Only other owners' records: the agency's own do not take places among the hits.
        accept=lambda q, ref: index.owner.get(ref, owners[q]) != owners[q],
    )
    out: dict[str, list[Found]] = {e.id: [] for e in persons}
    for query, hits in zip(queries, results, strict=True):
        out[query.ref] = [
            Found(h.right, index.owner[h.right], h.probability, h.band, h.explanation())
            for h in hits
            if h.band != "no_match"
        ]
    return out


def _object_matches(session: Session, entity: Entity) -> list[Found]:
    """Other owners' records of the same type sharing a canonical identifier."""
    own_keys = select(EntityKey.key).where(EntityKey.entity_id == entity.id)
    rows = session.execute(
        select(EntityKey.key, Entity.id, Entity.owner_agency_id)
        .join(Entity, Entity.id == EntityKey.entity_id)
        .where(
            EntityKey.key.in_(own_keys),
            Entity.entity_type == entity.entity_type,
            Entity.deleted.is_(False),
            Entity.owner_agency_id != entity.owner_agency_id,
        )
    ).all()
    shared: dict[tuple[str, str], list[str]] = {}
    for key, other_id, owner in rows:
        shared.setdefault((other_id, owner), []).append(key)
    return [
        Found(other_id, owner, 1.0, "match", "same " + ", ".join(sorted(keys)))
        for (other_id, owner), keys in sorted(shared.items())
    ]


def _reconcile(
    session: Session,
    entity: Entity,
    found: Iterable[Found],
    known: dict[str, dict[str, CrossMatch]],
    created: list[CrossMatch],
) -> None:
    """Make the entity's cross-matches what ``found`` says: new ones (into ``created``),
    updated, withdrawn. ``known`` holds the chunk's cross-matches and gains the new ones."""
    existing = known[entity.id]
    current = {f.other_id: f for f in found}
    index: PersonIndex | None = None
    for other_id, cm in existing.items():
        if other_id in current or cm.status != "active":
            continue
        if entity.entity_type == PERSON and not entity.deleted:
            # The search may not have listed it (candidate limits): score the pair itself.
            index = index or person_index(session)
            a, b = index.get(entity.id), index.get(other_id)
            if a is not None and b is not None:
                result = index.score(a, b, thresholds())
                if result.band != "no_match":
                    cm.probability, cm.band = result.probability, result.band
                    cm.explanation = result.explanation()
                    continue
        cm.status = "withdrawn"
        _audit(session, "crossmatch.withdraw", cm)
    for other_id, f in current.items():
        if other_id not in existing:
            cm = _new(entity, f)
            created.append(cm)
            existing[other_id] = cm
            if other_id in known:
                known[other_id][entity.id] = cm
            continue
        cm = existing[other_id]
        changed = cm.status != "active" or cm.band != f.band
        cm.probability, cm.band, cm.explanation = f.probability, f.band, f.explanation
        if changed:
            cm.status = "active"
            cm.left_seen = cm.right_seen = False
            _audit(session, "crossmatch.update", cm)


def _new(entity: Entity, f: Found) -> CrossMatch:
    left, right = pair(entity.id, f.other_id)
    owners = {entity.id: entity.owner_agency_id, f.other_id: f.other_owner}
    return CrossMatch(
        id=new_id(),
        entity_type=entity.entity_type,
        left_id=left,
        right_id=right,
        left_owner_id=owners[left],
        right_owner_id=owners[right],
        probability=f.probability,
        band=f.band,
        explanation=f.explanation,
        status="active",
        left_seen=False,
        right_seen=False,
        created_at=utcnow(),
    )


def _audit(session: Session, action: str, cm: CrossMatch) -> None:
    audit.record(
        session,
        None,
        action,
        object_type="CrossMatch",
        object_id=cm.id,
        username="system:crosscheck",
        detail={
            "left": cm.left_id,
            "right": cm.right_id,
            "owners": [cm.left_owner_id, cm.right_owner_id],
            "band": cm.band,
            "status": cm.status,
        },
    )


# ── Identity conflicts ──────────────────────────────────────────────────────────────────────


def _identity_conflicts(session: Session, persons: Sequence[Entity]) -> None:
    """Yellow links between persons sharing a strong identifier but not their identity."""
    ids = [p.id for p in persons]
    strong = or_(*(EntityKey.key.startswith(f"{kind}:") for kind in STRONG_KINDS))
    mine = session.execute(
        select(EntityKey.entity_id, EntityKey.key).where(EntityKey.entity_id.in_(ids), strong)
    ).all()
    if not mine:
        return
    by_key: dict[str, set[str]] = {}
    for entity_id, key in mine:
        by_key.setdefault(key, set()).add(entity_id)
    others = session.execute(
        select(EntityKey.key, EntityKey.entity_id)
        .join(Entity, Entity.id == EntityKey.entity_id)
        .where(
            EntityKey.key.in_(list(by_key)),
            Entity.entity_type == PERSON,
            Entity.deleted.is_(False),
        )
    ).all()
    index = person_index(session)
    th = thresholds()
    shared: dict[tuple[str, str], str] = {}
    for key, other_id in others:
        for entity_id in sorted(by_key[key]):
            if other_id != entity_id:
                shared.setdefault(pair(entity_id, other_id), key)
    pairs = list(shared)
    for (left, right), result in zip(pairs, index.score_many(pairs, th), strict=True):
        if result is not None and identity_probability(result) < th.possible:
            _flag(session, left, right, shared[(left, right)], result)


def identity_probability(result: MatchResult) -> float:
    """How likely the identity data alone (names, birth date, sex, nationality, birthplace) say
    one person: the score without the identifiers, which are what the records share."""
    bits = result.bits - sum(
        c.bits for c in result.contributions if c.feature in IDENTIFIER_FEATURES
    )
    return float(1.0 / (1.0 + 2.0 ** -max(min(bits, 60.0), -1000.0)))


def _flag(session: Session, left: str, right: str, key: str, result: MatchResult) -> None:
    exists = session.scalar(
        select(IdentityConflict.id).where(
            and_(IdentityConflict.left_id == left, IdentityConflict.right_id == right)
        )
    )
    if exists:
        return
    kind = key.partition(":")[0].replace("_", " ")
    disagree = [c.feature for c in result.contributions if c.effect == "disagrees"]
    conflict = IdentityConflict(
        left_id=left,
        right_id=right,
        identifier=key,
        reason=(
            f"both records carry the {kind} {key.partition(':')[2]}, but their identity data "
            f"are not similar (identity match probability {identity_probability(result):.2f}; "
            f"disagreeing: {', '.join(disagree) or 'none'})"
        ),
        colour=LinkColour.YELLOW.value,
        created_at=utcnow(),
    )
    session.add(conflict)
    session.flush()
    audit.record(
        session,
        None,
        "identity_conflict.create",
        object_type="IdentityConflict",
        object_id=conflict.id,
        username="system:crosscheck",
        detail={"left": left, "right": right, "identifier_kind": kind},
    )


# ── In the background ───────────────────────────────────────────────────────────────────────


class Runner:
    """A background thread that runs the cross-check whenever it is kicked."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.wake = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.stopping = False
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._loop, name="crosscheck", daemon=True)
        self.thread.start()

    def kick(self) -> None:
        """Ask for a pass; returns at once."""
        self.idle.clear()
        self.wake.set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every kicked pass has finished (for tests and shutdown)."""
        return self.idle.wait(timeout)

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()
        self.thread.join(timeout=30)

    def _loop(self) -> None:
        while not self.stopping:
            self.wake.wait()
            self.wake.clear()
            if self.stopping:
                break
            try:
                run_pending(self.database)
                self.error = None
            except Exception as exc:  # a failed pass leaves records pending for the next one
                self.error = exc
            if not self.wake.is_set():
                self.idle.set()
        self.idle.set()
