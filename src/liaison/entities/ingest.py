"""Ingestion: nothing good is lost when something is bad.

Every source (JSON records, NDJSON, CSV/Excel with a column mapping, FollowTheMoney JSON) is
read into numbered rows; each row is validated on its own, and rows are stored in chunks: the
chunk's new records inserted together, its changed ones stored together, one by one (each in a
savepoint) only if the database refuses them together, so a rejected row never aborts the batch
and never corrupts accepted ones. Each chunk is committed: an interruption keeps every chunk
already stored. The batch keeps a per-row report (accepted, updated, unchanged, rejected with
the reason). Stored records are pending for the cross-check, which the caller starts in the
background (``crosscheck.Runner``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from liaison.core import audit
from liaison.core.actor import Actor
from liaison.core.clock import utcnow
from liaison.core.errors import LiaisonError, NotFound, ValidationFailed
from liaison.core.policy import can_contribute
from liaison.db.engine import Database
from liaison.entities import formats
from liaison.entities.model import Entity, IngestBatch, IngestRow
from liaison.entities.schema import SCHEMA
from liaison.entities.service import (
    Contribution,
    check_contribution,
    contribute,
    insert_new,
    insert_rows,
    link,
    parse_contribution,
    revise,
    revise_many,
    revision,
)

CHUNK = 500
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_MESSAGE = 1000

Row = tuple[int, Mapping[str, Any] | None, str | None]
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of a batch: its counts and where to read the rows."""

    batch: IngestBatch

    def as_dict(self) -> dict[str, Any]:
        b = self.batch
        return {
            "batch": b.id,
            "format": b.source_format,
            "filename": b.filename,
            "total": b.total,
            "accepted": b.accepted,
            "updated": b.updated,
            "unchanged": b.unchanged,
            "rejected": b.rejected,
            "status": b.status,
            "error": b.error,
            "created_at": b.created_at.isoformat(),
        }


def check_size(data: bytes) -> None:
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(
            f"the file is {len(data) // (1024 * 1024)} MB; uploads are at most "
            f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB — split it"
        )
    if not data.strip():
        raise ValidationFailed("the file is empty")


def ingest_rows(
    database: Database,
    actor: Actor,
    rows: Iterable[Row],
    *,
    source_format: str,
    filename: str,
    progress: Progress | None = None,
    after: Callable[[Session, dict[str, str]], None] | None = None,
) -> Report:
    """Store every good row, report every bad one; ``after`` runs last with ref → entity id."""
    batch_id = start_batch(database, actor, source_format=source_format, filename=filename)
    return fill_batch(database, actor, batch_id, rows, progress=progress, after=after)


def start_batch(database: Database, actor: Actor, *, source_format: str, filename: str) -> str:
    """A new, empty batch (``running``); ``fill_batch`` stores its rows."""
    can_contribute(actor, personal_data=False).enforce()
    with database.session() as session:
        batch = IngestBatch(
            agency_id=actor.agency_id,
            username=actor.username,
            source_format=source_format,
            filename=filename[:200],
            total=0,
            accepted=0,
            updated=0,
            unchanged=0,
            rejected=0,
            status="running",
            created_at=utcnow(),
        )
        session.add(batch)
        session.flush()
        return batch.id


def fill_batch(
    database: Database,
    actor: Actor,
    batch_id: str,
    rows: Iterable[Row],
    *,
    progress: Progress | None = None,
    after: Callable[[Session, dict[str, str]], None] | None = None,
) -> Report:
    """Store the rows of a started batch in chunks; the batch ends ``done`` (or ``failed`` with
    the error, keeping every chunk already stored)."""
    try:
        return _fill(database, actor, batch_id, rows, progress=progress, after=after)
    except Exception as exc:
        with database.session() as session:
            batch = session.get(IngestBatch, batch_id)
            if batch is not None:
                batch.status = "failed"
                batch.error = (exc.detail if isinstance(exc, LiaisonError) else type(exc).__name__)[
                    :MAX_MESSAGE
                ]
        raise


def _fill(
    database: Database,
    actor: Actor,
    batch_id: str,
    rows: Iterable[Row],
    *,
    progress: Progress | None,
    after: Callable[[Session, dict[str, str]], None] | None,
) -> Report:
    first_line: dict[str, int] = {}
    stored: dict[str, str] = {}
    counts = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    done = 0
    iterator = iter(rows)
    while True:
        chunk = [r for _, r in zip(range(CHUNK), iterator, strict=False)]
        if not chunk:
            break
        with database.session() as session:
            outcomes = _chunk(session, actor, batch_id, chunk, first_line, stored)
            for outcome in outcomes:
                counts[outcome.outcome if outcome.outcome != "accepted" else "created"] += 1
            insert_rows(session, _ROWS, [o.values() for o in outcomes])
            _save_counts(session, batch_id, counts, done + len(chunk))
        done += len(chunk)
        if progress:
            progress(done)
    with database.session() as session:
        if after is not None:
            after(session, stored)
        final = session.get(IngestBatch, batch_id)
        assert final is not None
        final.status = "done"
        audit.record(
            session,
            actor,
            "entity.ingest",
            object_type="IngestBatch",
            object_id=batch_id,
            detail={"format": final.source_format, "filename": final.filename, **counts},
        )
    return Report(final)


_ROWS = cast(Table, IngestRow.__table__)
_BATCHES = cast(Table, IngestBatch.__table__)


@dataclass(slots=True)
class _Outcome:
    """What happened to one row, until the chunk's rows are written (``ingest_rows``)."""

    batch_id: str
    line: int
    source_ref: str | None
    outcome: str = "rejected"
    message: str = ""
    entity_id: str | None = None

    def values(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "line": self.line,
            "source_ref": self.source_ref,
            "outcome": self.outcome,
            "entity_id": self.entity_id,
            "message": self.message,
        }


def _save_counts(session: Session, batch_id: str, counts: Mapping[str, int], total: int) -> None:
    session.execute(
        _BATCHES.update()
        .where(_BATCHES.c.id == batch_id)
        .values(
            total=total,
            accepted=counts["created"],
            updated=counts["updated"],
            unchanged=counts["unchanged"],
            rejected=counts["rejected"],
        )
    )


def _chunk(
    session: Session,
    actor: Actor,
    batch_id: str,
    chunk: Sequence[Row],
    first_line: dict[str, int],
    stored: dict[str, str],
) -> list[_Outcome]:
    """Validate every row, then store new records in bulk and changed ones together.

    Records the database refuses together are stored one savepoint per row, so a bad row still
    costs only itself."""
    reports: list[_Outcome] = []
    fresh: list[tuple[_Outcome, Contribution]] = []
    known: list[tuple[_Outcome, Contribution]] = []
    candidates: list[tuple[_Outcome, Contribution]] = []
    for line, raw, error in chunk:
        row, contribution = _validate(actor, batch_id, line, raw, error, first_line)
        reports.append(row)
        if contribution is not None:
            candidates.append((row, contribution))
    refs = [c.source_ref for _, c in candidates if c.source_ref]
    existing: dict[str, Entity] = {}
    for start in range(0, len(refs), 900):
        for entity in session.scalars(
            select(Entity).where(
                Entity.owner_agency_id == actor.agency_id,
                Entity.source_ref.in_(refs[start : start + 900]),
            )
        ):
            if entity.source_ref is not None:
                existing[entity.source_ref] = entity
    for row, c in candidates:
        (known if c.source_ref in existing else fresh).append((row, c))
    # The bulk insert is the chunk's first write: if the database refuses it, rolling the
    # chunk's transaction back loses nothing else (and needs no savepoint around it).
    try:
        created = insert_new(session, actor, [c for _, c in fresh], batch_id=batch_id)
        for (row, _c), record in zip(fresh, created, strict=True):
            _accepted(row, record.id, record.source_ref, record.warnings, "created", stored)
    except SQLAlchemyError:
        session.rollback()
        known = fresh + known
    known = _revise_known(session, actor, batch_id, known, existing, stored)
    for row, c in known:
        try:
            entity, outcome = _store_known(session, actor, batch_id, c, existing)
        except LiaisonError as exc:
            _reject(row, exc.detail)
            continue
        except SQLAlchemyError:
            _reject(row, "the database refused this row (a conflicting record id)")
            continue
        _accepted(row, entity.id, entity.source_ref, entity.warnings, outcome, stored)
    return reports


def _revise_known(
    session: Session,
    actor: Actor,
    batch_id: str,
    known: Sequence[tuple[_Outcome, Contribution]],
    existing: Mapping[str, Entity],
    stored: dict[str, str],
) -> list[tuple[_Outcome, Contribution]]:
    """Rows of records read with the chunk: unchanged ones reported, changed ones stored
    together (in a savepoint); returns the rows left to store one by one (rows of records not
    read, refused ones, and all of the changed ones if the database refuses them together)."""
    left: list[tuple[_Outcome, Contribution]] = []
    changed: list[tuple[_Outcome, Entity, dict[str, Any]]] = []
    for row, c in known:
        entity = existing.get(c.source_ref) if c.source_ref else None
        if entity is None:
            left.append((row, c))
            continue
        try:
            values = revision(entity, c)
        except LiaisonError as exc:
            _reject(row, exc.detail)
            continue
        if values is None:
            _accepted(row, entity.id, entity.source_ref, entity.warnings, "unchanged", stored)
        else:
            changed.append((row, entity, values))
    if not changed:
        return left
    try:
        with session.begin_nested():
            revise_many(session, actor, [(e, v) for _, e, v in changed], batch_id=batch_id)
    except SQLAlchemyError:
        by_row = {id(row): c for row, c in known}
        return left + [(row, by_row[id(row)]) for row, _, _ in changed]
    for row, entity, _ in changed:
        _accepted(row, entity.id, entity.source_ref, entity.warnings, "updated", stored)
    return left


def _store_known(
    session: Session,
    actor: Actor,
    batch_id: str,
    c: Contribution,
    existing: Mapping[str, Entity],
) -> tuple[Entity, str]:
    """A row that is not part of the bulk insert, in a savepoint of its own when it writes:
    a record read with the chunk is compared first (unchanged ones write nothing); anything
    else goes through ``contribute``."""
    entity = existing.get(c.source_ref) if c.source_ref else None
    if entity is None:
        with session.begin_nested():
            return contribute(session, actor, c, batch_id=batch_id)
    values = revision(entity, c)
    if values is None:
        return entity, "unchanged"
    with session.begin_nested():
        revise(session, actor, entity, values, batch_id=batch_id)
    return entity, "updated"


def _validate(
    actor: Actor,
    batch_id: str,
    line: int,
    raw: Mapping[str, Any] | None,
    error: str | None,
    first_line: dict[str, int],
) -> tuple[_Outcome, Contribution | None]:
    ref = None
    if raw is not None:
        ref_value = raw.get("id") or raw.get("source_ref")
        ref = str(ref_value).strip()[:128] if ref_value not in (None, "") else None
    row = _Outcome(batch_id, line, ref)
    if error is not None or raw is None:
        return _reject(row, error or "unreadable row"), None
    if ref is not None and ref in first_line:
        return _reject(
            row, f"record id {ref!r} appears again (first on line {first_line[ref]})"
        ), None
    try:
        contribution = parse_contribution(raw)
        check_contribution(actor, contribution)
    except LiaisonError as exc:
        return _reject(row, exc.detail), None
    if ref is not None:
        first_line[ref] = line
    return row, contribution


def _reject(row: _Outcome, message: str) -> _Outcome:
    row.outcome = "rejected"
    row.message = message[:MAX_MESSAGE]
    return row


def _accepted(
    row: _Outcome,
    entity_id: str,
    source_ref: str | None,
    warnings: Sequence[str],
    outcome: str,
    stored: dict[str, str],
) -> None:
    if source_ref is not None:
        stored[source_ref] = entity_id
    row.entity_id = entity_id
    row.outcome = "accepted" if outcome == "created" else outcome
    row.message = "; ".join(warnings)[:MAX_MESSAGE]


# ── Sources ──────────────────────────────────────────────────────────────────────────────────


def json_rows(records: Iterable[Any]) -> Iterator[Row]:
    for number, record in enumerate(records, start=1):
        if isinstance(record, Mapping):
            yield number, record, None
        else:
            yield number, None, "each record must be a JSON object"


def ndjson_rows(data: bytes) -> Iterator[Row]:
    yield from formats.read_ndjson(data)


def table_rows(
    data: bytes,
    filename: str,
    *,
    entity_type: str,
    mapping: Mapping[str, str] | None,
    defaults: Mapping[str, str],
) -> tuple[formats.Table, Iterator[Row]]:
    """The rows of a CSV or Excel file under a column mapping (suggested when not given)."""
    etype = SCHEMA.get(entity_type)
    table = formats.read_table(data, filename)
    chosen = dict(mapping) if mapping else formats.suggest_mapping(table.headers, etype.name)
    unknown_headers = sorted(set(chosen) - set(table.headers))
    if unknown_headers:
        raise ValidationFailed(
            "the mapping names columns the file does not have: " + ", ".join(unknown_headers)
        )
    formats.validate_mapping(chosen, etype.name)
    if not any(chosen.values()):
        raise ValidationFailed(
            "no column is mapped to a property: choose at least one in the column mapping"
        )

    def rows() -> Iterator[Row]:
        for row in table.rows:
            if row.error:
                yield row.line, None, row.error
                continue
            raw = formats.apply_mapping(row.cells, chosen, etype.name, defaults)
            yield row.line, raw, None

    return table, rows()


def ftm_rows(
    data: bytes, defaults: Mapping[str, str], links: list[tuple[int, dict[str, Any]]]
) -> Iterator[Row]:
    """FollowTheMoney entities (one per line, or a JSON array); relationships go to ``links``.

    An entity that is also a link's source (a passport names its holder) is stored and linked;
    a pure relationship (Family, Associate, Membership, …) becomes a link only."""
    for line, obj, error in formats.read_ftm(data):
        if error is not None or obj is None:
            yield line, None, error
            continue
        relation = formats.ftm_links(obj)
        links.extend((line, r) for r in relation)
        try:
            yield line, formats.ftm_to_raw(obj, defaults), None
        except ValidationFailed as exc:
            if not relation:
                yield line, None, exc.detail


def link_ftm(actor: Actor, links: list[tuple[int, dict[str, Any]]]) -> Callable[..., None]:
    """Create the links of an FtM file once its entities are stored (by their FtM ids)."""

    def after(session: Session, stored: dict[str, str]) -> None:
        for _line, relation in links:
            source = stored.get(str(relation.get("source")))
            target = stored.get(str(relation.get("target")))
            if source is None or target is None:
                continue
            try:
                with session.begin_nested():
                    link(
                        session,
                        actor,
                        link_type=str(relation["type"]),
                        source_id=source,
                        target_id=target,
                        role=relation.get("role"),
                        start_date=relation.get("start_date"),
                        end_date=relation.get("end_date"),
                    )
            except LiaisonError:
                continue

    return after


# ── Reading reports ─────────────────────────────────────────────────────────────────────────


def batch_of(session: Session, actor: Actor, batch_id: str) -> IngestBatch:
    batch = session.get(IngestBatch, batch_id)
    if batch is None or batch.agency_id != actor.agency_id:
        raise NotFound(f"no upload {batch_id}")
    return batch


def batch_rows(
    session: Session,
    actor: Actor,
    batch_id: str,
    *,
    outcome: str | None = None,
    offset: int = 0,
    limit: int = 500,
) -> list[IngestRow]:
    batch_of(session, actor, batch_id)
    query = select(IngestRow).where(IngestRow.batch_id == batch_id)
    if outcome:
        query = query.where(IngestRow.outcome == outcome)
    return list(session.scalars(query.order_by(IngestRow.line).offset(offset).limit(limit)))


def crosscheck_progress(session: Session, batch_id: str) -> tuple[int, int]:
    """(checked, stored) records of a batch: the background cross-check's progress."""
    stored = session.scalar(
        select(func.count()).select_from(Entity).where(Entity.batch_id == batch_id)
    )
    pending = session.scalar(
        select(func.count())
        .select_from(Entity)
        .where(Entity.batch_id == batch_id, Entity.crosscheck_pending.is_(True))
    )
    return int(stored or 0) - int(pending or 0), int(stored or 0)


def recent_batches(session: Session, actor: Actor, limit: int = 20) -> list[IngestBatch]:
    return list(
        session.scalars(
            select(IngestBatch)
            .where(IngestBatch.agency_id == actor.agency_id)
            .order_by(IngestBatch.created_at.desc())
            .limit(limit)
        )
    )
