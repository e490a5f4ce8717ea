"""Pages of the secure exchange: inbox and sent folders with their filters, the message view
with its markings, compose/reply/refuse/forward forms, cases as timelines, consent decisions,
and the live counter polled by the navigation badge."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from liaison.core.actor import Actor
from liaison.core.agencies import Agency
from liaison.core.clock import utcnow
from liaison.core.errors import (
    Conflict,
    LiaisonError,
    NotAuthenticated,
    PayloadTooLarge,
    PermissionDenied,
    UnsupportedType,
    ValidationFailed,
)
from liaison.core.markings import (
    Classification,
    HandlingCode,
    InformationReliability,
    SourceReliability,
    configured_crime_areas,
)
from liaison.core.policy import Capability, can_exchange, forward_needs_consent
from liaison.core.settings import Settings
from liaison.entities.schema import SCHEMA
from liaison.exchange import service
from liaison.exchange.api import attachment_response
from liaison.exchange.grounds import load_grounds
from liaison.exchange.model import (
    Accessibility,
    CaseStatus,
    ConsentRequest,
    ConsentStatus,
    MessageType,
    Priority,
)
from liaison.exchange.service import AttachmentUpload, Draft
from liaison.identity.service import actor_for
from liaison.web.deps import SessionDep, SettingsDep, UiActor, current_web_session
from liaison.web.nav import NavItem, register
from liaison.web.templating import render

router = APIRouter(include_in_schema=False)
E = TypeVar("E", bound=StrEnum)

register(NavItem("Messages", "/messages", Capability.EXCHANGE, badge="/messages/counts"))
register(NavItem("Cases", "/cases", Capability.EXCHANGE))

# Errors a sender can correct: shown on the form with the input kept, never as a bare page.
FORM_ERRORS = (ValidationFailed, PermissionDenied, PayloadTooLarge, UnsupportedType, Conflict)

PERSON_ROWS = 3
VEHICLE_ROWS = 2
PERSON_FIELDS = ("given_name", "family_name", "dob", "nationality", "document_number")
VEHICLE_FIELDS = ("plate", "plate_country", "vin")
PERSON_ROLES = ("suspect", "convicted", "victim", "witness", "contact")
COMPOSE_TYPES = (MessageType.REQUEST, MessageType.INFORMATION, MessageType.HIT_FOLLOW_UP)
DEADLINE_HINT = (
    "Requests get a deadline at receipt (Directive 2023/977 Art. 5(1)): urgent and directly "
    "accessible 8 hours; urgent and indirectly accessible 3 calendar days; all others 7 calendar "
    "days."
)
ACCESSIBILITY_HELP = {
    Accessibility.DIRECT: "held by the requested agency itself (urgent: 8 hours)",
    Accessibility.INDIRECT: "to be obtained from other authorities or parties (urgent: 3 days)",
}


# ── Small helpers ───────────────────────────────────────────────────────────────────────────


def _evaluation_choices() -> list[tuple[str, str]]:
    return [
        (code, service.evaluation_meaning(code) or "")
        for code in (
            f"{s.value}{i.value}" for s in SourceReliability for i in InformationReliability
        )
    ]


def _remaining(deadline: dt.datetime | None, now: dt.datetime) -> str:
    """How long until (or since) a deadline, for people: "in 7 h 59 min", "3 h 2 min ago"."""
    if deadline is None:
        return ""
    delta = deadline - now
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = ([f"{days} d"] if days else []) + ([f"{hours} h"] if hours or days else [])
    parts.append(f"{minutes} min")
    text = " ".join(parts)
    return f"in {text}" if delta.total_seconds() >= 0 else f"{text} ago"


def _common(now: dt.datetime | None = None) -> dict[str, Any]:
    return {
        "now": now or utcnow(),
        "remaining": _remaining,
        "crime_areas": configured_crime_areas(),
        "evaluation_meaning": service.evaluation_meaning,
    }


def _other_agencies(session: Session, actor: Actor) -> list[Agency]:
    """Active agencies a message may be addressed to (not one's own)."""
    return list(
        session.scalars(
            select(Agency)
            .where(Agency.active.is_(True), Agency.id != actor.agency_id)
            .order_by(Agency.code)
        )
    )


def _codes(session: Session, ids: Sequence[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Agency.id, Agency.code).where(Agency.id.in_(ids))).all())


def _error_context(exc: LiaisonError, form: Kept | None = None) -> dict[str, Any]:
    if form is not None and isinstance(exc, ValidationFailed):
        exc = _item_errors(exc, _items(form)[1])
    extra = exc.extra.get("errors")
    errors = {str(k): str(v) for k, v in extra.items()} if isinstance(extra, dict) else {}
    return {
        "error": exc.detail,
        "error_title": exc.title,
        "errors": errors,
        "error_rows": {key.split(".")[0] for key in errors},
    }


class Kept:
    """The values a form was submitted with, to show them again next to an error."""

    def __init__(self, form: FormData | Mapping[str, Any] | None = None) -> None:
        self._values: dict[str, list[str]] = {}
        if isinstance(form, FormData):
            for key, value in form.multi_items():
                if isinstance(value, str):
                    self._values.setdefault(key, []).append(value)
        elif form:
            for key, value in form.items():
                if isinstance(value, list | tuple):
                    self._values[key] = [str(v) for v in value]
                elif value is not None:
                    self._values[key] = [str(value)]

    def get(self, name: str, default: str = "") -> str:
        values = self._values.get(name)
        return values[0] if values else default

    def all(self, name: str) -> list[str]:
        return list(self._values.get(name, []))

    def checked(self, name: str) -> bool:
        return bool(self._values.get(name))

    def __contains__(self, name: str) -> bool:
        return name in self._values


# ── Live counter (navigation badge) ─────────────────────────────────────────────────────────


@router.get("/messages/counts")
def counts_fragment(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    seen: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """The badge's HTML fragment: unread, urgent, overdue, and a notice when a message arrived
    after the page was opened (``seen`` is the newest message id the page started with)."""
    # Polling is not activity: the session's idle expiry stays where the user left it (the
    # sliding update is never flushed, and is discarded below).
    with session.no_autoflush:
        try:
            web = current_web_session(request, session, settings)
        except NotAuthenticated:
            # 286 tells htmx to stop polling: a signed-out page shows no counter.
            return Response(status_code=286)
        actor = actor_for(web.user)
    session.rollback()
    can_exchange(actor).enforce()
    counts = service.counts(session, actor)
    latest = counts.latest or "-"
    baseline = seen if seen else latest
    return render(
        request,
        "exchange/_counts.html",
        {"c": counts, "baseline": baseline, "arrived": baseline != latest},
    )


# ── Inbox ───────────────────────────────────────────────────────────────────────────────────


@router.get("/messages")
def inbox_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: UiActor,
    folder: Annotated[Literal["inbox", "sent"], Query()] = "inbox",
    unread: bool = False,
    urgent: bool = False,
    overdue: bool = False,
    due_soon: bool = False,
    open: bool = False,
    case: Annotated[str | None, Query(max_length=26)] = None,
    agency: Annotated[str | None, Query(max_length=32)] = None,
    type: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    can_exchange(actor).enforce()
    filters: dict[str, str] = {"folder": folder}
    for name, on in (
        ("unread", unread),
        ("urgent", urgent),
        ("overdue", overdue),
        ("due_soon", due_soon),
        ("open", open),
    ):
        if on:
            filters[name] = "1"
    for name, value in (("case", case), ("agency", agency), ("type", type)):
        if value:
            filters[name] = value
    error = None
    page = service.InboxPage([], None)
    message_type = None
    if type:
        try:
            message_type = MessageType(type)
        except ValueError:
            error = f"unknown message type {type!r}"
    if error is None:
        try:
            page = service.inbox(
                session,
                actor,
                folder=folder,
                unread=unread,
                urgent=urgent,
                overdue=overdue,
                due_soon=due_soon,
                open_requests=open,
                case_id=case or None,
                agency=agency or None,
                message_type=message_type,
                cursor=cursor or None,
                settings=settings,
            )
        except ValidationFailed as exc:
            error = exc.detail
    own_cases = service.cases(session, actor)
    return render(
        request,
        "exchange/inbox.html",
        {
            "folder": folder,
            "filters": filters,
            "page": page,
            "error": error,
            "counts": service.counts(session, actor),
            "older_href": "/messages?" + urlencode(filters | {"cursor": page.next_cursor})
            if page.next_cursor
            else None,
            "newest_href": "/messages?" + urlencode(filters) if cursor else None,
            "cases": [(c, service.case_title(session, c, settings)) for c in own_cases],
            "agencies": list(session.scalars(select(Agency).order_by(Agency.code))),
            "types": list(MessageType),
            **_common(),
        },
    )


# ── Compose ─────────────────────────────────────────────────────────────────────────────────


def _compose_context(
    session: Session, actor: Actor, settings: Settings, kept: Kept, *, mode: str
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "mode": mode,
        "f": kept,
        "types": COMPOSE_TYPES,
        "priorities": list(Priority),
        "accessibilities": [(a, ACCESSIBILITY_HELP[a]) for a in Accessibility],
        "handling_codes": list(HandlingCode),
        "classifications": list(Classification),
        "evaluations": _evaluation_choices(),
        "person_rows": range(PERSON_ROWS),
        "vehicle_rows": range(VEHICLE_ROWS),
        "person_fields": [(n, SCHEMA.get("Person").properties[n].label) for n in PERSON_FIELDS],
        "vehicle_fields": [(n, SCHEMA.get("Vehicle").properties[n].label) for n in VEHICLE_FIELDS],
        "person_roles": PERSON_ROLES,
        "deadline_hint": DEADLINE_HINT,
        "max_attachment_bytes": settings.attachment_max_bytes,
        "error": None,
        "errors": {},
        "error_rows": set(),
        **_common(),
    }
    if mode == "new":
        context["agencies"] = _other_agencies(session, actor)
        context["cases"] = [
            (c, service.case_title(session, c, settings))
            for c in service.cases(session, actor, status=CaseStatus.OPEN)
        ]
    return context


def _items(form: Kept) -> tuple[list[dict[str, Any]], list[str]]:
    """Structured items from the fixed item rows (empty rows are left out), and each item's row
    label for error messages."""
    items: list[dict[str, Any]] = []
    labels: list[str] = []
    for kind, rows, fields, prefix in (
        ("Person", PERSON_ROWS, PERSON_FIELDS, "person"),
        ("Vehicle", VEHICLE_ROWS, VEHICLE_FIELDS, "vehicle"),
    ):
        for i in range(rows):
            key = f"{prefix}{i}"
            properties = {
                name: form.get(f"{key}.{name}").strip()
                for name in fields
                if form.get(f"{key}.{name}").strip()
            }
            if not properties:
                continue
            item: dict[str, Any] = {
                "ref": f"{prefix[0]}{i + 1}",
                "type": kind,
                "evaluation": form.get(f"{key}.evaluation").strip(),
                "properties": properties,
            }
            role = form.get(f"{key}.role").strip()
            if role:
                item["role"] = role
            items.append(item)
            labels.append(f"{kind.lower()} {i + 1}")
    return items, labels


def _item_errors(exc: ValidationFailed, labels: list[str]) -> ValidationFailed:
    """Name the form's item rows ("person 1") instead of the document's paths ("items/0")."""
    errors = exc.extra.get("errors")
    if not isinstance(errors, dict) or not any(
        str(k).lstrip("/").startswith("items/") for k in errors
    ):
        return exc
    renamed: dict[str, str] = {}
    for key, message in errors.items():
        parts = str(key).lstrip("/").split("/")
        if len(parts) >= 2 and parts[0] == "items" and parts[1].isdigit():
            index = int(parts[1])
            label = labels[index] if index < len(labels) else f"item {index + 1}"
            field = "/".join(parts[2:]).replace("properties/", "")
            renamed[label.replace(" ", "") + (f".{field}" if field else "")] = (
                f"{label}{' ' + field if field else ''}: {message}"
            )
        else:
            renamed[str(key)] = str(message)
    return ValidationFailed(
        "the structured items are not valid: " + "; ".join(renamed.values()), errors=renamed
    )


async def _uploads(form: FormData, settings: Settings) -> list[AttachmentUpload]:
    uploads = []
    for value in form.getlist("attachment"):
        if not isinstance(value, UploadFile) or not value.filename:
            continue
        # One byte over the limit is enough for the service to refuse it by name.
        data = await value.read(settings.attachment_max_bytes + 1)
        if not data and not value.filename:
            continue
        uploads.append(AttachmentUpload(value.filename, data))
    return uploads


def _enum(kind: type[E], value: str, field: str, default: E | None = None) -> E:
    if not value and default is not None:
        return default
    try:
        return kind(value)
    except ValueError:
        raise ValidationFailed(
            f"{field}: {value!r} is not a choice", errors={field: "choose one of the list"}
        ) from None


def _draft(form: Kept, uploads: list[AttachmentUpload], *, reply: bool) -> Draft:
    """A draft from the compose (or reply) form; unreadable choices are ValidationFailed."""
    try:
        classification = Classification.parse(form.get("classification") or "UNCLASSIFIED")
    except ValueError as exc:
        raise ValidationFailed(str(exc), errors={"classification": str(exc)}) from exc
    items, _labels = _items(form)
    accessibility = form.get("accessibility")
    crime_area = form.get("crime_area")
    return Draft(
        to=() if reply else tuple(v for v in form.all("to") if v),
        cc=() if reply else tuple(v for v in form.all("cc") if v),
        subject=form.get("subject"),
        body=form.get("body").replace("\r\n", "\n"),
        legal_basis=form.get("legal_basis"),
        purpose=form.get("purpose"),
        message_type=MessageType.REPLY
        if reply
        else _enum(MessageType, form.get("message_type"), "message_type", MessageType.INFORMATION),
        priority=_enum(Priority, form.get("priority"), "priority", Priority.NORMAL),
        accessibility=_enum(Accessibility, accessibility, "accessibility")
        if accessibility and not reply
        else None,
        crime_area=crime_area or None,
        handling=_enum(HandlingCode, form.get("handling"), "handling", HandlingCode.H0),
        h3_conditions=form.get("h3_conditions").strip() or None,
        classification=classification,
        personal_data=form.checked("personal_data"),
        case_id=None if reply else (form.get("case_id") or None),
        case_title=None if reply else (form.get("case_title").strip() or None),
        items=tuple(items),
        attachments=tuple(uploads),
    )


@router.get("/messages/new")
def compose_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: UiActor,
    case: Annotated[str | None, Query(max_length=26)] = None,
    to: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    can_exchange(actor).enforce()
    kept = Kept(
        {
            "case_id": case or "",
            "to": [to] if to else [],
            "personal_data": "1",
            "idempotency_key": secrets.token_urlsafe(18),
        }
    )
    return render(
        request,
        "exchange/compose.html",
        _compose_context(session, actor, settings, kept, mode="new"),
    )


@router.post("/messages")
async def send_message(
    request: Request, session: SessionDep, settings: SettingsDep, actor: UiActor
) -> Response:
    can_exchange(actor).enforce()
    form = await request.form()
    kept = Kept(form)
    try:
        draft = _draft(kept, await _uploads(form, settings), reply=False)
        message = service.send(
            session,
            actor,
            draft,
            idempotency_key=kept.get("idempotency_key") or None,
            settings=settings,
        )
    except FORM_ERRORS as exc:
        session.rollback()
        context = _compose_context(session, actor, settings, kept, mode="new")
        return render(
            request,
            "exchange/compose.html",
            context | _error_context(exc, kept),
            status=exc.status,
        )
    return RedirectResponse(f"/messages/{message.id}?sent=1", status_code=303)


# ── Message view ────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class ItemView:
    ref: str
    type_label: str
    role: str | None
    evaluation: str | None
    meaning: str | None
    properties: list[tuple[str, str]]


def _item_views(items: list[dict[str, Any]]) -> list[ItemView]:
    views = []
    for item in items:
        type_name = str(item.get("type", ""))
        try:
            etype = SCHEMA.get(type_name)
            labels = {n: p.label for n, p in etype.properties.items()}
            type_label = etype.label
        except ValidationFailed:
            labels, type_label = {}, type_name
        properties = item.get("properties") or {}
        views.append(
            ItemView(
                ref=str(item.get("ref", "")),
                type_label=type_label,
                role=item.get("role"),
                evaluation=item.get("evaluation"),
                meaning=service.evaluation_meaning(item.get("evaluation")),
                properties=[
                    (
                        labels.get(name, name),
                        ", ".join(map(str, v)) if isinstance(v, list) else str(v),
                    )
                    for name, v in properties.items()
                ],
            )
        )
    return views


def _link_label(name: str) -> str:
    try:
        return SCHEMA.link(name).label
    except ValidationFailed:
        return name.replace("_", " ")


def _message_context(
    session: Session, actor: Actor, view: service.MessageView, settings: Settings
) -> dict[str, Any]:
    m = view.message
    own = view.own
    is_sender = actor.agency_id == m.sender_agency_id
    open_request_to_us = bool(
        own is not None
        and own.kind == "to"
        and m.message_type == MessageType.REQUEST.value
        and not own.closed
    )
    consent = view.consent
    consent_to_decide = bool(
        consent is not None
        and consent.provider_agency_id == actor.agency_id
        and consent.status == ConsentStatus.PENDING.value
    )
    marks = service.markings_dict(view.markings)
    return {
        "view": view,
        "m": m,
        "o": view.opened,
        "marks": marks,
        "classification": Classification(m.classification),
        "is_sender": is_sender,
        "open_request_to_us": open_request_to_us,
        "can_acknowledge": own is not None and own.kind != "hub" and own.acknowledged_at is None,
        "can_answer": is_sender or (own is not None and own.kind != "hub"),
        "consent_to_decide": consent_to_decide,
        "needs_consent": bool(
            forward_needs_consent(
                actor,
                handling=HandlingCode(m.handling),
                provider_agency_id=m.provider_agency_id,
            )
        ),
        "items": _item_views(view.opened.items),
        "links": [
            {
                "source": str(link.get("source", "")),
                "target": str(link.get("target", "")),
                "label": _link_label(str(link.get("type", ""))),
                "role": link.get("role"),
                "start": link.get("start"),
                "end": link.get("end"),
            }
            for link in view.opened.links
        ],
        "grounds": load_grounds(settings.refusal_grounds_file),
        "agency_codes": _codes(session, [m.provider_agency_id]),
        **_common(),
    }


@router.get("/messages/{message_id}")
def message_page(
    message_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: UiActor,
) -> Response:
    view = service.read(session, actor, message_id, settings=settings)
    return render(
        request, "exchange/message.html", _message_context(session, actor, view, settings)
    )


@router.get("/messages/{message_id}/attachments/{attachment_id}")
def download_attachment(
    message_id: str,
    attachment_id: str,
    session: SessionDep,
    settings: SettingsDep,
    actor: UiActor,
) -> Response:
    return attachment_response(session, actor, message_id, attachment_id, settings)


@router.get("/messages/{message_id}/export.{fmt}")
def export_message(
    message_id: str,
    fmt: Literal["json", "xml"],
    session: SessionDep,
    settings: SettingsDep,
    actor: UiActor,
) -> Response:
    data = service.export(session, actor, message_id, fmt, settings=settings)
    return Response(
        data,
        media_type="application/json" if fmt == "json" else "application/xml",
        headers={"Content-Disposition": f'attachment; filename="message-{message_id}.{fmt}"'},
    )


@router.post("/messages/{message_id}/acknowledge")
def acknowledge(
    message_id: str, session: SessionDep, settings: SettingsDep, actor: UiActor
) -> Response:
    service.acknowledge(session, actor, message_id, settings=settings)
    return RedirectResponse(f"/messages/{message_id}?acknowledged=1", status_code=303)


# ── Reply and refuse ────────────────────────────────────────────────────────────────────────


def _reply_defaults(view: service.MessageView) -> dict[str, Any]:
    m = view.message
    subject = view.opened.subject
    return {
        "subject": subject if subject.lower().startswith("re:") else f"Re: {subject}",
        "legal_basis": m.legal_basis,
        "purpose": m.purpose,
        "classification": Classification(m.classification).name,
        "handling": HandlingCode.H0.value,
        "priority": m.priority,
        "personal_data": "1" if m.personal_data else "",
        "idempotency_key": secrets.token_urlsafe(18),
    }


def _reply_page(
    request: Request,
    session: SessionDep,
    settings: Settings,
    actor: Actor,
    view: service.MessageView,
    kept: Kept,
    *,
    mode: str,
    failure: LiaisonError | None = None,
) -> Response:
    context = _compose_context(session, actor, settings, kept, mode=mode)
    context |= {
        "parent": view,
        "parent_marks": service.markings_dict(view.markings),
        "grounds": load_grounds(settings.refusal_grounds_file),
    }
    if failure is not None:
        context |= _error_context(failure, kept)
    return render(
        request,
        "exchange/compose.html",
        context,
        status=failure.status if failure is not None else 200,
    )


@router.get("/messages/{message_id}/reply")
def reply_page(
    message_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: UiActor,
    refuse: bool = False,
) -> Response:
    view = service.read(session, actor, message_id, settings=settings)
    defaults = _reply_defaults(view)
    if refuse:
        defaults |= {"subject": f"Refusal: {view.opened.subject}"[:300], "personal_data": ""}
        defaults["legal_basis"] = "Directive (EU) 2023/977 Art. 6"
    return _reply_page(
        request,
        session,
        settings,
        actor,
        view,
        Kept(defaults),
        mode="refuse" if refuse else "reply",
    )


async def _answer(
    message_id: str,
    request: Request,
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    refuse: bool,
) -> Response:
    form = await request.form()
    kept = Kept(form)
    try:
        draft = _draft(kept, await _uploads(form, settings), reply=True)
        if refuse:
            ground = kept.get("refusal_ground")
            draft = Draft(
                to=(),
                subject=draft.subject,
                body=draft.body,
                legal_basis=draft.legal_basis,
                purpose=draft.purpose,
                classification=draft.classification,
                personal_data=draft.personal_data,
                # An empty ground is refused by the rule that names the configured grounds.
                refusal_ground=ground,
            )
        message = service.reply(
            session,
            actor,
            message_id,
            draft,
            idempotency_key=kept.get("idempotency_key") or None,
            settings=settings,
        )
    except FORM_ERRORS as exc:
        session.rollback()
        view = service.read(session, actor, message_id, settings=settings)
        return _reply_page(
            request,
            session,
            settings,
            actor,
            view,
            kept,
            mode="refuse" if refuse else "reply",
            failure=exc,
        )
    return RedirectResponse(
        f"/messages/{message.id}?{'refused' if refuse else 'replied'}=1", status_code=303
    )


@router.post("/messages/{message_id}/reply")
async def reply(
    message_id: str, request: Request, session: SessionDep, settings: SettingsDep, actor: UiActor
) -> Response:
    return await _answer(message_id, request, session, settings, actor, refuse=False)


@router.post("/messages/{message_id}/refuse")
async def refuse(
    message_id: str, request: Request, session: SessionDep, settings: SettingsDep, actor: UiActor
) -> Response:
    return await _answer(message_id, request, session, settings, actor, refuse=True)


# ── Forward ─────────────────────────────────────────────────────────────────────────────────


def _forward_page(
    request: Request,
    session: Session,
    actor: Actor,
    view: service.MessageView,
    kept: Kept,
    failure: LiaisonError | None = None,
) -> Response:
    m = view.message
    context: dict[str, Any] = {
        "parent": view,
        "parent_marks": service.markings_dict(view.markings),
        "f": kept,
        "agencies": _other_agencies(session, actor),
        "priorities": list(Priority),
        "needs_consent": bool(
            forward_needs_consent(
                actor, handling=HandlingCode(m.handling), provider_agency_id=m.provider_agency_id
            )
        ),
        "provider_code": _codes(session, [m.provider_agency_id]).get(m.provider_agency_id, "?"),
        "error": None,
        "errors": {},
        **_common(),
    }
    if failure is not None:
        context |= _error_context(failure)
    return render(
        request,
        "exchange/forward.html",
        context,
        status=failure.status if failure is not None else 200,
    )


@router.get("/messages/{message_id}/forward")
def forward_page(
    message_id: str, request: Request, session: SessionDep, settings: SettingsDep, actor: UiActor
) -> Response:
    view = service.read(session, actor, message_id, settings=settings)
    kept = Kept(
        {
            "legal_basis": view.message.legal_basis,
            "purpose": view.message.purpose,
            "priority": view.message.priority,
            "idempotency_key": secrets.token_urlsafe(18),
        }
    )
    return _forward_page(request, session, actor, view, kept)


@router.post("/messages/{message_id}/forward")
async def forward(
    message_id: str, request: Request, session: SessionDep, settings: SettingsDep, actor: UiActor
) -> Response:
    form = await request.form()
    kept = Kept(form)
    try:
        result = service.forward(
            session,
            actor,
            message_id,
            to=[v for v in kept.all("to") if v],
            cc=[v for v in kept.all("cc") if v],
            note=kept.get("note").replace("\r\n", "\n"),
            legal_basis=kept.get("legal_basis").strip() or None,
            purpose=kept.get("purpose").strip() or None,
            priority=_enum(Priority, kept.get("priority"), "priority", Priority.NORMAL),
            idempotency_key=kept.get("idempotency_key") or None,
            settings=settings,
        )
    except FORM_ERRORS as exc:
        session.rollback()
        view = service.read(session, actor, message_id, settings=settings)
        return _forward_page(request, session, actor, view, kept, failure=exc)
    if result.consent is not None:
        return RedirectResponse(f"/consents?asked={result.consent.id}", status_code=303)
    assert result.message is not None
    return RedirectResponse(f"/messages/{result.message.id}?forwarded=1", status_code=303)


# ── Consents ────────────────────────────────────────────────────────────────────────────────


def _consents_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    show_all: bool,
    asked: str | None = None,
    decided: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    rows = service.consents(session, actor, pending_only=not show_all)
    codes = _codes(
        session,
        list({c.provider_agency_id for c in rows} | {c.requester_agency_id for c in rows}),
    )
    asked_row = session.get(ConsentRequest, asked) if asked else None
    if asked_row is not None and asked_row.requester_agency_id != actor.agency_id:
        asked_row = None
    return render(
        request,
        "exchange/consents.html",
        {
            "to_decide": [c for c in rows if c.provider_agency_id == actor.agency_id],
            "waiting": [c for c in rows if c.requester_agency_id == actor.agency_id],
            "codes": codes,
            "show_all": show_all,
            "asked": asked_row,
            "asked_provider": codes.get(asked_row.provider_agency_id, "")
            if asked_row is not None
            else "",
            "decided": decided,
            "error": error,
            **_common(),
        },
        status=status,
    )


@router.get("/consents")
def consents_page(
    request: Request,
    session: SessionDep,
    actor: UiActor,
    all: bool = False,
    asked: Annotated[str | None, Query(max_length=26)] = None,
    decided: Annotated[str | None, Query(pattern="^(granted|refused)$")] = None,
) -> Response:
    can_exchange(actor).enforce()
    return _consents_page(request, session, actor, show_all=all, asked=asked, decided=decided)


@router.post("/consents/{consent_id}/decision")
async def decide_consent(
    consent_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: UiActor,
) -> Response:
    form = await request.form()
    decision = form.get("decision")
    note = form.get("note")
    if decision not in ("grant", "refuse"):
        raise ValidationFailed("choose Grant or Refuse")
    try:
        service.decide_consent(
            session,
            actor,
            consent_id,
            grant=decision == "grant",
            note=note if isinstance(note, str) else "",
            settings=settings,
        )
    except FORM_ERRORS as exc:
        session.rollback()
        return _consents_page(
            request, session, actor, show_all=False, error=exc.detail, status=exc.status
        )
    return RedirectResponse(
        f"/consents?decided={'granted' if decision == 'grant' else 'refused'}", status_code=303
    )


# ── Cases ───────────────────────────────────────────────────────────────────────────────────


@router.get("/cases")
def cases_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: UiActor,
    status: Annotated[Literal["open", "closed", "all"], Query()] = "all",
) -> Response:
    rows = service.cases(session, actor, status=None if status == "all" else CaseStatus(status))
    owners = _codes(session, list({c.owner_agency_id for c in rows}))
    return render(
        request,
        "exchange/cases.html",
        {
            "rows": [(c, service.case_title(session, c, settings)) for c in rows],
            "owners": owners,
            "status": status,
            **_common(),
        },
    )


@router.get("/cases/{case_id}")
def case_page(
    case_id: str, request: Request, session: SessionDep, settings: SettingsDep, actor: UiActor
) -> Response:
    view = service.case_timeline(session, actor, case_id, settings=settings)
    owner = next((a for a in view.participants if a.id == view.case.owner_agency_id), None)
    return render(
        request,
        "exchange/case.html",
        {
            "view": view,
            "case": view.case,
            "owner": owner,
            "is_owner": view.case.owner_agency_id == actor.agency_id,
            **_common(),
        },
    )


@router.post("/cases/{case_id}/{action}")
def case_status(
    case_id: str,
    action: Literal["close", "reopen"],
    session: SessionDep,
    actor: UiActor,
) -> Response:
    service.set_case_status(
        session, actor, case_id, CaseStatus.CLOSED if action == "close" else CaseStatus.OPEN
    )
    return RedirectResponse(f"/cases/{case_id}", status_code=303)
