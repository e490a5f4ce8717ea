"""The secure exchange: cases, messages, replies and forwards, legal deadlines, consent for H2.

Every operation takes a session and an ``Actor`` and asks ``core/policy.py`` first. A message is
validated completely (fields, markings, structured items, attachments, every recipient's right
to receive it) before anything is stored: a refusal names the rule and nothing is sent. What is
stored is sealed (subject, content, attachments: ``core.crypto``) and signed by the sending
agency over a canonical form (``core.signing``); reading verifies the signature and flags a
message whose stored form no longer matches it.

Sending from other capabilities (hit follow-up, requests for details) uses ``send`` with a
``Draft``; answering uses ``reply``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import filetype
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from liaison.core import audit
from liaison.core.actor import Actor
from liaison.core.agencies import Agency
from liaison.core.clock import utcnow
from liaison.core.crypto import DecryptionFailed, open_sealed, seal
from liaison.core.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    UnsupportedType,
    ValidationFailed,
)
from liaison.core.markings import (
    Classification,
    Evaluation,
    HandlingCode,
    Markings,
    configured_crime_areas,
)
from liaison.core.policy import (
    Decision,
    can_acknowledge,
    can_answer,
    can_decide_consent,
    can_exchange,
    can_manage_case,
    can_read_message,
    can_see_case,
    can_send,
    forward_needs_consent,
    recipient_may_receive,
    refusal_ground_allowed,
    request_deadline,
)
from liaison.core.settings import Settings, get_settings
from liaison.core.signing import Verdict, canonical_bytes, sign, verify
from liaison.exchange.grounds import load_grounds
from liaison.exchange.model import (
    Accessibility,
    Attachment,
    Case,
    CaseParticipant,
    CaseStatus,
    ConsentRequest,
    ConsentStatus,
    DeliveryStatus,
    Message,
    MessageRecipient,
    MessageType,
    Priority,
    RecipientKind,
)

SCHEMA_DIR = Path(__file__).with_name("schemas")
MAX_SUBJECT = 300
MAX_BODY = 1_000_000
MAX_RECIPIENTS = 50
MAX_ATTACHMENTS = 20
MAX_TEXT = 500
DUE_SOON = dt.timedelta(hours=24)
HUB = "hub"  # recipient kind of the hub's copy
BLOCKED_EXTENSIONS = frozenset(
    {
        "exe", "dll", "com", "scr", "msi", "msp", "bat", "cmd", "ps1", "psm1", "vbs", "vbe",
        "js", "jse", "wsf", "wsh", "hta", "cpl", "jar", "lnk", "pif", "reg", "sys", "elf",
    }
)  # fmt: skip


# ── What a sender gives ─────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class AttachmentUpload:
    filename: str
    data: bytes
    declared_type: str | None = None


@dataclass(frozen=True, slots=True)
class Draft:
    """A message before it is sent. ``to``/``cc`` are agency codes (or ids); ``items`` and
    ``links`` are structured items in the message-document shape (see docs/message-document.md).
    """

    to: tuple[str, ...]
    subject: str
    body: str
    legal_basis: str
    purpose: str
    message_type: MessageType = MessageType.INFORMATION
    priority: Priority = Priority.NORMAL
    accessibility: Accessibility | None = None
    crime_area: str | None = None
    handling: HandlingCode = HandlingCode.H0
    h3_conditions: str | None = None
    classification: Classification = Classification.UNCLASSIFIED
    personal_data: bool = True
    cc: tuple[str, ...] = ()
    case_id: str | None = None
    case_title: str | None = None
    items: tuple[Mapping[str, Any], ...] = ()
    links: tuple[Mapping[str, Any], ...] = ()
    attachments: tuple[AttachmentUpload, ...] = ()
    refusal_ground: str | None = None
    reference: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class _Sender:
    agency: Agency
    user_id: str | None
    username: str


@dataclass(frozen=True, slots=True)
class _PreparedAttachment:
    filename: str
    data: bytes
    content_type: str
    sha256: str


# ── Validation ──────────────────────────────────────────────────────────────────────────────


def _clean_text(
    value: str, name: str, limit: int, errors: dict[str, str], *, required: bool
) -> str:
    text = unicodedata.normalize("NFC", value or "")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in text):
        errors[name] = "contains control characters"
    stripped = text.strip()
    if required and not stripped:
        errors[name] = "is required"
    if len(text) > limit:
        errors[name] = f"is longer than {limit:,} characters"
    return stripped if name != "body" else text


def agency_ref(session: Session, ref: str) -> Agency:
    """An agency by code (any case) or id; ValidationFailed naming it otherwise."""
    ref = (ref or "").strip()
    agency = session.scalar(select(Agency).where(func.upper(Agency.code) == ref.upper()))
    if agency is None:
        agency = session.get(Agency, ref)
    if agency is None:
        raise ValidationFailed(f"no agency {ref!r} on the network", errors={"to": f"unknown {ref}"})
    return agency


def _structured(
    items: Sequence[Mapping[str, Any]], links: Sequence[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
    """Validated items and links (message-document rules) and whether they hold personal data."""
    from liaison.exchange.document import validate_structured

    return validate_structured(items, links)


def _content_type(data: bytes) -> str:
    kind = filetype.guess(data[:8192]) if data else None
    if kind is not None:
        return str(kind.mime)
    if b"\x00" not in data[:8192]:
        try:
            data[:65536].decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return "text/plain"
    if data[:2] == b"MZ":
        return "application/x-msdownload"
    return "application/octet-stream"


def _prepare_attachments(
    uploads: Sequence[AttachmentUpload], settings: Settings
) -> list[_PreparedAttachment]:
    if len(uploads) > MAX_ATTACHMENTS:
        raise ValidationFailed(f"at most {MAX_ATTACHMENTS} attachments per message")
    blocked = {t.strip() for t in settings.attachment_blocked_types.split(",") if t.strip()}
    out = []
    for upload in uploads:
        name = unicodedata.normalize("NFC", upload.filename or "").strip()
        name = name.replace("\\", "/").rsplit("/", 1)[-1]
        if not name or any(unicodedata.category(ch) == "Cc" for ch in name) or len(name) > 255:
            raise ValidationFailed(f"attachment name {upload.filename!r} is not a usable file name")
        if len(upload.data) > settings.attachment_max_bytes:
            raise PayloadTooLarge(
                f"attachment {name!r} is {len(upload.data):,} bytes; the limit is "
                f"{settings.attachment_max_bytes:,} bytes (LIAISON_ATTACHMENT_MAX_BYTES)"
            )
        content_type = _content_type(upload.data)
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if content_type in blocked or extension in BLOCKED_EXTENSIONS:
            raise UnsupportedType(
                f"attachment {name!r} is refused: files of type {content_type}"
                f"{f' (.{extension})' if extension else ''} are blocked "
                "(LIAISON_ATTACHMENT_BLOCKED_TYPES)"
            )
        out.append(
            _PreparedAttachment(
                name, upload.data, content_type, hashlib.sha256(upload.data).hexdigest()
            )
        )
    return out


@dataclass(slots=True)
class _Checked:
    draft: Draft
    items: list[dict[str, Any]]
    links: list[dict[str, Any]]
    personal_data: bool
    attachments: list[_PreparedAttachment]
    recipients: list[tuple[Agency, RecipientKind]]


def _check(session: Session, sender: Agency, draft: Draft, settings: Settings) -> _Checked:
    """Everything about a draft that can be refused, refused before anything is stored."""
    errors: dict[str, str] = {}
    subject = _clean_text(draft.subject, "subject", MAX_SUBJECT, errors, required=True)
    body = _clean_text(draft.body, "body", MAX_BODY, errors, required=False)
    legal_basis = _clean_text(draft.legal_basis, "legal_basis", 300, errors, required=True)
    purpose = _clean_text(draft.purpose, "purpose", MAX_TEXT, errors, required=True)
    if draft.crime_area is not None and draft.crime_area not in configured_crime_areas():
        errors["crime_area"] = f"unknown crime area {draft.crime_area!r}"
    try:
        Markings(
            owner_agency_id=sender.id,
            handling=HandlingCode(draft.handling),
            classification=Classification(draft.classification),
            h3_conditions=(draft.h3_conditions or "").strip() or None,
        )
    except ValueError as exc:
        errors["handling"] = str(exc)
    if draft.message_type is MessageType.REQUEST and draft.accessibility is None:
        errors["accessibility"] = (
            "a request states whether the information is directly or indirectly accessible "
            "(it sets the legal deadline)"
        )
    if errors:
        raise ValidationFailed(
            "the message is incomplete: " + "; ".join(f"{k} {v}" for k, v in errors.items()),
            errors=errors,
        )
    items, links, personal_items = _structured(draft.items, draft.links)
    attachments = _prepare_attachments(draft.attachments, settings)
    recipients: list[tuple[Agency, RecipientKind]] = []
    seen: set[str] = set()
    for kind, refs in ((RecipientKind.TO, draft.to), (RecipientKind.CC, draft.cc)):
        for ref in refs:
            agency = agency_ref(session, ref)
            if agency.id == sender.id:
                raise ValidationFailed(
                    "your own agency cannot be a recipient", errors={kind.value: agency.code}
                )
            if agency.id not in seen:
                seen.add(agency.id)
                recipients.append((agency, kind))
    if not any(kind is RecipientKind.TO for _, kind in recipients):
        raise ValidationFailed("name at least one recipient (to)", errors={"to": "is required"})
    if len(recipients) > MAX_RECIPIENTS:
        raise ValidationFailed(f"at most {MAX_RECIPIENTS} recipients per message")
    clean = replace(
        draft,
        subject=subject,
        body=body,
        legal_basis=legal_basis,
        purpose=purpose,
        h3_conditions=(draft.h3_conditions or "").strip() or None,
    )
    return _Checked(
        clean, items, links, draft.personal_data or personal_items, attachments, recipients
    )


def _sendable(
    session: Session, actor: Actor, sender: _Sender, draft: Draft, settings: Settings
) -> _Checked:
    """The checked draft, once the sender may send it and every recipient may receive it."""
    c = _check(session, sender.agency, draft, settings)
    can_send(
        actor, classification=c.draft.classification, contains_personal_data=c.personal_data
    ).enforce()
    _refuse_recipients(c.recipients, c.draft.classification, c.personal_data)
    return c


def _refuse_recipients(
    recipients: Iterable[tuple[Agency, RecipientKind]],
    classification: Classification,
    personal: bool,
) -> None:
    refusals = [
        d.reason
        for agency, _ in recipients
        if not (
            d := recipient_may_receive(
                agency_code=agency.code,
                framework=agency.partner_framework,
                accreditation=agency.accreditation_level,
                personal_data_basis=agency.personal_data_basis,
                active=agency.active,
                classification=classification,
                contains_personal_data=personal,
            )
        )
    ]
    if refusals:
        raise PermissionDenied("nothing was sent: " + "; ".join(refusals))


# ── Storing, sealing, signing ───────────────────────────────────────────────────────────────


def _aad(kind: str, object_id: str) -> bytes:
    return f"exchange-{kind}:{object_id}".encode()


def _content(c: _Checked) -> dict[str, Any]:
    return {"body": c.draft.body, "items": c.items, "links": c.links}


def signed_form(
    message: Message,
    *,
    sender_code: str,
    subject: str,
    content: Mapping[str, Any],
    recipients: Sequence[tuple[str, str]],
    attachments: Sequence[Attachment],
) -> dict[str, Any]:
    """What the sending agency signs: everything a reader is shown, attachments by hash."""
    return {
        "id": message.id,
        "case_id": message.case_id,
        "thread_id": message.thread_id,
        "in_reply_to": message.in_reply_to_id,
        "forwarded_from": message.forwarded_from_id,
        "sender_agency": sender_code,
        "sender_user": message.sender_username,
        "provider_agency_id": message.provider_agency_id,
        "recipients": sorted([code, kind] for code, kind in recipients),
        "subject": subject,
        "body": content.get("body", ""),
        "items": content.get("items", []),
        "links": content.get("links", []),
        "type": message.message_type,
        "priority": message.priority,
        "accessibility": message.accessibility,
        "legal_basis": message.legal_basis,
        "purpose": message.purpose,
        "crime_area": message.crime_area,
        "handling": message.handling,
        "h3_conditions": message.h3_conditions,
        "classification": Classification(message.classification).name,
        "personal_data": message.personal_data,
        "refusal_ground": message.refusal_ground,
        "sent_at": message.sent_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "reference": [message.reference_type, message.reference_id]
        if message.reference_type
        else None,
        "attachments": [
            [a.position, a.filename, a.content_type, a.size, a.sha256]
            for a in sorted(attachments, key=lambda a: a.position)
        ],
    }


def _request_hash(draft: Draft, extra: Mapping[str, Any] | None = None) -> str:
    data = {
        "to": sorted(draft.to),
        "cc": sorted(draft.cc),
        "subject": draft.subject,
        "body": draft.body,
        "type": draft.message_type.value,
        "priority": draft.priority.value,
        "accessibility": draft.accessibility.value if draft.accessibility else None,
        "legal_basis": draft.legal_basis,
        "purpose": draft.purpose,
        "crime_area": draft.crime_area,
        "handling": draft.handling.value,
        "h3": draft.h3_conditions,
        "classification": int(draft.classification),
        "items": list(draft.items),
        "links": list(draft.links),
        "attachments": [hashlib.sha256(a.data).hexdigest() for a in draft.attachments],
        "case": draft.case_id,
        "refusal": draft.refusal_ground,
    } | dict(extra or {})
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _replayed(
    session: Session, sender: Agency, key: str | None, request_hash: str
) -> Message | None:
    """The message an idempotency key already sent, if the same request is repeated."""
    if not key:
        return None
    if len(key) > 128:
        raise ValidationFailed("the idempotency key is longer than 128 characters")
    existing = session.scalar(
        select(Message).where(Message.sender_agency_id == sender.id, Message.idempotency_key == key)
    )
    if existing is None:
        return None
    if existing.request_hash != request_hash:
        raise Conflict(
            "this idempotency key was already used for a different message; use a new key"
        )
    return existing


def _new_case(
    session: Session, sender: _Sender, title: str, crime_area: str | None, settings: Settings
) -> Case:
    case_id = _new_id()
    case = Case(
        id=case_id,
        reference=f"{sender.agency.code}/{utcnow():%Y}/{case_id[-8:]}",
        title_sealed=seal(
            session, title[:300].encode("utf-8"), aad=_aad("case-title", case_id), settings=settings
        ),
        crime_area=crime_area,
        owner_agency_id=sender.agency.id,
        created_by=sender.username,
    )
    session.add(case)
    session.add(CaseParticipant(case_id=case.id, agency_id=sender.agency.id))
    session.flush()
    return case


def _new_id() -> str:
    from liaison.core.ids import new_id

    return new_id()


def _participants(session: Session, case_id: str) -> set[str]:
    return set(
        session.scalars(select(CaseParticipant.agency_id).where(CaseParticipant.case_id == case_id))
    )


def _hub_copies(
    session: Session,
    sender: Agency,
    recipients: Sequence[tuple[Agency, RecipientKind]],
    classification: Classification,
    personal: bool,
    settings: Settings,
) -> list[Agency]:
    if not settings.hub_copy:
        return []
    taken = {a.id for a, _ in recipients} | {sender.id}
    hubs = session.scalars(
        select(Agency).where(Agency.framework == "eu_body", Agency.active.is_(True))
    ).all()
    return [
        hub
        for hub in hubs
        if hub.id not in taken
        and recipient_may_receive(
            agency_code=hub.code,
            framework=hub.partner_framework,
            accreditation=hub.accreditation_level,
            personal_data_basis=hub.personal_data_basis,
            active=hub.active,
            classification=classification,
            contains_personal_data=personal,
        ).allowed
    ]


def _store(
    session: Session,
    sender: _Sender,
    c: _Checked,
    *,
    case: Case,
    parent: Message | None,
    forwarded_from: Message | None,
    provider_agency_id: str,
    idempotency_key: str | None,
    request_hash: str,
    settings: Settings,
) -> Message:
    now = utcnow()
    d = c.draft
    message = Message(
        id=_new_id(),
        case_id=case.id,
        in_reply_to_id=parent.id if parent else None,
        forwarded_from_id=forwarded_from.id if forwarded_from else None,
        sender_agency_id=sender.agency.id,
        sender_user_id=sender.user_id,
        sender_username=sender.username,
        provider_agency_id=provider_agency_id,
        message_type=d.message_type.value,
        priority=d.priority.value,
        accessibility=d.accessibility.value if d.accessibility else None,
        legal_basis=d.legal_basis,
        purpose=d.purpose,
        crime_area=d.crime_area,
        handling=d.handling.value,
        h3_conditions=d.h3_conditions,
        classification=int(d.classification),
        personal_data=c.personal_data,
        refusal_ground=d.refusal_ground,
        item_count=len(c.items),
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        sent_at=now,
        reference_type=d.reference[0] if d.reference else None,
        reference_id=d.reference[1] if d.reference else None,
    )
    message.thread_id = parent.thread_id if parent else message.id
    content = _content(c)
    message.subject_sealed = seal(
        session, d.subject.encode("utf-8"), aad=_aad("subject", message.id), settings=settings
    )
    message.content_sealed = seal(
        session,
        json.dumps(content, ensure_ascii=False, sort_keys=True).encode("utf-8"),
        aad=_aad("content", message.id),
        settings=settings,
    )
    attachments = []
    for position, a in enumerate(c.attachments):
        att_id = _new_id()
        attachments.append(
            Attachment(
                id=att_id,
                message_id=message.id,
                position=position,
                filename=a.filename,
                content_type=a.content_type,
                size=len(a.data),
                sha256=a.sha256,
                sealed=seal(session, a.data, aad=_aad("attachment", att_id), settings=settings),
            )
        )
    signed = signed_form(
        message,
        sender_code=sender.agency.code,
        subject=d.subject,
        content=content,
        recipients=[(a.code, k.value) for a, k in c.recipients],
        attachments=attachments,
    )
    signature = sign(session, sender.agency.id, canonical_bytes(signed), settings=settings)
    message.signature_key_id = signature.key_id
    message.signature = signature.value
    session.add(message)
    session.flush()
    session.add_all(attachments)

    hubs = _hub_copies(
        session, sender.agency, c.recipients, d.classification, c.personal_data, settings
    )
    participants = _participants(session, case.id)
    for agency, kind in [*c.recipients, *((h, None) for h in hubs)]:
        row = MessageRecipient(
            message_id=message.id,
            agency_id=agency.id,
            kind=kind.value if kind else HUB,
            status=DeliveryStatus.DELIVERED.value,
            sent_at=now,
            priority=message.priority,
            message_type=message.message_type,
            delivered_at=now,
            closed=True,
        )
        if d.message_type is MessageType.REQUEST and kind is RecipientKind.TO:
            deadline = request_deadline(
                urgent=d.priority is Priority.URGENT,
                directly_accessible=d.accessibility is Accessibility.DIRECT,
                received_at=now,
                zone=agency.zone,
            )
            row.deadline_at, row.deadline_rule, row.closed = deadline.at, deadline.rule, False
        elif d.message_type is MessageType.HIT_FOLLOW_UP and kind is RecipientKind.TO:
            row.deadline_at = now + dt.timedelta(hours=settings.hit_report_deadline_hours)
            row.deadline_rule = (
                f"{settings.hit_report_deadline_hours} hours: answer to a hit report "
                "(SIRENE Manual: a response within 12 hours)"
            )
            row.closed = False
        elif d.message_type is MessageType.CONSENT_REQUEST and kind is RecipientKind.TO:
            row.closed = False
        session.add(row)
        if agency.id not in participants and kind is not None:
            session.add(CaseParticipant(case_id=case.id, agency_id=agency.id))
            participants.add(agency.id)
    if parent is not None:
        _close_answered(session, parent, sender.agency.id, message.id, now)
    session.flush()
    return message


def _close_answered(
    session: Session, parent: Message, agency_id: str, answer_id: str, now: dt.datetime
) -> None:
    row = session.get(MessageRecipient, (parent.id, agency_id))
    if row is None or row.answered_at is not None:
        return
    row.status = DeliveryStatus.ANSWERED.value
    row.answered_at = now
    row.answer_id = answer_id
    row.closed = True
    if row.read_at is None:
        row.read_at = now


def _sender(session: Session, actor: Actor) -> _Sender:
    agency = session.get(Agency, actor.agency_id)
    if agency is None:
        raise NotFound(f"no agency {actor.agency_id}")
    return _Sender(agency, actor.user_id, actor.username)


def _audit_send(session: Session, actor: Actor, action: str, message: Message, c: _Checked) -> None:
    audit.record(
        session,
        actor,
        action,
        object_type="message",
        object_id=message.id,
        detail={
            "to": [a.code for a, k in c.recipients if k is RecipientKind.TO],
            "cc": [a.code for a, k in c.recipients if k is RecipientKind.CC],
            "type": message.message_type,
            "priority": message.priority,
            "handling": message.handling,
            "classification": Classification(message.classification).name,
            "items": message.item_count,
            "attachments": len(c.attachments),
            "case": message.case_id,
        },
        purpose=message.purpose,
    )


# ── Send, reply, forward ────────────────────────────────────────────────────────────────────


def send(
    session: Session,
    actor: Actor,
    draft: Draft,
    *,
    idempotency_key: str | None = None,
    settings: Settings | None = None,
) -> Message:
    """Validate, check every recipient, seal, sign, store and audit one new message.

    A request gets its legal deadline per recipient at receipt (Directive 2023/977 Art. 5(1));
    a hit follow-up gets the hit-report deadline. Repeating a send with the same idempotency key
    returns the first message; the same key with a different message is a conflict.
    """
    settings = settings or get_settings()
    sender = _sender(session, actor)
    request_hash = _request_hash(draft)
    replayed = _replayed(session, sender.agency, idempotency_key, request_hash)
    if replayed is not None:
        return replayed
    if draft.refusal_ground:
        raise ValidationFailed("a refusal is a reply to a request: reply to the request instead")
    c = _sendable(session, actor, sender, draft, settings)
    if draft.case_id:
        case = _open_case_for(session, actor, draft.case_id)
    else:
        title = (draft.case_title or "").strip() or c.draft.subject
        case = _new_case(session, sender, title, c.draft.crime_area, settings)
    message = _store(
        session,
        sender,
        c,
        case=case,
        parent=None,
        forwarded_from=None,
        provider_agency_id=sender.agency.id,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        settings=settings,
    )
    _audit_send(session, actor, "message.send", message, c)
    return message


def _open_case_for(session: Session, actor: Actor, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None or not can_see_case(
        actor, participant_ids=frozenset(_participants(session, case_id))
    ):
        raise NotFound(f"no case {case_id}")
    if case.status != CaseStatus.OPEN.value:
        raise Conflict(f"case {case.reference} is closed: reopen it or start a new case")
    return case


def load_message(session: Session, message_id: str) -> Message:
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(f"no message {message_id}")
    return message


def recipient_rows(session: Session, message_id: str) -> list[MessageRecipient]:
    return list(
        session.scalars(select(MessageRecipient).where(MessageRecipient.message_id == message_id))
    )


def _addressed(rows: Iterable[MessageRecipient]) -> frozenset[str]:
    return frozenset(r.agency_id for r in rows)


def _readable(
    session: Session, actor: Actor, message: Message, action: str, settings: Settings
) -> list[MessageRecipient]:
    """The recipient rows, once the actor may read the message; otherwise audit and NotFound."""
    rows = recipient_rows(session, message.id)
    decision = can_read_message(
        actor,
        sender_agency_id=message.sender_agency_id,
        recipient_agency_ids=_addressed(rows),
        classification=Classification(message.classification),
        hub_copy=settings.hub_copy,
    )
    if not decision:
        _refused(session, actor, action, message.id, decision)
    return rows


def _refused(
    session: Session, actor: Actor, action: str, object_id: str, decision: Decision
) -> None:
    audit.record(
        session,
        actor,
        action,
        object_type="message",
        object_id=object_id,
        outcome=audit.Outcome.DENIED,
        detail={"reason": decision.reason},
    )
    # The refusal is kept although the caller's unit of work ends in an error; the message's
    # existence is not confirmed to someone who may not read it.
    session.commit()
    raise NotFound(f"no message {object_id}")


def reply(
    session: Session,
    actor: Actor,
    message_id: str,
    draft: Draft,
    *,
    idempotency_key: str | None = None,
    settings: Settings | None = None,
) -> Message:
    """Answer a message in its thread; a recipient's reply closes its request. A refusal is a
    reply naming one of the configured grounds (default: Directive 2023/977 Art. 6)."""
    settings = settings or get_settings()
    parent = load_message(session, message_id)
    rows = _readable(session, actor, parent, "message.reply", settings)
    can_answer(
        actor,
        recipient_agency_ids=_addressed(r for r in rows if r.kind != HUB),
        sender_agency_id=parent.sender_agency_id,
    ).enforce()
    sender = _sender(session, actor)
    if not draft.to:
        if actor.agency_id == parent.sender_agency_id:
            to = tuple(r.agency_id for r in rows if r.kind == RecipientKind.TO.value)
        else:
            to = (parent.sender_agency_id,)
        draft = replace(draft, to=to)
    draft = replace(draft, message_type=MessageType.REPLY, case_id=parent.case_id)
    request_hash = _request_hash(draft, {"in_reply_to": parent.id})
    replayed = _replayed(session, sender.agency, idempotency_key, request_hash)
    if replayed is not None:
        return replayed
    if draft.refusal_ground is not None:
        own = next((r for r in rows if r.agency_id == actor.agency_id), None)
        if parent.message_type != MessageType.REQUEST.value or own is None or own.kind != "to":
            raise ValidationFailed("only the requested agency refuses a request")
        refusal_ground_allowed(
            draft.refusal_ground, load_grounds(settings.refusal_grounds_file)
        ).enforce()
    c = _sendable(session, actor, sender, draft, settings)
    case = session.get(Case, parent.case_id)
    assert case is not None
    message = _store(
        session,
        sender,
        c,
        case=case,
        parent=parent,
        forwarded_from=None,
        provider_agency_id=sender.agency.id,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        settings=settings,
    )
    _audit_send(
        session, actor, "message.refuse" if draft.refusal_ground else "message.reply", message, c
    )
    return message


@dataclass(frozen=True, slots=True)
class ForwardResult:
    """Either the forwarded message, or the consent request it waits on (H2)."""

    message: Message | None = None
    consent: ConsentRequest | None = None


def _forward_draft(
    source: Message,
    opened: Opened,
    *,
    to: Sequence[str],
    cc: Sequence[str],
    note: str,
    legal_basis: str | None,
    purpose: str | None,
    priority: Priority | None,
    sender_code: str,
) -> Draft:
    """The forward carries the source's markings unchanged: handling code, H3 conditions,
    classification, and every item with its own evaluation code."""
    header = (
        f"---- Forwarded message from {sender_code}, sent {source.sent_at:%Y-%m-%d %H:%M} UTC ----"
    )
    body = (
        f"{note.strip()}\n\n{header}\n{opened.body}" if note.strip() else f"{header}\n{opened.body}"
    )
    return Draft(
        to=tuple(to),
        cc=tuple(cc),
        subject=f"Fwd: {opened.subject}"[:MAX_SUBJECT],
        body=body[:MAX_BODY],
        legal_basis=(legal_basis or source.legal_basis),
        purpose=(purpose or source.purpose),
        message_type=MessageType.INFORMATION,
        priority=priority or Priority(source.priority),
        crime_area=source.crime_area,
        handling=HandlingCode(source.handling),
        h3_conditions=source.h3_conditions,
        classification=Classification(source.classification),
        personal_data=source.personal_data,
        case_id=source.case_id,
        items=tuple(opened.items),
        links=tuple(opened.links),
        attachments=tuple(
            AttachmentUpload(a.filename, data) for a, data in opened.attachment_bytes
        ),
    )


def forward(
    session: Session,
    actor: Actor,
    message_id: str,
    *,
    to: Sequence[str],
    cc: Sequence[str] = (),
    note: str = "",
    legal_basis: str | None = None,
    purpose: str | None = None,
    priority: Priority | None = None,
    idempotency_key: str | None = None,
    settings: Settings | None = None,
) -> ForwardResult:
    """Pass a message on. H2 information waits for the provider's permission: a consent request
    goes to the provider and the forward is held until it is granted (never sent otherwise)."""
    settings = settings or get_settings()
    source = load_message(session, message_id)
    _readable(session, actor, source, "message.forward", settings)
    can_exchange(actor).enforce()
    opened = _open(session, source, settings, with_attachments=True)
    if not opened.verdict.valid:
        raise Conflict(
            f"this message fails its integrity check and is not passed on: {opened.verdict.reason}"
        )
    sender = _sender(session, actor)
    source_sender = session.get(Agency, source.sender_agency_id)
    assert source_sender is not None
    draft = _forward_draft(
        source,
        opened,
        to=to,
        cc=cc,
        note=note,
        legal_basis=legal_basis,
        purpose=purpose,
        priority=priority,
        sender_code=source_sender.code,
    )
    request_hash = _request_hash(draft, {"forward_of": source.id})
    replayed = _replayed(session, sender.agency, idempotency_key, request_hash)
    if replayed is not None:
        return ForwardResult(message=replayed)
    c = _sendable(session, actor, sender, draft, settings)
    if forward_needs_consent(
        actor, handling=HandlingCode(source.handling), provider_agency_id=source.provider_agency_id
    ):
        consent = _ask_consent(session, actor, sender, source, c, note, settings)
        return ForwardResult(consent=consent)
    case = session.get(Case, source.case_id)
    assert case is not None
    message = _store(
        session,
        sender,
        c,
        case=case,
        parent=None,
        forwarded_from=source,
        provider_agency_id=source.provider_agency_id,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        settings=settings,
    )
    _audit_send(session, actor, "message.forward", message, c)
    return ForwardResult(message=message)


def _ask_consent(
    session: Session,
    actor: Actor,
    sender: _Sender,
    source: Message,
    c: _Checked,
    note: str,
    settings: Settings,
) -> ConsentRequest:
    provider = session.get(Agency, source.provider_agency_id)
    assert provider is not None
    held: dict[str, Any] = {
        "to": [a.code for a, k in c.recipients if k is RecipientKind.TO],
        "cc": [a.code for a, k in c.recipients if k is RecipientKind.CC],
        "note": note,
        "legal_basis": c.draft.legal_basis,
        "purpose": c.draft.purpose,
        "priority": c.draft.priority.value,
        "user_id": actor.user_id,
        "username": actor.username,
    }
    consent = ConsentRequest(
        id=_new_id(),
        source_message_id=source.id,
        provider_agency_id=provider.id,
        requester_agency_id=sender.agency.id,
        requested_by=actor.username,
        recipients=[{"agency": a.code, "kind": k.value} for a, k in c.recipients],
        status=ConsentStatus.PENDING.value,
    )
    consent.draft_sealed = seal(
        session,
        json.dumps(held, ensure_ascii=False).encode(),
        aad=_aad("consent", consent.id),
        settings=settings,
    )
    session.add(consent)
    session.flush()
    names = ", ".join([*held["to"], *held["cc"]])
    ask = Draft(
        to=(provider.code,),
        subject=f"Permission requested to pass on H2 information (message {source.id})",
        body=(
            f"{sender.agency.code} asks permission to pass on message {source.id} sent on "
            f"{source.sent_at:%Y-%m-%d %H:%M} UTC (handling code H2: not to be disseminated "
            f"without the permission of the provider) to: {names}.\n\n"
            f"Reason given: {note.strip() or '(none)'}"
        ),
        legal_basis=c.draft.legal_basis,
        purpose=c.draft.purpose,
        message_type=MessageType.CONSENT_REQUEST,
        priority=c.draft.priority,
        classification=Classification(source.classification),
        personal_data=False,
        case_id=None,
        reference=("consent", consent.id),
    )
    if provider.id == sender.agency.id:  # pragma: no cover - guarded by forward_needs_consent
        raise Conflict("the provider does not ask itself")
    ask_checked = _check(session, sender.agency, ask, settings)
    case = session.get(Case, source.case_id)
    assert case is not None
    message = _store(
        session,
        sender,
        ask_checked,
        case=case,
        parent=None,
        forwarded_from=None,
        provider_agency_id=sender.agency.id,
        idempotency_key=None,
        request_hash=_request_hash(ask),
        settings=settings,
    )
    consent.request_message_id = message.id
    audit.record(
        session,
        actor,
        "message.consent.request",
        object_type="consent",
        object_id=consent.id,
        detail={"source": source.id, "provider": provider.code, "to": held["to"], "cc": held["cc"]},
    )
    return consent


def decide_consent(
    session: Session,
    actor: Actor,
    consent_id: str,
    *,
    grant: bool,
    note: str = "",
    settings: Settings | None = None,
) -> ConsentRequest:
    """The provider grants (the held forward is sent) or refuses (nothing is sent)."""
    settings = settings or get_settings()
    consent = session.get(ConsentRequest, consent_id)
    if consent is None:
        raise NotFound(f"no consent request {consent_id}")
    decision = can_decide_consent(actor, provider_agency_id=consent.provider_agency_id)
    if not decision:
        raise NotFound(f"no consent request {consent_id}")
    if consent.status != ConsentStatus.PENDING.value:
        raise Conflict(f"this consent request was already {consent.status}")
    source = load_message(session, consent.source_message_id)
    held = json.loads(
        open_sealed(
            session, consent.draft_sealed, aad=_aad("consent", consent.id), settings=settings
        )
    )
    requester = session.get(Agency, consent.requester_agency_id)
    assert requester is not None
    now = utcnow()
    if grant:
        opened = _open(session, source, settings, with_attachments=True)
        source_sender = session.get(Agency, source.sender_agency_id)
        assert source_sender is not None
        draft = _forward_draft(
            source,
            opened,
            to=held["to"],
            cc=held["cc"],
            note=held["note"],
            legal_basis=held["legal_basis"],
            purpose=held["purpose"],
            priority=Priority(held["priority"]),
            sender_code=source_sender.code,
        )
        c = _check(session, requester, draft, settings)
        # Recipients are checked again: a framework may have changed while the request waited.
        _refuse_recipients(c.recipients, c.draft.classification, c.personal_data)
        case = session.get(Case, source.case_id)
        assert case is not None
        message = _store(
            session,
            _Sender(requester, held.get("user_id"), held["username"]),
            c,
            case=case,
            parent=None,
            forwarded_from=source,
            provider_agency_id=source.provider_agency_id,
            idempotency_key=None,
            request_hash=_request_hash(draft, {"consent": consent.id}),
            settings=settings,
        )
        consent.result_message_id = message.id
        _audit_send(session, actor, "message.forward", message, c)
    consent.status = (ConsentStatus.GRANTED if grant else ConsentStatus.REFUSED).value
    consent.decided_by = actor.username
    consent.decided_at = now
    consent.decision_note = note.strip() or None
    if consent.request_message_id:
        answer = Draft(
            to=(requester.code,),
            subject=("Permission granted" if grant else "Permission refused")
            + f": passing on message {source.id}",
            body=(
                ("The forward has been sent." if grant else "The information may not be passed on.")
                + (f"\n\n{note.strip()}" if note.strip() else "")
            ),
            legal_basis=source.legal_basis,
            purpose=source.purpose,
            message_type=MessageType.REPLY,
            classification=Classification(source.classification),
            personal_data=False,
            reference=("consent", consent.id),
        )
        parent = load_message(session, consent.request_message_id)
        c = _check(session, session.get(Agency, actor.agency_id) or requester, answer, settings)
        case = session.get(Case, parent.case_id)
        assert case is not None
        _store(
            session,
            _sender(session, actor),
            c,
            case=case,
            parent=parent,
            forwarded_from=None,
            provider_agency_id=actor.agency_id,
            idempotency_key=None,
            request_hash=_request_hash(answer),
            settings=settings,
        )
    audit.record(
        session,
        actor,
        "message.consent.grant" if grant else "message.consent.refuse",
        object_type="consent",
        object_id=consent.id,
        detail={"source": source.id, "result": consent.result_message_id},
    )
    return consent


def consents(session: Session, actor: Actor, *, pending_only: bool = True) -> list[ConsentRequest]:
    """Consent requests the actor's agency decides (as provider) or waits on (as requester)."""
    can_exchange(actor).enforce()
    query = select(ConsentRequest).where(
        or_(
            ConsentRequest.provider_agency_id == actor.agency_id,
            ConsentRequest.requester_agency_id == actor.agency_id,
        )
    )
    if pending_only:
        query = query.where(ConsentRequest.status == ConsentStatus.PENDING.value)
    return list(session.scalars(query.order_by(ConsentRequest.created_at.desc()).limit(500)))


def acknowledge(
    session: Session, actor: Actor, message_id: str, *, settings: Settings | None = None
) -> MessageRecipient:
    """A recipient confirms it has taken note of the message."""
    settings = settings or get_settings()
    message = load_message(session, message_id)
    rows = _readable(session, actor, message, "message.acknowledge", settings)
    can_acknowledge(
        actor, recipient_agency_ids=_addressed(r for r in rows if r.kind != HUB)
    ).enforce()
    row = next(r for r in rows if r.agency_id == actor.agency_id)
    now = utcnow()
    if row.acknowledged_at is None:
        row.acknowledged_at = now
        row.acknowledged_by = actor.username
    if row.read_at is None:
        row.read_at = now
        row.status = DeliveryStatus.READ.value
    audit.record(session, actor, "message.acknowledge", object_type="message", object_id=message.id)
    return row


# ── Reading ─────────────────────────────────────────────────────────────────────────────────


@dataclass(slots=True)
class Opened:
    subject: str
    body: str
    items: list[dict[str, Any]]
    links: list[dict[str, Any]]
    attachments: list[Attachment]
    attachment_bytes: list[tuple[Attachment, bytes]]
    verdict: Verdict


def _open(
    session: Session, message: Message, settings: Settings, *, with_attachments: bool = False
) -> Opened:
    """Decrypt and verify; an altered message is flagged, never shown as valid."""
    attachments = list(
        session.scalars(
            select(Attachment)
            .where(Attachment.message_id == message.id)
            .order_by(Attachment.position)
        )
    )
    try:
        subject = open_sealed(
            session, message.subject_sealed, aad=_aad("subject", message.id), settings=settings
        ).decode("utf-8")
        content = json.loads(
            open_sealed(
                session, message.content_sealed, aad=_aad("content", message.id), settings=settings
            )
        )
    except (DecryptionFailed, UnicodeDecodeError, ValueError) as exc:
        reason = exc.detail if isinstance(exc, DecryptionFailed) else "unreadable content"
        return Opened(
            "(content withheld: it cannot be decrypted)",
            "",
            [],
            [],
            attachments,
            [],
            Verdict(False, f"the stored message was altered or its key is missing: {reason}"),
        )
    sender = session.get(Agency, message.sender_agency_id)
    assert sender is not None
    rows = recipient_rows(session, message.id)
    codes = {
        a.id: a.code
        for a in session.scalars(select(Agency).where(Agency.id.in_([r.agency_id for r in rows])))
    }
    signed = signed_form(
        message,
        sender_code=sender.code,
        subject=subject,
        content=content,
        recipients=[(codes[r.agency_id], r.kind) for r in rows if r.kind != HUB],
        attachments=attachments,
    )
    try:
        payload = canonical_bytes(signed)
    except TypeError:
        verdict = Verdict(False, "the stored message cannot be put in its signed form")
    else:
        verdict = verify(
            session,
            agency_id=message.sender_agency_id,
            key_id=message.signature_key_id,
            payload=payload,
            signature=message.signature,
        )
    data: list[tuple[Attachment, bytes]] = []
    if with_attachments:
        for a in attachments:
            plain = _attachment_bytes(session, a, settings)
            if hashlib.sha256(plain).hexdigest() != a.sha256:
                verdict = Verdict(False, f"attachment {a.filename!r} was altered after signing")
            data.append((a, plain))
    return Opened(
        subject,
        content.get("body", ""),
        content.get("items", []),
        content.get("links", []),
        attachments,
        data,
        verdict,
    )


def _attachment_bytes(session: Session, a: Attachment, settings: Settings) -> bytes:
    try:
        return open_sealed(session, a.sealed, aad=_aad("attachment", a.id), settings=settings)
    except DecryptionFailed as exc:
        raise Conflict(f"attachment {a.filename!r} cannot be decrypted: {exc.detail}") from exc


@dataclass(frozen=True, slots=True)
class RecipientView:
    code: str
    name: str
    kind: str
    row: MessageRecipient | None  # statuses: to the sender in full, to a recipient its own


@dataclass(frozen=True, slots=True)
class MessageView:
    message: Message
    opened: Opened
    sender: Agency
    case: Case
    recipients: list[RecipientView]
    own: MessageRecipient | None
    decision: Decision
    case_title: str = ""
    refusal_text: str | None = None
    consent: ConsentRequest | None = None
    replies: list[Message] = field(default_factory=list)

    @property
    def markings(self) -> Markings:
        return Markings(
            owner_agency_id=self.message.provider_agency_id,
            handling=HandlingCode(self.message.handling),
            classification=Classification(self.message.classification),
            crime_area=self.message.crime_area,
            h3_conditions=self.message.h3_conditions,
        )

    @property
    def overdue(self) -> bool:
        own = self.own
        return bool(own and not own.closed and own.deadline_at and own.deadline_at < utcnow())


def read(
    session: Session, actor: Actor, message_id: str, *, settings: Settings | None = None
) -> MessageView:
    """Open a message (audited): content, markings, items with their evaluation codes, the
    signature verdict; marks it read for the actor's agency."""
    settings = settings or get_settings()
    message = load_message(session, message_id)
    rows = _readable(session, actor, message, "message.read", settings)
    opened = _open(session, message, settings)
    now = utcnow()
    own = next((r for r in rows if r.agency_id == actor.agency_id), None)
    if own is not None and own.read_at is None:
        own.read_at = now
        if own.status == DeliveryStatus.DELIVERED.value:
            own.status = DeliveryStatus.READ.value
    agencies = {
        a.id: a
        for a in session.scalars(
            select(Agency).where(
                Agency.id.in_([r.agency_id for r in rows] + [message.sender_agency_id])
            )
        )
    }
    is_sender = actor.agency_id == message.sender_agency_id
    recipients = [
        RecipientView(
            agencies[r.agency_id].code,
            agencies[r.agency_id].name,
            r.kind,
            r if is_sender or r.agency_id == actor.agency_id else None,
        )
        for r in sorted(
            rows, key=lambda r: (r.kind != "to", r.kind == HUB, agencies[r.agency_id].code)
        )
        if r.kind != HUB or is_sender or r.agency_id == actor.agency_id
    ]
    case = session.get(Case, message.case_id)
    assert case is not None
    consent = None
    if message.reference_type == "consent" and message.reference_id:
        consent = session.get(ConsentRequest, message.reference_id)
    replies = list(
        session.scalars(
            select(Message)
            .where(Message.in_reply_to_id == message.id)
            .where(
                or_(
                    Message.sender_agency_id == actor.agency_id,
                    exists().where(
                        MessageRecipient.message_id == Message.id,
                        MessageRecipient.agency_id == actor.agency_id,
                    ),
                )
            )
            .order_by(Message.sent_at)
        )
    )
    audit.record(
        session,
        actor,
        "message.read",
        object_type="message",
        object_id=message.id,
        detail={"signature_valid": opened.verdict.valid, "handling": message.handling},
    )
    grounds = load_grounds(settings.refusal_grounds_file)
    return MessageView(
        message,
        opened,
        agencies[message.sender_agency_id],
        case,
        recipients,
        own,
        can_read_message(
            actor,
            sender_agency_id=message.sender_agency_id,
            recipient_agency_ids=_addressed(rows),
            classification=Classification(message.classification),
            hub_copy=settings.hub_copy,
        ),
        case_title=case_title(session, case, settings),
        refusal_text=grounds.get(message.refusal_ground or "", message.refusal_ground),
        consent=consent,
        replies=replies,
    )


def attachment(
    session: Session,
    actor: Actor,
    message_id: str,
    attachment_id: str,
    *,
    settings: Settings | None = None,
) -> tuple[Attachment, bytes]:
    """One attachment's bytes (audited), checked against the signed hash."""
    settings = settings or get_settings()
    message = load_message(session, message_id)
    _readable(session, actor, message, "message.attachment.read", settings)
    row = session.get(Attachment, attachment_id)
    if row is None or row.message_id != message.id:
        raise NotFound(f"no attachment {attachment_id} on message {message_id}")
    data = _attachment_bytes(session, row, settings)
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise Conflict(f"attachment {row.filename!r} was altered after it was sent")
    audit.record(
        session,
        actor,
        "message.attachment.read",
        object_type="attachment",
        object_id=row.id,
        detail={"message": message.id, "sha256": row.sha256, "size": row.size},
    )
    return row, data


# ── Inbox, counts, requests ─────────────────────────────────────────────────────────────────


class Folder:
    INBOX = "inbox"
    SENT = "sent"


@dataclass(frozen=True, slots=True)
class InboxRow:
    message: Message
    subject: str
    sender_code: str
    own: MessageRecipient | None  # inbox: the actor's delivery row
    recipients: int = 0
    read: int = 0
    answered: int = 0
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class InboxPage:
    rows: list[InboxRow]
    next_cursor: str | None


def _encode_cursor(at: dt.datetime, message_id: str) -> str:
    raw = f"{at.astimezone(dt.UTC).isoformat()}|{message_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, message_id = raw.split("|", 1)
        when = dt.datetime.fromisoformat(at)
        if when.tzinfo is None or len(message_id) > 26:
            raise ValueError(cursor)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("the cursor is not one this server gave out") from exc
    return when, message_id


def inbox(
    session: Session,
    actor: Actor,
    *,
    folder: str = Folder.INBOX,
    unread: bool = False,
    urgent: bool = False,
    overdue: bool = False,
    due_soon: bool = False,
    open_requests: bool = False,
    case_id: str | None = None,
    agency: str | None = None,
    message_type: MessageType | None = None,
    cursor: str | None = None,
    limit: int = 50,
    settings: Settings | None = None,
) -> InboxPage:
    """Received (``inbox``) or sent messages, newest first, filtered, one cursor page."""
    settings = settings or get_settings()
    can_exchange(actor).enforce()
    limit = max(1, min(limit, 200))
    now = utcnow()
    other = agency_ref(session, agency) if agency else None
    if folder == Folder.INBOX:
        r = MessageRecipient
        query = (
            select(r, Message)
            .join(Message, Message.id == r.message_id)
            .where(r.agency_id == actor.agency_id)
        )
        if unread:
            query = query.where(r.read_at.is_(None))
        if urgent:
            query = query.where(r.priority == Priority.URGENT.value)
        if overdue:
            query = query.where(r.closed.is_(False), r.deadline_at < now)
        if due_soon:
            query = query.where(
                r.closed.is_(False), r.deadline_at >= now, r.deadline_at < now + DUE_SOON
            )
        if open_requests:
            query = query.where(r.closed.is_(False))
        if message_type is not None:
            query = query.where(r.message_type == message_type.value)
        if case_id:
            # Driven by the case's own messages, not by a scan of the whole inbox.
            query = query.where(
                r.message_id.in_(select(Message.id).where(Message.case_id == case_id))
            )
        if other is not None:
            query = query.where(Message.sender_agency_id == other.id)
        if cursor:
            at, mid = _decode_cursor(cursor)
            query = query.where(or_(r.sent_at < at, and_(r.sent_at == at, r.message_id < mid)))
        query = query.order_by(r.sent_at.desc(), r.message_id.desc()).limit(limit + 1)
        pairs: list[tuple[MessageRecipient | None, Message]] = [
            (row, msg) for row, msg in session.execute(query).all()
        ]
    elif folder == Folder.SENT:
        sent = select(Message).where(Message.sender_agency_id == actor.agency_id)
        sub = select(MessageRecipient.message_id).where(MessageRecipient.message_id == Message.id)
        if urgent:
            sent = sent.where(Message.priority == Priority.URGENT.value)
        if overdue:
            sent = sent.where(
                exists(
                    sub.where(
                        MessageRecipient.closed.is_(False), MessageRecipient.deadline_at < now
                    )
                )
            )
        if due_soon:
            sent = sent.where(
                exists(
                    sub.where(
                        MessageRecipient.closed.is_(False),
                        MessageRecipient.deadline_at >= now,
                        MessageRecipient.deadline_at < now + DUE_SOON,
                    )
                )
            )
        if open_requests:
            sent = sent.where(exists(sub.where(MessageRecipient.closed.is_(False))))
        if unread:
            sent = sent.where(exists(sub.where(MessageRecipient.read_at.is_(None))))
        if message_type is not None:
            sent = sent.where(Message.message_type == message_type.value)
        if case_id:
            sent = sent.where(Message.case_id == case_id)
        if other is not None:
            sent = sent.where(exists(sub.where(MessageRecipient.agency_id == other.id)))
        if cursor:
            at, mid = _decode_cursor(cursor)
            sent = sent.where(
                or_(Message.sent_at < at, and_(Message.sent_at == at, Message.id < mid))
            )
        sent = sent.order_by(Message.sent_at.desc(), Message.id.desc()).limit(limit + 1)
        pairs = [(None, msg) for msg in session.scalars(sent)]
    else:
        raise ValidationFailed(f"unknown folder {folder!r}: inbox or sent")
    more = len(pairs) > limit
    pairs = pairs[:limit]
    codes = dict(
        session.execute(
            select(Agency.id, Agency.code).where(
                Agency.id.in_({m.sender_agency_id for _, m in pairs})
            )
        ).all()
    )
    stats: dict[str, tuple[int, int, int, bool]] = {}
    if folder == Folder.SENT and pairs:
        for mid, total, read_, answered, late in session.execute(
            select(
                MessageRecipient.message_id,
                func.count(),
                func.count(MessageRecipient.read_at),
                func.count(MessageRecipient.answered_at),
                func.count().filter(
                    MessageRecipient.closed.is_(False), MessageRecipient.deadline_at < now
                ),
            )
            .where(MessageRecipient.message_id.in_([m.id for _, m in pairs]))
            .where(MessageRecipient.kind != HUB)
            .group_by(MessageRecipient.message_id)
        ).all():
            stats[mid] = (int(total), int(read_), int(answered), bool(late))
    rows = []
    for own, m in pairs:
        try:
            subject = open_sealed(
                session, m.subject_sealed, aad=_aad("subject", m.id), settings=settings
            ).decode("utf-8")
        except (DecryptionFailed, UnicodeDecodeError):
            subject = "(subject withheld: it cannot be decrypted)"
        total, read_, answered, late = stats.get(m.id, (0, 0, 0, False))
        is_late = (
            bool(own and not own.closed and own.deadline_at and own.deadline_at < now)
            if own is not None
            else late
        )
        rows.append(
            InboxRow(
                m, subject, codes.get(m.sender_agency_id, "?"), own, total, read_, answered, is_late
            )
        )
    if rows:
        audit.record(
            session,
            actor,
            "message.list",
            object_type="message",
            detail={"folder": folder, "count": len(rows)},
        )
    last = pairs[-1] if more and pairs else None
    next_cursor = (
        _encode_cursor(last[0].sent_at if last[0] is not None else last[1].sent_at, last[1].id)
        if last
        else None
    )
    return InboxPage(rows, next_cursor)


@dataclass(frozen=True, slots=True)
class Counts:
    unread: int
    urgent_unread: int
    open_requests: int
    overdue: int
    due_soon: int
    consents_pending: int
    latest: str | None  # id of the newest received message (pages notice new arrivals)


def counts(session: Session, actor: Actor) -> Counts:
    """The inbox badges: unread, urgent unread, open, overdue and due-soon requests, consents."""
    can_exchange(actor).enforce()
    now = utcnow()
    r = MessageRecipient
    mine = r.agency_id == actor.agency_id
    unread, urgent_unread = session.execute(
        select(
            func.count(),
            func.count().filter(r.priority == Priority.URGENT.value),
        ).where(mine, r.read_at.is_(None))
    ).one()
    open_, late, soon = session.execute(
        select(
            func.count(),
            func.count().filter(r.deadline_at < now),
            func.count().filter(r.deadline_at >= now, r.deadline_at < now + DUE_SOON),
        ).where(mine, r.closed.is_(False))
    ).one()
    pending = session.scalar(
        select(func.count()).where(
            ConsentRequest.provider_agency_id == actor.agency_id,
            ConsentRequest.status == ConsentStatus.PENDING.value,
        )
    )
    latest = session.scalar(
        select(r.message_id).where(mine).order_by(r.sent_at.desc(), r.message_id.desc()).limit(1)
    )
    return Counts(
        int(unread), int(urgent_unread), int(open_), int(late), int(soon), int(pending or 0), latest
    )


# ── Cases ───────────────────────────────────────────────────────────────────────────────────


def create_case(
    session: Session,
    actor: Actor,
    *,
    title: str,
    crime_area: str | None = None,
    participants: Sequence[str] = (),
    settings: Settings | None = None,
) -> Case:
    """Open a case owned by the actor's agency, with the agencies taking part."""
    can_exchange(actor).enforce()
    errors: dict[str, str] = {}
    title = _clean_text(title, "title", 300, errors, required=True)
    if crime_area is not None and crime_area not in configured_crime_areas():
        errors["crime_area"] = f"unknown crime area {crime_area!r}"
    if errors:
        raise ValidationFailed(
            "the case is incomplete: " + "; ".join(f"{k} {v}" for k, v in errors.items()),
            errors=errors,
        )
    sender = _sender(session, actor)
    others = [agency_ref(session, p) for p in participants]
    case = _new_case(session, sender, title, crime_area, settings or get_settings())
    for other in others:
        if other.id != sender.agency.id and other.id not in _participants(session, case.id):
            session.add(CaseParticipant(case_id=case.id, agency_id=other.id))
            session.flush()
    audit.record(
        session,
        actor,
        "case.create",
        object_type="case",
        object_id=case.id,
        detail={"reference": case.reference, "participants": [o.code for o in others]},
    )
    return case


def cases(session: Session, actor: Actor, *, status: CaseStatus | None = None) -> list[Case]:
    """The cases the actor's agency takes part in, newest first."""
    can_exchange(actor).enforce()
    query = (
        select(Case)
        .join(CaseParticipant, CaseParticipant.case_id == Case.id)
        .where(CaseParticipant.agency_id == actor.agency_id)
    )
    if status is not None:
        query = query.where(Case.status == status.value)
    return list(session.scalars(query.order_by(Case.created_at.desc()).limit(500)))


@dataclass(frozen=True, slots=True)
class CaseView:
    case: Case
    title: str
    participants: list[Agency]
    timeline: list[InboxRow]


def case_timeline(
    session: Session, actor: Actor, case_id: str, *, settings: Settings | None = None
) -> CaseView:
    """A case as a timeline of the messages the actor's agency sent or received in it."""
    settings = settings or get_settings()
    case = session.get(Case, case_id)
    ids = _participants(session, case_id) if case else set()
    if case is None or not can_see_case(actor, participant_ids=frozenset(ids)):
        raise NotFound(f"no case {case_id}")
    messages = session.scalars(
        select(Message)
        .where(Message.case_id == case.id)
        .where(
            or_(
                Message.sender_agency_id == actor.agency_id,
                exists().where(
                    MessageRecipient.message_id == Message.id,
                    MessageRecipient.agency_id == actor.agency_id,
                ),
            )
        )
        .order_by(Message.sent_at, Message.id)
    ).all()
    agencies = {a.id: a for a in session.scalars(select(Agency).where(Agency.id.in_(ids)))}
    senders = dict(
        session.execute(
            select(Agency.id, Agency.code).where(
                Agency.id.in_({m.sender_agency_id for m in messages})
            )
        ).all()
    )
    own_rows = {
        row.message_id: row
        for row in session.scalars(
            select(MessageRecipient).where(
                MessageRecipient.agency_id == actor.agency_id,
                MessageRecipient.message_id.in_([m.id for m in messages]),
            )
        )
    }
    timeline = []
    for m in messages:
        try:
            subject = open_sealed(
                session, m.subject_sealed, aad=_aad("subject", m.id), settings=settings
            ).decode("utf-8")
        except (DecryptionFailed, UnicodeDecodeError):
            subject = "(subject withheld: it cannot be decrypted)"
        timeline.append(
            InboxRow(m, subject, senders.get(m.sender_agency_id, "?"), own_rows.get(m.id))
        )
    audit.record(
        session, actor, "case.read", object_type="case", object_id=case.id,
        detail={"messages": len(timeline)},
    )  # fmt: skip
    return CaseView(
        case,
        case_title(session, case, settings),
        sorted(agencies.values(), key=lambda a: a.code),
        timeline,
    )


def set_case_status(session: Session, actor: Actor, case_id: str, status: CaseStatus) -> Case:
    case = session.get(Case, case_id)
    if case is None or not can_see_case(
        actor, participant_ids=frozenset(_participants(session, case_id))
    ):
        raise NotFound(f"no case {case_id}")
    can_manage_case(actor, owner_agency_id=case.owner_agency_id).enforce()
    case.status = status.value
    case.closed_at = utcnow() if status is CaseStatus.CLOSED else None
    audit.record(
        session, actor, f"case.{'close' if status is CaseStatus.CLOSED else 'reopen'}",
        object_type="case", object_id=case.id,
    )  # fmt: skip
    return case


# ── Evaluation codes shown on items ─────────────────────────────────────────────────────────


def evaluation_meaning(code: str | None) -> str | None:
    """The two Article 29 meanings of an item's evaluation code, for display."""
    if not code:
        return None
    try:
        e = Evaluation.parse(code)
    except ValueError:
        return None
    return f"{e.source.value}: {e.source.meaning}; {e.information.value}: {e.information.meaning}"


def markings_of(message: Message) -> Markings:
    return Markings(
        owner_agency_id=message.provider_agency_id,
        handling=HandlingCode(message.handling),
        classification=Classification(message.classification),
        crime_area=message.crime_area,
        h3_conditions=message.h3_conditions,
    )


def markings_dict(m: Markings) -> dict[str, Any]:
    """Markings as shown and exported: the handling code with its meaning, the H1 warning, the
    H3 conditions, the classification with its label."""
    return {
        "handling": m.handling.value,
        "handling_meaning": m.handling.meaning,
        "h3_conditions": m.h3_conditions,
        "judicial_use_warning": m.judicial_use_warning,
        "classification": m.classification.name,
        "classification_label": m.classification.label,
        "crime_area": m.crime_area,
    }


def header_safe(text: str) -> str:
    """Text for an HTTP header: one line of printable ASCII (others escaped)."""
    flat = " ".join(text.split())
    return flat.encode("ascii", "backslashreplace").decode("ascii")[:1000]


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    from urllib.parse import quote

    fallback = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def case_title(session: Session, case: Case, settings: Settings | None = None) -> str:
    """The case's title, decrypted (a placeholder if it cannot be)."""
    try:
        return open_sealed(
            session,
            case.title_sealed,
            aad=_aad("case-title", case.id),
            settings=settings or get_settings(),
        ).decode("utf-8")
    except (DecryptionFailed, UnicodeDecodeError):
        return "(title withheld: it cannot be decrypted)"


# ── Structured message document: export and import ──────────────────────────────────────────


def to_document(
    session: Session, view: MessageView, *, deadline_at: dt.datetime | None = None
) -> dict[str, Any]:
    """A read message as a structured message document (plain data, see docs)."""
    m, o = view.message, view.opened
    codes = {rv.code: rv.kind for rv in view.recipients if rv.kind in ("to", "cc")}
    return {
        "format": "liaison-message/1",
        "id": m.id,
        "case": {"id": view.case.id, "reference": view.case.reference, "title": view.case_title},
        "in_reply_to": m.in_reply_to_id,
        "sender": {"agency": view.sender.code, "user": m.sender_username},
        "recipients": [{"agency": code, "kind": kind} for code, kind in codes.items()],
        "subject": o.subject,
        "body": o.body,
        "message_type": m.message_type,
        "priority": m.priority,
        "accessibility": m.accessibility,
        "legal_basis": m.legal_basis,
        "purpose": m.purpose,
        "crime_area": m.crime_area,
        "markings": {
            "handling": m.handling,
            "h3_conditions": m.h3_conditions,
            "classification": Classification(m.classification).name,
        },
        "sent_at": m.sent_at.isoformat(),
        "deadline_at": deadline_at.isoformat() if deadline_at else None,
        "items": o.items,
        "links": o.links,
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
            }
            for a in o.attachments
        ],
        "signature": {
            "agency": view.sender.code,
            "key_id": m.signature_key_id,
            "algorithm": "Ed25519",
            "value": base64.b64encode(m.signature).decode(),
        },
    }


def export(
    session: Session,
    actor: Actor,
    message_id: str,
    fmt: str,
    *,
    settings: Settings | None = None,
) -> bytes:
    """The message as a JSON or XML document, with its markings (the H1 warning, H3 conditions
    travel in it), items with their evaluation codes, attachment hashes and the signature.
    A message failing its integrity check is not exported."""
    from liaison.exchange import document

    settings = settings or get_settings()
    view = read(session, actor, message_id, settings=settings)
    if not view.opened.verdict.valid:
        raise Conflict(f"this message fails its integrity check: {view.opened.verdict.reason}")
    doc = document.from_data(
        to_document(session, view, deadline_at=view.own.deadline_at if view.own else None)
    )
    audit.record(
        session,
        actor,
        "message.export",
        object_type="message",
        object_id=message_id,
        detail={"format": fmt, "handling": view.message.handling},
    )
    if fmt == "xml":
        return document.to_xml(doc)
    if fmt == "json":
        return document.to_json(doc)
    raise ValidationFailed(f"unknown export format {fmt!r}: json or xml")


def import_document(
    session: Session,
    actor: Actor,
    data: bytes,
    fmt: str,
    *,
    idempotency_key: str | None = None,
    settings: Settings | None = None,
) -> Message:
    """Send a structured message document (JSON or XML) as a new message from the actor."""
    from liaison.exchange import document

    settings = settings or get_settings()
    doc = document.parse_xml(data) if fmt == "xml" else document.parse_json(data)
    own = session.get(Agency, actor.agency_id)
    if own is None or doc.sender.agency.upper() != own.code.upper():
        raise ValidationFailed(
            f"the document's sender is {doc.sender.agency}; you send for "
            f"{own.code if own else actor.agency_id}",
            errors={"/sender/agency": "must be your agency"},
        )
    if doc.attachments:
        raise ValidationFailed(
            "a document names attachments by hash only: send the files with the message "
            "(multipart POST /api/v1/messages)",
            errors={"/attachments": "not accepted on import"},
        )
    if doc.in_reply_to:
        raise ValidationFailed(
            "answer with POST /api/v1/messages/{id}/reply", errors={"/in_reply_to": "not accepted"}
        )
    draft = Draft(
        to=tuple(r.agency for r in doc.recipients if r.kind == "to"),
        cc=tuple(r.agency for r in doc.recipients if r.kind == "cc"),
        subject=doc.subject,
        body=doc.body,
        legal_basis=doc.legal_basis,
        purpose=doc.purpose,
        message_type=MessageType(doc.message_type),
        priority=Priority(doc.priority),
        accessibility=Accessibility(doc.accessibility) if doc.accessibility else None,
        crime_area=doc.crime_area,
        handling=HandlingCode(doc.markings.handling),
        h3_conditions=doc.markings.h3_conditions,
        classification=doc.markings.classification_level,
        case_id=doc.case.id if doc.case and doc.case.id else None,
        case_title=doc.case.title if doc.case else None,
        items=tuple(i.model_dump(mode="json", exclude_none=True) for i in doc.items),
        links=tuple(link.model_dump(mode="json", exclude_none=True) for link in doc.links),
    )
    return send(session, actor, draft, idempotency_key=idempotency_key, settings=settings)
