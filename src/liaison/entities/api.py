"""JSON API of the shared information system: records, ingestion, search, cross-matches,
requests for details and identity conflicts. Errors are problem details (RFC 9457)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Query, Request, UploadFile, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from liaison.core.actor import Actor
from liaison.core.errors import ValidationFailed
from liaison.core.policy import can_search
from liaison.core.settings import Settings
from liaison.db.engine import Database
from liaison.entities import inbox, ingest, service
from liaison.entities import search as finder
from liaison.entities.crosscheck import Runner
from liaison.entities.service import EntityView, marking_view
from liaison.web.deps import ApiActor, SessionDep

router = APIRouter(prefix="/api/v1", tags=["entities"])

MAX_JSON_RECORDS = 10_000


# ── Shared helpers (the pages use them too) ─────────────────────────────────────────────────


def runner(request: Request) -> Runner | None:
    """The app's background cross-check, started on first use (None when configured off)."""
    settings: Settings = request.app.state.settings
    if not settings.crosscheck_in_background:
        return None
    existing: Runner | None = getattr(request.app.state, "crosscheck", None)
    if existing is None:
        database: Database = request.app.state.database
        existing = request.app.state.crosscheck = Runner(database)
    return existing


def kick(request: Request) -> None:
    r = runner(request)
    if r is not None:
        r.kick()


def database_of(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def entity_dict(view: EntityView) -> dict[str, Any]:
    e = view.entity
    out: dict[str, Any] = {
        "id": e.id,
        "type": e.entity_type,
        "owner": view.owner.code,
        "visibility": view.decision.visibility.value,
        "reason": view.decision.reason,
        "markings": marking_view(e),
    }
    if not view.full:
        return out
    return out | {
        "source_ref": e.source_ref,
        "caption": e.caption,
        "properties": e.properties,
        "warnings": e.warnings,
        "subject_category": e.subject_category,
        "minor": e.minor,
        "review_date": e.review_date.isoformat(),
        "version": e.version,
        "deleted": e.deleted,
        "created_at": e.created_at.isoformat(),
        "updated_at": e.updated_at.isoformat(),
        "links": [
            {
                "id": lv.link.id,
                "type": lv.link.link_type,
                "direction": lv.direction,
                "other": lv.other.id,
                "other_type": lv.other.entity_type,
                "other_caption": lv.other.caption
                if lv.decision.visibility.value == "full"
                else None,
                "role": lv.link.role,
                "start_date": lv.link.start_date,
                "end_date": lv.link.end_date,
            }
            for lv in view.links
        ],
        "versions": [
            {
                "version": v.version,
                "change": v.change,
                "changed_by": v.changed_by,
                "changed_at": v.changed_at.isoformat(),
            }
            for v in view.versions
        ],
        "identity_conflicts": [
            {
                "id": c.id,
                "colour": c.colour,
                "identifier": c.identifier,
                "reason": c.reason,
                "decision_note": c.decision_note,
            }
            for c in view.conflicts
        ],
    }


# ── Records ──────────────────────────────────────────────────────────────────────────────────


@router.post("/entities", status_code=status.HTTP_201_CREATED)
def contribute(
    request: Request,
    actor: ApiActor,
    body: Annotated[Any, Body(description="one record, or an array of records")],
) -> dict[str, Any]:
    """Contribute one record (idempotent on ``id``, your own record id) or an array of them.

    An array gets the per-row report of an ingestion batch: rejected rows never abort it."""
    if isinstance(body, list):
        if len(body) > MAX_JSON_RECORDS:
            raise ValidationFailed(f"at most {MAX_JSON_RECORDS} records per request; use /bulk")
        report = ingest.ingest_rows(
            database_of(request),
            actor,
            ingest.json_rows(body),
            source_format="json",
            filename="api",
        )
        kick(request)
        return report.as_dict()
    if not isinstance(body, dict):
        raise ValidationFailed("send a record (a JSON object) or an array of records")
    with database_of(request).session() as session:
        entity, outcome = service.contribute(session, actor, service.parse_contribution(body))
        result = {
            "id": entity.id,
            "outcome": outcome,
            "version": entity.version,
            "warnings": entity.warnings,
        }
    kick(request)
    return result


@router.post("/entities/bulk")
async def bulk(request: Request, actor: ApiActor) -> dict[str, Any]:
    """NDJSON, one record per line (thousands per request): the per-row report."""
    data = await request.body()
    ingest.check_size(data)
    report = ingest.ingest_rows(
        database_of(request),
        actor,
        ingest.ndjson_rows(data),
        source_format="ndjson",
        filename="api-bulk",
    )
    kick(request)
    return report.as_dict()


@router.post("/entities/upload")
def upload(
    request: Request,
    actor: ApiActor,
    file: Annotated[UploadFile, File(description="CSV, XLSX, or FollowTheMoney JSON")],
    format: Annotated[str, Form(pattern="^(table|ftm|ndjson)$")] = "table",
    entity_type: Annotated[str, Form(max_length=32)] = "Person",
    mapping: Annotated[str, Form(description="JSON: column → property")] = "",
    defaults: Annotated[str, Form(description="JSON: markings for every row")] = "",
) -> dict[str, Any]:
    """Upload a file; the per-row report. Cross-checks start in the background."""
    data = file.file.read(ingest.MAX_UPLOAD_BYTES + 1)
    batch_id = run_upload(
        request,
        actor,
        data,
        file.filename or "upload",
        format,
        entity_type,
        parse_json_object(mapping, "mapping"),
        parse_json_object(defaults, "defaults"),
    )
    with database_of(request).session() as session:
        return ingest.Report(ingest.batch_of(session, actor, batch_id)).as_dict()


def parse_json_object(text: str, name: str) -> dict[str, str]:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise ValidationFailed(f"{name} must be a JSON object") from None
    if not isinstance(value, dict):
        raise ValidationFailed(f"{name} must be a JSON object")
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


# UI uploads larger than this are stored in the background; the report page shows progress.
BACKGROUND_UPLOAD_BYTES = 1024 * 1024


def upload_rows(
    data: bytes,
    filename: str,
    source_format: str,
    entity_type: str,
    mapping: dict[str, str],
    defaults: dict[str, str],
    actor: Actor,
) -> tuple[Iterator[ingest.Row], Callable[[Session, dict[str, str]], None] | None]:
    """The rows of an uploaded file and what to do once they are stored (FtM links). A file
    that cannot be read at all (format, headers, mapping) is refused here, before any row."""
    ingest.check_size(data)
    if source_format == "ftm":
        links: list[tuple[int, dict[str, Any]]] = []
        return ingest.ftm_rows(data, defaults, links), ingest.link_ftm(actor, links)
    if source_format == "ndjson":
        return ingest.ndjson_rows(data), None
    _table, rows = ingest.table_rows(
        data, filename, entity_type=entity_type, mapping=mapping or None, defaults=defaults
    )
    return rows, None


def run_upload(
    request: Request,
    actor: Actor,
    data: bytes,
    filename: str,
    source_format: str,
    entity_type: str,
    mapping: dict[str, str],
    defaults: dict[str, str],
    *,
    background: bool = False,
) -> str:
    """Store an upload; returns the batch id. In the background the call returns at once and
    the batch fills while the report page shows its progress."""
    rows, after = upload_rows(data, filename, source_format, entity_type, mapping, defaults, actor)
    database = database_of(request)
    batch_id = ingest.start_batch(database, actor, source_format=source_format, filename=filename)
    crosscheck = runner(request)

    def fill() -> None:
        ingest.fill_batch(database, actor, batch_id, rows, after=after)
        if crosscheck is not None:
            crosscheck.kick()

    if background:
        threading.Thread(target=_quietly(fill), name=f"ingest-{batch_id}", daemon=True).start()
    else:
        fill()
    return batch_id


def _quietly(work: Callable[[], None]) -> Callable[[], None]:
    """A thread's work: a failure is recorded on the batch (``fill_batch``), not re-raised."""

    def run() -> None:
        with contextlib.suppress(Exception):
            work()

    return run


@router.get("/entities/{entity_id}")
def read(entity_id: str, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    """A record as you may see it: in full when your agency owns it, else hit/no-hit."""
    return entity_dict(service.read(session, actor, entity_id))


@router.put("/entities/{entity_id}")
def change(
    entity_id: str,
    request: Request,
    session: SessionDep,
    actor: ApiActor,
    body: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    """Replace a record's properties and markings (data owner only): a new version."""
    entity = service.change(session, actor, entity_id, body)
    session.commit()
    kick(request)
    return {"id": entity.id, "version": entity.version}


@router.delete("/entities/{entity_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(entity_id: str, request: Request, session: SessionDep, actor: ApiActor) -> None:
    """Delete a record (data owner only): its cross-matches are withdrawn; versions remain."""
    service.remove(session, actor, entity_id)
    session.commit()
    kick(request)


class LinkIn(BaseModel):
    type: str = Field(max_length=32)
    target: str = Field(max_length=26)
    role: str | None = Field(None, max_length=16)
    start_date: str | None = Field(None, max_length=10)
    end_date: str | None = Field(None, max_length=10)


@router.post("/entities/{entity_id}/links", status_code=status.HTTP_201_CREATED)
def add_link(entity_id: str, body: LinkIn, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    row = service.link(
        session,
        actor,
        link_type=body.type,
        source_id=entity_id,
        target_id=body.target,
        role=body.role,
        start_date=body.start_date,
        end_date=body.end_date,
    )
    return {"id": row.id, "type": row.link_type, "source": row.source_id, "target": row.target_id}


class DetailsIn(BaseModel):
    justification: str = Field(max_length=inbox.MAX_JUSTIFICATION)
    cross_match_id: str | None = Field(None, max_length=26)


@router.post("/entities/{entity_id}/details-requests", status_code=status.HTTP_201_CREATED)
def request_details(
    entity_id: str, body: DetailsIn, session: SessionDep, actor: ApiActor
) -> dict[str, Any]:
    """Ask the data owner for the details behind a hit (recorded; the owner sees it)."""
    r = inbox.request_details(
        session,
        actor,
        entity_id=entity_id,
        justification=body.justification,
        cross_match_id=body.cross_match_id,
    )
    return inbox.request_dict(r)


@router.get("/details-requests")
def details_requests(
    session: SessionDep, actor: ApiActor, incoming: bool = True
) -> list[dict[str, Any]]:
    return [
        inbox.request_dict(r) for r in inbox.details_requests(session, actor, incoming=incoming)
    ]


# ── Ingestion reports ────────────────────────────────────────────────────────────────────────


@router.get("/ingest/{batch_id}")
def batch(batch_id: str, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    b = ingest.batch_of(session, actor, batch_id)
    checked, stored = ingest.crosscheck_progress(session, batch_id)
    return ingest.Report(b).as_dict() | {"crosscheck": {"checked": checked, "stored": stored}}


@router.get("/ingest/{batch_id}/rows")
def batch_rows(
    batch_id: str,
    session: SessionDep,
    actor: ApiActor,
    outcome: Annotated[str | None, Query(pattern="^(accepted|updated|unchanged|rejected)$")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[dict[str, Any]]:
    return [
        {
            "line": r.line,
            "id": r.source_ref,
            "outcome": r.outcome,
            "entity_id": r.entity_id,
            "message": r.message,
        }
        for r in ingest.batch_rows(
            session, actor, batch_id, outcome=outcome, offset=offset, limit=limit
        )
    ]


# ── Search ───────────────────────────────────────────────────────────────────────────────────


@router.get("/search")
def search(
    session: SessionDep,
    actor: ApiActor,
    q: Annotated[str, Query(max_length=finder.MAX_QUERY)],
    limit: Annotated[int, Query(ge=1, le=100)] = finder.DEFAULT_LIMIT,
) -> dict[str, Any]:
    """One box: a name (any script), a date of birth or an identifier. Send ``X-Purpose``."""
    results = finder.search(session, actor, q, limit=limit)
    return {"query": results.query.text, "hits": [h.as_dict() for h in results.hits]}


@router.post("/search")
def search_fields(
    session: SessionDep,
    actor: ApiActor,
    body: Annotated[dict[str, Any], Body(description="named fields: full_name, dob, …")],
    limit: Annotated[int, Query(ge=1, le=100)] = finder.DEFAULT_LIMIT,
) -> dict[str, Any]:
    """A structured search (named fields) with the same rules as the box."""
    results = finder.search(session, actor, finder.structured_query(body), limit=limit)
    return {"query": results.query.text, "hits": [h.as_dict() for h in results.hits]}


@router.post("/search/batch")
async def search_batch(request: Request, actor: ApiActor) -> StreamingResponse:
    """Up to 10,000 queries (NDJSON: one object of named fields per line, with ``ref``);
    results stream back as NDJSON, one line per query, as they are found."""
    data = await request.body()
    if len(data) > 50 * 1024 * 1024:
        raise ValidationFailed("a batch is at most 50 MB")
    queries: list[finder.Query] = []
    problems: list[dict[str, Any]] = []
    for line, obj, error in ingest.ndjson_rows(data):
        if len(queries) + len(problems) >= finder.MAX_BATCH:
            raise ValidationFailed(f"at most {finder.MAX_BATCH} queries per batch request")
        ref = str(obj.get("ref", line)) if obj else str(line)
        if error or obj is None:
            problems.append({"ref": ref, "line": line, "error": error or "unreadable"})
            continue
        try:
            query = finder.structured_query(obj, ref=ref[:64])
        except ValidationFailed as exc:
            problems.append({"ref": ref, "line": line, "error": exc.detail})
            continue
        if query.empty:
            problems.append({"ref": ref, "line": line, "error": "nothing to search for"})
            continue
        queries.append(query)
    database = database_of(request)
    can_search(actor).enforce()

    def stream() -> Iterator[bytes]:
        for p in problems:
            yield (json.dumps(p, ensure_ascii=False) + "\n").encode()
        with database.session() as session:
            for query, results in finder.search_batch(session, actor, queries):
                line = {"ref": query.ref, "hits": [h.as_dict() for h in results.hits]}
                yield (json.dumps(line, ensure_ascii=False, default=str) + "\n").encode()

    return StreamingResponse(stream(), media_type="application/x-ndjson")


# ── Cross-matches and identity conflicts ────────────────────────────────────────────────────


@router.get("/cross-matches")
def cross_matches(
    session: SessionDep, actor: ApiActor, include_withdrawn: bool = False
) -> list[dict[str, Any]]:
    """Your agency's cross-match notifications: a match exists, type, band, other owner."""
    return [n.as_dict() for n in inbox.inbox(session, actor, include_withdrawn=include_withdrawn)]


@router.post("/cross-matches/{match_id}/seen", status_code=status.HTTP_204_NO_CONTENT)
def seen(match_id: str, session: SessionDep, actor: ApiActor) -> None:
    inbox.mark_seen(session, actor, match_id)


@router.get("/identity-conflicts")
def conflicts(
    session: SessionDep,
    actor: ApiActor,
    colour: Annotated[str | None, Query(pattern="^(yellow|white|red|green)$")] = "yellow",
) -> list[dict[str, Any]]:
    return [
        {
            "id": v.conflict.id,
            "colour": v.conflict.colour,
            "identifier": v.conflict.identifier,
            "reason": v.conflict.reason,
            "records": [
                {"id": v.left.id, "owner": v.owners[0], "caption": v.side(actor, v.left)},
                {"id": v.right.id, "owner": v.owners[1], "caption": v.side(actor, v.right)},
            ],
            "decided_by": v.conflict.decided_by,
            "decision_note": v.conflict.decision_note,
        }
        for v in inbox.conflict_queue(session, actor, colour=colour)
    ]


class ReviewIn(BaseModel):
    colour: str = Field(pattern="^(white|red|green)$")
    note: str = Field(max_length=inbox.MAX_JUSTIFICATION)


@router.post("/identity-conflicts/{conflict_id}/review")
def review(
    conflict_id: str, body: ReviewIn, session: SessionDep, actor: ApiActor
) -> dict[str, Any]:
    c = inbox.review_conflict(session, actor, conflict_id, colour=body.colour, note=body.note)
    return {"id": c.id, "colour": c.colour, "decided_by": c.decided_by}
