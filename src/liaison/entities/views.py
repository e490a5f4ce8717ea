"""Pages of the shared information system: search, records, uploads with their report, the
cross-match inbox and the identity-conflict queue."""

from __future__ import annotations

import contextlib
import math
import re
import secrets
import tempfile
import time
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from liaison.core.errors import LiaisonError, NotFound, ValidationFailed
from liaison.core.markings import Classification, HandlingCode, configured_crime_areas
from liaison.core.policy import Capability, can
from liaison.entities import formats, inbox, ingest, service
from liaison.entities import search as finder
from liaison.entities.api import BACKGROUND_UPLOAD_BYTES, kick, run_upload
from liaison.entities.model import LinkColour, SubjectCategory
from liaison.entities.schema import SCHEMA
from liaison.entities.service import MARKING_FIELDS
from liaison.web.deps import SessionDep, UiActor
from liaison.web.nav import NavItem, register
from liaison.web.templating import render

router = APIRouter(include_in_schema=False)

register(NavItem("Search", "/search", Capability.SEARCH))
register(NavItem("Records", "/entities", Capability.CONTRIBUTE))
register(NavItem("Cross-matches", "/cross-matches", Capability.CONTRIBUTE))
register(NavItem("Identity conflicts", "/identity-conflicts", Capability.REVIEW_IDENTITY_CONFLICTS))

UPLOADS = Path(tempfile.gettempdir()) / "liaison-uploads"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _choices() -> dict[str, object]:
    return {
        "types": list(SCHEMA.types.values()),
        "handling_codes": list(HandlingCode),
        "classifications": list(Classification),
        "crime_areas": configured_crime_areas(),
        "subject_categories": list(SubjectCategory),
        "marking_fields": MARKING_FIELDS,
    }


# ── Search ───────────────────────────────────────────────────────────────────────────────────


@router.get("/search")
def search_page(
    request: Request,
    session: SessionDep,
    actor: UiActor,
    q: Annotated[str, Query(max_length=finder.MAX_QUERY)] = "",
    purpose: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    context: dict[str, object] = {"q": q, "purpose": purpose, "results": None, "error": None}
    if q.strip():
        try:
            context["results"] = finder.search(session, actor.with_purpose(purpose.strip()), q)
        except LiaisonError as exc:
            context["error"] = exc.detail
            session.commit()
    return render(request, "entities/search.html", context)


# ── Records ──────────────────────────────────────────────────────────────────────────────────


@router.get("/entities")
def records_page(
    request: Request, session: SessionDep, actor: UiActor, type: str | None = None
) -> Response:
    can(actor, Capability.CONTRIBUTE).enforce()
    records = service.own_records(session, actor, entity_type=type or None)
    batches = ingest.recent_batches(session, actor)
    return render(
        request, "entities/records.html", {"records": records, "batches": batches, **_choices()}
    )


@router.get("/entities/{entity_id}")
def entity_page(entity_id: str, request: Request, session: SessionDep, actor: UiActor) -> Response:
    view = service.read(session, actor, entity_id)
    matches = []
    if view.full:
        matches = [
            n for n in inbox.inbox(session, actor, include_withdrawn=True) if n.own.id == entity_id
        ]
    return render(
        request,
        "entities/entity.html",
        {"view": view, "matches": matches, "graph": neighbourhood(view)},
    )


def neighbourhood(view: service.EntityView, size: int = 360) -> list[dict[str, object]]:
    """The record's links as a small star graph: one node per linked record on a circle."""
    nodes: list[dict[str, object]] = []
    links = list(view.links)[:16]
    centre = size / 2
    radius = size / 2 - 50
    for i, lv in enumerate(links):
        angle = 2 * math.pi * i / max(len(links), 1) - math.pi / 2
        full = lv.decision.visibility.value == "full"
        nodes.append(
            {
                "x": round(centre + radius * math.cos(angle), 1),
                "y": round(centre + radius * math.sin(angle), 1),
                "label": (lv.other.caption if full else f"{lv.other.entity_type} (other agency)")[
                    :28
                ],
                "type": lv.other.entity_type,
                "link": lv.link.link_type.replace("_", " ")
                + (f" ({lv.link.role})" if lv.link.role else ""),
                "href": f"/entities/{lv.other.id}" if full else None,
            }
        )
    return nodes


@router.post("/entities/{entity_id}/details")
def ask_details(
    entity_id: str,
    request: Request,
    session: SessionDep,
    actor: UiActor,
    justification: Annotated[str, Form(max_length=inbox.MAX_JUSTIFICATION)] = "",
    cross_match_id: Annotated[str, Form(max_length=26)] = "",
    back: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        inbox.request_details(
            session,
            actor,
            entity_id=entity_id,
            justification=justification,
            cross_match_id=cross_match_id or None,
        )
    except ValidationFailed as exc:
        return render(
            request, "error.html", {"title": "Request not sent", "detail": exc.detail}, status=422
        )
    target = back if back.startswith("/") and not back.startswith("//") else "/search"
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}asked={entity_id}", status_code=303)


@router.post("/entities/{entity_id}/delete")
def delete_record(
    entity_id: str, request: Request, session: SessionDep, actor: UiActor
) -> Response:
    service.remove(session, actor, entity_id)
    session.commit()
    kick(request)
    return RedirectResponse(f"/entities/{entity_id}", status_code=303)


# ── Uploads ──────────────────────────────────────────────────────────────────────────────────


def _defaults(form: dict[str, str]) -> dict[str, str]:
    return {k: v.strip() for k, v in form.items() if k in MARKING_FIELDS and v.strip()}


def _stash_path(token: str, actor_id: str) -> Path:
    if not _TOKEN.match(token):
        raise NotFound("no such upload")
    return UPLOADS / f"{actor_id}-{token}"


def _forget_abandoned(max_age_seconds: float = 24 * 3600) -> None:
    """Files whose column mapping was never submitted are removed after a day."""
    cutoff = time.time() - max_age_seconds
    for path in UPLOADS.iterdir():
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                path.unlink()


@router.post("/entities/upload")
async def upload(
    request: Request,
    actor: UiActor,
    file: Annotated[UploadFile, File()],
    source_format: Annotated[str, Form(pattern="^(table|ftm|ndjson)$")] = "table",
    entity_type: Annotated[str, Form(max_length=32)] = "Person",
) -> Response:
    can(actor, Capability.CONTRIBUTE).enforce()
    form = await request.form()
    defaults = _defaults({k: str(v) for k, v in form.items() if isinstance(v, str)})
    data = await file.read(ingest.MAX_UPLOAD_BYTES + 1)
    filename = file.filename or "upload"
    try:
        ingest.check_size(data)
        if source_format != "table":
            batch_id = run_upload(
                request,
                actor,
                data,
                filename,
                source_format,
                entity_type,
                {},
                defaults,
                background=len(data) > BACKGROUND_UPLOAD_BYTES,
            )
            return RedirectResponse(f"/entities/batches/{batch_id}", status_code=303)
        etype = SCHEMA.get(entity_type)
        table = formats.read_table(data, filename)
        preview = [r for _, r in zip(range(5), table.rows, strict=False)]
    except LiaisonError as exc:
        return render(
            request,
            "entities/records.html",
            {"records": [], "batches": [], "upload_error": exc.detail, **_choices()},
            status=exc.status,
        )
    token = secrets.token_urlsafe(24)
    UPLOADS.mkdir(mode=0o700, parents=True, exist_ok=True)
    _forget_abandoned()
    _stash_path(token, actor.user_id).write_bytes(data)
    targets = ["", "id", *etype.properties, *MARKING_FIELDS]
    return render(
        request,
        "entities/mapping.html",
        {
            "token": token,
            "filename": filename,
            "etype": etype,
            "headers": table.headers,
            "suggested": formats.suggest_mapping(table.headers, etype.name),
            "targets": targets,
            "preview": preview,
            "warnings": table.warnings,
            "defaults": defaults,
        },
    )


@router.post("/entities/upload/{token}")
async def ingest_mapped(token: str, request: Request, actor: UiActor) -> Response:
    can(actor, Capability.CONTRIBUTE).enforce()
    path = _stash_path(token, actor.user_id)
    if not path.exists():
        raise NotFound("this upload has expired or was already stored: upload the file again")
    form = {k: str(v) for k, v in (await request.form()).items() if isinstance(v, str)}
    mapping = {k.removeprefix("map:"): v for k, v in form.items() if k.startswith("map:")}
    data = path.read_bytes()
    try:
        batch_id = run_upload(
            request,
            actor,
            data,
            form.get("filename", "upload"),
            "table",
            form.get("entity_type", "Person"),
            mapping,
            _defaults(form),
            background=len(data) > BACKGROUND_UPLOAD_BYTES,
        )
    except LiaisonError as exc:
        return render(
            request,
            "error.html",
            {"title": "Upload not stored", "detail": exc.detail},
            status=exc.status,
        )
    path.unlink(missing_ok=True)
    return RedirectResponse(f"/entities/batches/{batch_id}", status_code=303)


@router.get("/entities/batches/{batch_id}")
def batch_page(
    batch_id: str,
    request: Request,
    session: SessionDep,
    actor: UiActor,
    outcome: Annotated[str | None, Query(pattern="^(accepted|updated|unchanged|rejected)$")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    batch = ingest.batch_of(session, actor, batch_id)
    rows = ingest.batch_rows(session, actor, batch_id, outcome=outcome, offset=offset, limit=200)
    checked, stored = ingest.crosscheck_progress(session, batch_id)
    template = (
        "entities/_progress.html" if request.headers.get("hx-request") else "entities/batch.html"
    )
    return render(
        request,
        template,
        {
            "batch": batch,
            "rows": rows,
            "checked": checked,
            "stored": stored,
            "outcome": outcome,
            "offset": offset,
        },
    )


# ── Cross-matches and identity conflicts ────────────────────────────────────────────────────


@router.get("/cross-matches")
def inbox_page(request: Request, session: SessionDep, actor: UiActor) -> Response:
    can(actor, Capability.CONTRIBUTE).enforce()
    notifications = inbox.inbox(session, actor, include_withdrawn=True)
    incoming = inbox.details_requests(session, actor, incoming=True)
    return render(
        request, "entities/inbox.html", {"notifications": notifications, "incoming": incoming}
    )


@router.post("/cross-matches/{match_id}/seen")
def mark_seen(match_id: str, session: SessionDep, actor: UiActor) -> Response:
    inbox.mark_seen(session, actor, match_id)
    return RedirectResponse("/cross-matches", status_code=303)


@router.get("/identity-conflicts")
def conflicts_page(
    request: Request,
    session: SessionDep,
    actor: UiActor,
    colour: Annotated[str, Query(pattern="^(yellow|white|red|green|all)$")] = "yellow",
) -> Response:
    can(actor, Capability.REVIEW_IDENTITY_CONFLICTS).enforce()
    views = inbox.conflict_queue(session, actor, colour=None if colour == "all" else colour)
    return render(
        request,
        "entities/conflicts.html",
        {"views": views, "colour": colour, "colours": list(LinkColour)},
    )


@router.post("/identity-conflicts/{conflict_id}")
def review_conflict(
    conflict_id: str,
    request: Request,
    session: SessionDep,
    actor: UiActor,
    colour: Annotated[str, Form(max_length=8)] = "",
    note: Annotated[str, Form(max_length=inbox.MAX_JUSTIFICATION)] = "",
) -> Response:
    try:
        inbox.review_conflict(session, actor, conflict_id, colour=colour, note=note)
    except ValidationFailed as exc:
        return render(
            request, "error.html", {"title": "Not recorded", "detail": exc.detail}, status=422
        )
    return RedirectResponse("/identity-conflicts", status_code=303)
