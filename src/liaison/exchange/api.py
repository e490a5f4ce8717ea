"""JSON API of the secure exchange: cases, messages (send, inbox, read, reply, forward,
acknowledge, export, import), consent decisions, refusal grounds, published schemas and the
agencies' public signing keys. Errors are problem details (RFC 9457)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from liaison.core.actor import Actor
from liaison.core.agencies import Agency
from liaison.core.clock import utcnow
from liaison.core.errors import PayloadTooLarge, ValidationFailed
from liaison.core.markings import Classification, HandlingCode
from liaison.core.settings import Settings
from liaison.core.signing import public_keys
from liaison.exchange import document, service
from liaison.exchange.grounds import load_grounds
from liaison.exchange.model import (
    Accessibility,
    Case,
    CaseStatus,
    ConsentRequest,
    Message,
    MessageRecipient,
    MessageType,
    Priority,
)
from liaison.exchange.service import AttachmentUpload, Draft
from liaison.web.deps import ApiActor, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["exchange"])

SCHEMAS = service.SCHEMA_DIR
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="repeat a send safely: the same key and message return the first result",
    ),
]


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(max_length=255)
    content_base64: str = Field(description="the file's bytes, base64")


class ComposeIn(BaseModel):
    """A message to send (or a reply: ``to`` may then be empty to answer the sender)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "to": ["NL-NP"],
                "subject": "Identity of the driver of NL plate 12-ABC-3",
                "body": "Please provide the registered keeper and any intelligence held.",
                "message_type": "request",
                "priority": "urgent",
                "accessibility": "direct",
                "legal_basis": "Directive (EU) 2023/977 Art. 4",
                "purpose": "investigation of armed robbery, case DE-2026-0412",
                "crime_area": "robbery_aggravated_theft",
                "handling": "H1",
                "classification": "RESTRICTED",
                "items": [
                    {
                        "ref": "p1",
                        "type": "Person",
                        "evaluation": "B2",
                        "properties": {"name": ["Jan de Vries"], "birth_date": ["1984-03-07"]},
                    }
                ],
            }
        },
    )

    to: list[str] = Field(default_factory=list, max_length=50)
    cc: list[str] = Field(default_factory=list, max_length=50)
    subject: str = Field(max_length=300)
    body: str = Field("", max_length=1_000_000)
    message_type: MessageType = MessageType.INFORMATION
    priority: Priority = Priority.NORMAL
    accessibility: Accessibility | None = None
    legal_basis: str = Field(max_length=300)
    purpose: str = Field(max_length=500)
    crime_area: str | None = None
    handling: HandlingCode = HandlingCode.H0
    h3_conditions: str | None = Field(None, max_length=2000)
    classification: str = "UNCLASSIFIED"
    personal_data: bool = Field(
        True, description="the body holds personal data (items of persons always count)"
    )
    case_id: str | None = None
    case_title: str | None = Field(None, max_length=300)
    items: list[dict[str, Any]] = Field(default_factory=list, max_length=1000)
    links: list[dict[str, Any]] = Field(default_factory=list, max_length=5000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)
    refusal_ground: str | None = Field(None, max_length=64)

    def draft(self, extra: list[AttachmentUpload] | None = None) -> Draft:
        try:
            classification = Classification.parse(self.classification)
        except ValueError as exc:
            raise ValidationFailed(str(exc), errors={"classification": str(exc)}) from exc
        uploads = [
            AttachmentUpload(a.filename, _b64(a.content_base64, a.filename))
            for a in self.attachments
        ]
        return Draft(
            to=tuple(self.to),
            cc=tuple(self.cc),
            subject=self.subject,
            body=self.body,
            legal_basis=self.legal_basis,
            purpose=self.purpose,
            message_type=self.message_type,
            priority=self.priority,
            accessibility=self.accessibility,
            crime_area=self.crime_area,
            handling=self.handling,
            h3_conditions=self.h3_conditions,
            classification=classification,
            personal_data=self.personal_data,
            case_id=self.case_id,
            case_title=self.case_title,
            items=tuple(self.items),
            links=tuple(self.links),
            attachments=tuple(uploads + (extra or [])),
            refusal_ground=self.refusal_ground,
        )


def _b64(text: str, name: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed(f"attachment {name!r}: content_base64 is not base64") from exc


class ForwardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: list[str] = Field(min_length=1, max_length=50)
    cc: list[str] = Field(default_factory=list, max_length=50)
    note: str = Field("", max_length=20_000)
    legal_basis: str | None = Field(None, max_length=300)
    purpose: str | None = Field(None, max_length=500)
    priority: Priority | None = None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grant: bool
    note: str = Field("", max_length=5000)


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=300)
    crime_area: str | None = None
    participants: list[str] = Field(default_factory=list, max_length=50)


# ── Shapes out ──────────────────────────────────────────────────────────────────────────────


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def recipient_dict(r: MessageRecipient, code: str, kind: str) -> dict[str, Any]:
    now = utcnow()
    return {
        "agency": code,
        "kind": kind,
        "status": r.status,
        "delivered_at": _when(r.delivered_at),
        "read_at": _when(r.read_at),
        "acknowledged_at": _when(r.acknowledged_at),
        "answered_at": _when(r.answered_at),
        "deadline_at": _when(r.deadline_at),
        "deadline_rule": r.deadline_rule,
        "open": not r.closed,
        "overdue": bool(not r.closed and r.deadline_at and r.deadline_at < now),
    }


def sent_dict(session: SessionDep, message: Message) -> dict[str, Any]:
    rows = service.recipient_rows(session, message.id)
    codes = dict(
        session.execute(
            select(Agency.id, Agency.code).where(Agency.id.in_([r.agency_id for r in rows]))
        ).all()
    )
    case = session.get(Case, message.case_id)
    return {
        "id": message.id,
        "case": {"id": message.case_id, "reference": case.reference if case else None},
        "thread_id": message.thread_id,
        "sent_at": _when(message.sent_at),
        "type": message.message_type,
        "recipients": [recipient_dict(r, codes[r.agency_id], r.kind) for r in rows],
    }


def message_dict(view: service.MessageView) -> dict[str, Any]:
    m, o = view.message, view.opened
    marks = view.markings
    return {
        "id": m.id,
        "case": {"id": view.case.id, "reference": view.case.reference, "title": view.case_title},
        "thread_id": m.thread_id,
        "in_reply_to": m.in_reply_to_id,
        "forwarded_from": m.forwarded_from_id,
        "sender": {"agency": view.sender.code, "user": m.sender_username},
        "recipients": [
            recipient_dict(rv.row, rv.code, rv.kind)
            if rv.row is not None
            else {"agency": rv.code, "kind": rv.kind}
            for rv in view.recipients
        ],
        "subject": o.subject,
        "body": o.body,
        "type": m.message_type,
        "priority": m.priority,
        "accessibility": m.accessibility,
        "legal_basis": m.legal_basis,
        "purpose": m.purpose,
        "crime_area": m.crime_area,
        "personal_data": m.personal_data,
        "markings": service.markings_dict(marks),
        "items": [
            item | {"evaluation_meaning": service.evaluation_meaning(item.get("evaluation"))}
            for item in o.items
        ],
        "links": o.links,
        "attachments": [
            {
                "id": a.id,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
                "href": f"/api/v1/messages/{m.id}/attachments/{a.id}",
            }
            for a in o.attachments
        ],
        "signature": {
            "valid": o.verdict.valid,
            "reason": o.verdict.reason,
            "key_id": m.signature_key_id,
            "algorithm": "Ed25519",
        },
        "refusal": {"ground": m.refusal_ground, "text": view.refusal_text}
        if m.refusal_ground
        else None,
        "sent_at": _when(m.sent_at),
        "deadline_at": _when(view.own.deadline_at) if view.own else None,
        "overdue": view.overdue,
        "replies": [r.id for r in view.replies],
        "reference": {"type": m.reference_type, "id": m.reference_id} if m.reference_type else None,
    }


def row_dict(row: service.InboxRow) -> dict[str, Any]:
    m = row.message
    out: dict[str, Any] = {
        "id": m.id,
        "subject": row.subject,
        "sender": row.sender_code,
        "type": m.message_type,
        "priority": m.priority,
        "handling": m.handling,
        "classification": Classification(m.classification).name,
        "case_id": m.case_id,
        "sent_at": _when(m.sent_at),
        "overdue": row.overdue,
    }
    if row.own is not None:
        out |= {
            "kind": row.own.kind,
            "status": row.own.status,
            "read": row.own.read_at is not None,
            "deadline_at": _when(row.own.deadline_at),
            "open": not row.own.closed,
        }
    else:
        out |= {"recipients": row.recipients, "read": row.read, "answered": row.answered}
    return out


def consent_dict(session: SessionDep, c: ConsentRequest) -> dict[str, Any]:
    codes = dict(
        session.execute(
            select(Agency.id, Agency.code).where(
                Agency.id.in_([c.provider_agency_id, c.requester_agency_id])
            )
        ).all()
    )
    return {
        "id": c.id,
        "status": c.status,
        "source_message": c.source_message_id,
        "provider": codes.get(c.provider_agency_id),
        "requester": codes.get(c.requester_agency_id),
        "requested_by": c.requested_by,
        "recipients": c.recipients,
        "request_message": c.request_message_id,
        "result_message": c.result_message_id,
        "decided_by": c.decided_by,
        "decided_at": _when(c.decided_at),
        "note": c.decision_note,
        "created_at": _when(c.created_at),
    }


# ── Sending ─────────────────────────────────────────────────────────────────────────────────


async def _compose(request: Request, settings: SettingsDep) -> Draft:
    """A compose body: JSON, or multipart with a ``message`` JSON part and ``attachment`` files."""
    content_type = request.headers.get("content-type", "")
    limit = settings.attachment_max_bytes * service.MAX_ATTACHMENTS + 10_000_000
    declared = int(request.headers.get("content-length") or 0)
    if declared > limit:
        raise PayloadTooLarge(f"the request is larger than {limit:,} bytes")
    extra: list[AttachmentUpload] = []
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=service.MAX_ATTACHMENTS, max_fields=10)
        raw = form.get("message")
        if not isinstance(raw, str):
            raise ValidationFailed("send the message as a form field named 'message' (JSON)")
        for upload in form.getlist("attachment"):
            if isinstance(upload, str):
                raise ValidationFailed("attachments are files in form fields named 'attachment'")
            data = await upload.read(settings.attachment_max_bytes + 1)
            extra.append(AttachmentUpload(upload.filename or "attachment", data))
    else:
        raw = (await request.body()).decode("utf-8", errors="replace")
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"the message is not valid JSON: {exc.msg} (line {exc.lineno})"
        ) from exc
    try:
        compose = ComposeIn.model_validate(parsed)
    except ValidationError as exc:
        errors = {".".join(str(p) for p in e["loc"]): e["msg"] for e in exc.errors()}
        raise ValidationFailed(
            "invalid message: " + "; ".join(f"{k}: {v}" for k, v in list(errors.items())[:5]),
            errors=errors,
        ) from exc
    return compose.draft(extra)


@router.post(
    "/messages",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ComposeIn"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "message": {"type": "string", "description": "ComposeIn as JSON"},
                            "attachment": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                            },
                        },
                    }
                },
            }
        }
    },
)
async def send_message(
    request: Request,
    actor: ApiActor,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Send a message: validated, every recipient checked, sealed, signed, stored, audited.

    Requests get their legal deadline per recipient (Directive 2023/977 Art. 5(1))."""
    draft = await _compose(request, settings)
    message = service.send(
        session, actor, draft, idempotency_key=idempotency_key, settings=settings
    )
    return sent_dict(session, message)


@router.post("/messages/{message_id}/reply", status_code=status.HTTP_201_CREATED)
async def reply_message(
    message_id: str,
    request: Request,
    actor: ApiActor,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Reply in the thread (``to`` empty: to the sender). A reply closes your agency's request;
    a refusal names its ground (``refusal_ground``, see /exchange/refusal-grounds)."""
    draft = await _compose(request, settings)
    message = service.reply(
        session, actor, message_id, draft, idempotency_key=idempotency_key, settings=settings
    )
    return sent_dict(session, message)


@router.post("/messages/{message_id}/forward", status_code=status.HTTP_201_CREATED)
def forward_message(
    message_id: str,
    body: ForwardIn,
    actor: ApiActor,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Forward with the source's markings; H2 waits for the provider's consent (202)."""
    result = service.forward(
        session,
        actor,
        message_id,
        to=body.to,
        cc=body.cc,
        note=body.note,
        legal_basis=body.legal_basis,
        purpose=body.purpose,
        priority=body.priority,
        idempotency_key=idempotency_key,
        settings=settings,
    )
    if result.consent is not None:
        return JSONResponse(
            {"consent": consent_dict(session, result.consent)},
            status_code=status.HTTP_202_ACCEPTED,
        )
    assert result.message is not None
    return sent_dict(session, result.message)


@router.post("/messages/{message_id}/acknowledge")
def acknowledge_message(
    message_id: str, actor: ApiActor, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """Acknowledge receipt (recipients)."""
    row = service.acknowledge(session, actor, message_id, settings=settings)
    return {"message": message_id, "acknowledged_at": _when(row.acknowledged_at)}


# ── Reading ─────────────────────────────────────────────────────────────────────────────────


@router.get("/messages")
def list_messages(
    actor: ApiActor,
    session: SessionDep,
    settings: SettingsDep,
    folder: Annotated[Literal["inbox", "sent"], Query()] = "inbox",
    unread: bool = False,
    urgent: bool = False,
    overdue: bool = False,
    due_soon: bool = False,
    open: Annotated[bool, Query(description="requests still to be answered")] = False,
    case: str | None = None,
    agency: Annotated[str | None, Query(description="sender (inbox) or recipient (sent)")] = None,
    type: MessageType | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Inbox or sent messages, newest first, with filters and cursor pagination."""
    page = service.inbox(
        session,
        actor,
        folder=folder,
        unread=unread,
        urgent=urgent,
        overdue=overdue,
        due_soon=due_soon,
        open_requests=open,
        case_id=case,
        agency=agency,
        message_type=type,
        cursor=cursor,
        limit=limit,
        settings=settings,
    )
    return {"items": [row_dict(r) for r in page.rows], "next_cursor": page.next_cursor}


@router.get("/messages/counts")
def message_counts(actor: ApiActor, session: SessionDep) -> dict[str, Any]:
    """Unread, urgent unread, open, overdue and due-soon requests, pending consents."""
    c = service.counts(session, actor)
    return {
        "unread": c.unread,
        "urgent_unread": c.urgent_unread,
        "open_requests": c.open_requests,
        "overdue": c.overdue,
        "due_soon": c.due_soon,
        "consents_pending": c.consents_pending,
        "latest": c.latest,
    }


@router.get("/messages/{message_id}")
def read_message(
    message_id: str, actor: ApiActor, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """Read a message (audited): content, markings, items with evaluation codes, signature."""
    return message_dict(service.read(session, actor, message_id, settings=settings))


@router.get("/messages/{message_id}/attachments/{attachment_id}")
def download_attachment(
    message_id: str,
    attachment_id: str,
    actor: ApiActor,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """An attachment's bytes (audited), checked against the signed SHA-256."""
    return attachment_response(session, actor, message_id, attachment_id, settings)


def attachment_response(
    session: Session, actor: Actor, message_id: str, attachment_id: str, settings: Settings
) -> Response:
    """An attachment as a download, with the message's handling code, the H1 warning and the H3
    conditions in headers (they travel with every export)."""
    row, data = service.attachment(session, actor, message_id, attachment_id, settings=settings)
    message = service.load_message(session, message_id)
    headers = {
        "Content-Disposition": service.content_disposition(row.filename),
        "X-Content-SHA256": row.sha256,
        "X-Liaison-Handling": message.handling,
    }
    warning = service.markings_of(message).judicial_use_warning
    if warning:
        headers["X-Liaison-Warning"] = warning
    if message.h3_conditions:
        headers["X-Liaison-Conditions"] = service.header_safe(message.h3_conditions)
    return Response(data, media_type=row.content_type, headers=headers)


@router.get("/messages/{message_id}/export")
def export_message(
    message_id: str,
    actor: ApiActor,
    session: SessionDep,
    settings: SettingsDep,
    format: Annotated[Literal["json", "xml"], Query()] = "json",
) -> Response:
    """The message as a structured message document (JSON or XML), with its markings, the H1
    warning and H3 conditions, items with evaluation codes, attachment hashes and signature."""
    data = service.export(session, actor, message_id, format, settings=settings)
    media = "application/json" if format == "json" else "application/xml"
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="message-{message_id}.{format}"'},
    )


@router.post("/messages/import", status_code=status.HTTP_201_CREATED)
async def import_message(
    request: Request,
    actor: ApiActor,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Send a structured message document (JSON, or XML with an XML content type)."""
    limit = document.MAX_BYTES
    if int(request.headers.get("content-length") or 0) > limit:
        raise PayloadTooLarge(f"a message document is at most {limit:,} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise PayloadTooLarge(f"a message document is at most {limit:,} bytes")
    xml = "xml" in request.headers.get("content-type", "")
    message = service.import_document(
        session,
        actor,
        bytes(data),
        "xml" if xml else "json",
        idempotency_key=idempotency_key,
        settings=settings,
    )
    return sent_dict(session, message)


# ── Consent ─────────────────────────────────────────────────────────────────────────────────


@router.get("/consents")
def list_consents(actor: ApiActor, session: SessionDep, all: bool = False) -> dict[str, Any]:
    """Consent requests your agency decides (as provider) or waits on."""
    rows = service.consents(session, actor, pending_only=not all)
    return {"items": [consent_dict(session, c) for c in rows]}


@router.post("/consents/{consent_id}/decision")
def decide(
    consent_id: str,
    body: DecisionIn,
    actor: ApiActor,
    session: SessionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """The provider grants (the held forward is sent) or refuses (nothing is sent)."""
    consent = service.decide_consent(
        session, actor, consent_id, grant=body.grant, note=body.note, settings=settings
    )
    return consent_dict(session, consent)


# ── Cases ───────────────────────────────────────────────────────────────────────────────────


def case_dict(session: SessionDep, case: Case, settings: SettingsDep) -> dict[str, Any]:
    return {
        "id": case.id,
        "reference": case.reference,
        "title": service.case_title(session, case, settings),
        "crime_area": case.crime_area,
        "status": case.status,
        "created_at": _when(case.created_at),
        "closed_at": _when(case.closed_at),
    }


@router.post("/cases", status_code=status.HTTP_201_CREATED)
def create_case(
    body: CaseIn, actor: ApiActor, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    case = service.create_case(
        session,
        actor,
        title=body.title,
        crime_area=body.crime_area,
        participants=body.participants,
        settings=settings,
    )
    return case_dict(session, case, settings)


@router.get("/cases")
def list_cases(
    actor: ApiActor, session: SessionDep, settings: SettingsDep, status: CaseStatus | None = None
) -> dict[str, Any]:
    rows = service.cases(session, actor, status=status)
    return {"items": [case_dict(session, c, settings) for c in rows]}


@router.get("/cases/{case_id}")
def read_case(
    case_id: str, actor: ApiActor, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """The case and its timeline: the messages your agency sent or received in it."""
    view = service.case_timeline(session, actor, case_id, settings=settings)
    return case_dict(session, view.case, settings) | {
        "participants": [a.code for a in view.participants],
        "timeline": [row_dict(r) for r in view.timeline],
    }


@router.post("/cases/{case_id}/close")
def close_case(
    case_id: str, actor: ApiActor, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    case = service.set_case_status(session, actor, case_id, CaseStatus.CLOSED)
    return case_dict(session, case, settings)


@router.post("/cases/{case_id}/reopen")
def reopen_case(
    case_id: str, actor: ApiActor, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    case = service.set_case_status(session, actor, case_id, CaseStatus.OPEN)
    return case_dict(session, case, settings)


# ── Reference data ──────────────────────────────────────────────────────────────────────────


@router.get("/exchange/refusal-grounds")
def refusal_grounds(actor: ApiActor, settings: SettingsDep) -> dict[str, str]:
    """The grounds a refusal may state (default: Directive (EU) 2023/977 Art. 6(1))."""
    return load_grounds(settings.refusal_grounds_file)


@router.get("/schemas/message.schema.json")
def message_json_schema() -> Response:
    """The JSON Schema of the structured message document."""
    return Response(
        (SCHEMAS / "message.schema.json").read_bytes(), media_type="application/schema+json"
    )


@router.get("/schemas/message.xsd")
def message_xsd() -> Response:
    """The XSD of the structured message document (XML form)."""
    return Response((SCHEMAS / "message.xsd").read_bytes(), media_type="application/xml")


@router.get("/agencies/{code}/signing-keys")
def signing_keys(code: str, actor: ApiActor, session: SessionDep) -> dict[str, Any]:
    """An agency's Ed25519 public keys (current and retired), to verify its messages."""
    agency = service.agency_ref(session, code)
    return {
        "agency": agency.code,
        "keys": [
            {
                "key_id": k.id,
                "algorithm": "Ed25519",
                "public_key": base64.b64encode(k.public_key).decode(),
                "created_at": _when(k.created_at),
                "retired_at": _when(k.retired_at),
            }
            for k in public_keys(session, agency.id)
        ],
    }
