"""JSON API of alerts, checks and hit reports. Thin: parse, call the service, serialise.

Errors are problem details (RFC 9457); a refused request stores nothing. Checks need a stated
purpose: the ``X-Purpose`` header or the body's ``purpose``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from liaison.alerts import checks, hits, importing, service
from liaison.alerts.categories import CATEGORIES, WARNINGS, review_period
from liaison.alerts.drafts import parse_alert
from liaison.alerts.model import AlertAnswer, HitOutcome
from liaison.core.actor import Actor
from liaison.core.agencies import agency_by_code
from liaison.core.errors import PayloadTooLarge, ValidationFailed
from liaison.core.policy import can_check
from liaison.db.engine import Database
from liaison.entities import formats
from liaison.web.deps import ApiActor, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["alerts"])

MAX_BATCH_BYTES = 20 * 1024 * 1024
MAX_TEXT = 4000

ALERT_EXAMPLE = {
    "category": "arrest_surrender",
    "id": "DE-EAW-2026-0042",
    "subject": {
        "given_name": "Aleksandr",
        "family_name": "Ivanov",
        "name_original": "Александр Иванов",
        "dob": "1980-03-12",
        "nationality": "RU",
        "judicial_authority": "Amtsgericht Köln",
        "warrant_reference": "EAW-2026-0042",
    },
    "reason": "wanted for armed robbery",
    "warnings": ["armed"],
    "crime_area": "robbery_aggravated_theft",
    "handling": "H0",
    "classification": "restricted",
}


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _with_purpose(actor: Actor, purpose: str | None) -> Actor:
    return actor.with_purpose(purpose.strip()) if purpose and purpose.strip() else actor


# ── Categories ───────────────────────────────────────────────────────────────────────────────


@router.get("/alert-categories")
def categories(actor: ApiActor) -> list[dict[str, Any]]:
    """Every alert category: subject types and their properties, the action to be taken,
    what is required, the review period and the sources."""
    out = []
    for category in CATEGORIES.values():
        out.append(
            {
                "code": category.code,
                "label": category.label,
                "family": category.family,
                "subject_kind": category.subject_kind,
                "subjects": {
                    name: {
                        prop.name: {
                            "type": prop.type,
                            "label": prop.label,
                            "required": prop.required,
                            "values": list(prop.values) or None,
                        }
                        for prop in category.subject_type(name).properties.values()
                    }
                    for name in category.subjects
                },
                "one_of": {
                    name: [list(g) for g in category.subject_type(name).one_of]
                    for name in category.subjects
                },
                "legal_basis": category.legal_basis,
                "action": category.action,
                "requires": sorted(category.requires),
                "identifier_kinds": list(category.identifier_kinds),
                "found_by_name": category.checkable_by_name,
                "review_period": str(review_period(category.code)),
                "sources": list(category.sources),
            }
        )
    return out


@router.get("/alert-warnings")
def warnings(actor: ApiActor) -> list[dict[str, str]]:
    """The warnings an alert may carry for the officer."""
    return [{"code": w.code, "label": w.label, "subjects": w.subjects} for w in WARNINGS.values()]


# ── Alerts ───────────────────────────────────────────────────────────────────────────────────


@router.post("/alerts", status_code=status.HTTP_201_CREATED)
def issue(
    session: SessionDep,
    actor: ApiActor,
    body: Annotated[
        dict[str, Any],
        Body(description="the alert", openapi_examples={"arrest": {"value": ALERT_EXAMPLE}}),
    ],
) -> dict[str, Any]:
    """Issue an alert for your agency. Every problem is named by field (``subject.dob``…)."""
    alert = service.issue(session, actor, parse_alert(body))
    return service.read(session, actor, alert.id).as_dict()


@router.get("/alerts")
def list_alerts(
    session: SessionDep,
    actor: ApiActor,
    category: Annotated[str | None, Query(max_length=40)] = None,
    alert_status: Annotated[
        str | None,
        Query(alias="status", pattern="^(active|hit_pending|executed|expired|deleted)$"),
    ] = None,
    issuer: Annotated[str | None, Query(max_length=32, description="agency code")] = None,
    review_due: Annotated[
        int | None, Query(ge=0, le=36_500, description="review due within N days")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=26)] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
) -> dict[str, Any]:
    """Alerts you may see, newest first; ``next_cursor`` pages on."""
    filters = service.AlertFilters(
        category=category,
        status=alert_status,
        issuer_agency_id=agency_by_code(session, issuer).id if issuer else None,
        review_due_days=review_due,
    )
    page = service.list_alerts(session, actor, filters, cursor=cursor, limit=limit)
    return {"items": [v.as_dict() for v in page.items], "next_cursor": page.next_cursor}


@router.get("/alerts/reminders")
def reminders(
    session: SessionDep,
    actor: ApiActor,
    days: Annotated[int, Query(ge=0, le=3650)] = 30,
) -> list[dict[str, Any]]:
    """Your agency's alerts whose review falls within ``days`` (overdue ones first)."""
    return [
        {
            "id": a.id,
            "category": a.category,
            "caption": a.caption,
            "review_date": a.review_date.isoformat(),
            "valid_until": a.valid_until.isoformat() if a.valid_until else None,
            "status": a.status,
        }
        for a in service.reminders(session, actor, days=days)
    ]


@router.post("/alerts/import")
async def import_alerts(
    request: Request,
    actor: ApiActor,
    source_format: Annotated[str | None, Query(alias="format", pattern="^(csv|ndjson)$")] = None,
    filename: Annotated[str, Query(max_length=200)] = "upload",
) -> dict[str, Any]:
    """Import alerts from CSV (``text/csv``) or JSON lines (one alert object per line): the
    per-row report. Rejected rows never abort the import."""
    data = await request.body()
    chosen = source_format or (
        "csv" if "csv" in request.headers.get("content-type", "") else "ndjson"
    )
    report = importing.import_file(
        _database(request), actor, data, source_format=chosen, filename=filename
    )
    return report.as_dict()


@router.get("/alerts/{alert_id}")
def read(alert_id: str, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    """An alert as you may see it; its history when your agency issued it."""
    return service.read(session, actor, alert_id).as_dict()


@router.patch("/alerts/{alert_id}")
def change(
    alert_id: str,
    session: SessionDep,
    actor: ApiActor,
    body: Annotated[dict[str, Any], Body(description="JSON merge patch of the alert")],
) -> dict[str, Any]:
    """Change an alert (issuing agency only): a JSON merge patch; a new version."""
    alert = service.change(session, actor, alert_id, body)
    return {"id": alert.id, "version": alert.version, "status": alert.status}


@router.delete("/alerts/{alert_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(
    alert_id: str,
    session: SessionDep,
    actor: ApiActor,
    reason: Annotated[str, Query(max_length=MAX_TEXT)] = "",
) -> None:
    """Delete an alert (issuing agency only): it leaves every check; its history remains."""
    service.remove(session, actor, alert_id, reason=reason)


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    justification: str = Field(max_length=MAX_TEXT, examples=["the warrant is still in force"])
    until: str | None = Field(None, max_length=10, description="YYYY-MM-DD; default: one period")


@router.post("/alerts/{alert_id}/review")
def review(alert_id: str, body: ReviewIn, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    """Review an alert and keep it: the next review date moves on."""
    until = None
    if body.until:
        try:
            until = dt.date.fromisoformat(body.until)
        except ValueError:
            raise ValidationFailed("until must be YYYY-MM-DD", errors={"until": "date"}) from None
    alert = service.review(session, actor, alert_id, justification=body.justification, until=until)
    return {"id": alert.id, "review_date": alert.review_date.isoformat(), "version": alert.version}


class FlagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=MAX_TEXT, examples=["the offence is time-barred here"])


@router.post("/alerts/{alert_id}/flags", status_code=status.HTTP_201_CREATED)
def add_flag(alert_id: str, body: FlagIn, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    """Flag an alert for your agency: its action is not executed on your territory."""
    row = service.flag(session, actor, alert_id, reason=body.reason)
    return {"id": row.id, "alert_id": row.alert_id, "reason": row.reason, "active": row.active}


@router.delete("/alerts/{alert_id}/flags", status_code=status.HTTP_204_NO_CONTENT)
def remove_flag(alert_id: str, session: SessionDep, actor: ApiActor) -> None:
    """Withdraw your agency's flag."""
    service.unflag(session, actor, alert_id)


# ── Checks ───────────────────────────────────────────────────────────────────────────────────


class PersonCheckIn(BaseModel):
    """A person to check: a name in any script, and whatever else is known."""

    model_config = ConfigDict(extra="forbid")

    purpose: str | None = Field(None, max_length=500, examples=["border check, Terminal 2"])
    full_name: str | None = Field(None, max_length=300, examples=["Aleksandr Ivanov"])
    given_name: str | None = Field(None, max_length=300)
    middle_name: str | None = Field(None, max_length=300)
    family_name: str | None = Field(None, max_length=300)
    name_original: str | None = Field(None, max_length=300, examples=["Александр Иванов"])
    dob: str | None = Field(None, max_length=40, examples=["1980-03-12"])
    gender: str | None = Field(None, max_length=10)
    nationality: str | None = Field(None, max_length=60)
    birth_place: str | None = Field(None, max_length=300)
    document_number: str | None = Field(None, max_length=60)
    document_country: str | None = Field(None, max_length=60)
    national_id: str | None = Field(None, max_length=60)
    mrz: str | None = Field(None, max_length=300, description="machine-readable zone lines")


class ObjectCheckIn(BaseModel):
    """An object to check by its identifier."""

    model_config = ConfigDict(extra="forbid")

    purpose: str | None = Field(None, max_length=500)
    kind: str = Field(max_length=32, examples=["plate"], description="document, plate, vin, …")
    value: str = Field(max_length=300, examples=["B-AB 1234"])
    country: str | None = Field(None, max_length=60, examples=["DE"])
    make: str | None = Field(None, max_length=120, description="firearm make / currency")


def _fields(body: BaseModel) -> dict[str, Any]:
    return {k: v for k, v in body.model_dump().items() if k != "purpose" and v is not None}


@router.post("/checks/person")
def check_person(body: PersonCheckIn, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    """Check a person against the alerts in force: ``no_hit``, or hits with the action to
    take. Audited with the purpose (``X-Purpose`` or ``purpose``)."""
    result = checks.check_person(session, _with_purpose(actor, body.purpose), _fields(body))
    return result.as_dict()


@router.post("/checks/object")
def check_object(body: ObjectCheckIn, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    """Check an object by its identifier (document + issuing country, plate + country, VIN,
    firearm serial + make, …). Audited with the purpose."""
    result = checks.check_object(session, _with_purpose(actor, body.purpose), _fields(body))
    return result.as_dict()


@dataclasses.dataclass(frozen=True, slots=True)
class _Item:
    line: int
    ref: str
    query: checks.Query | None = None
    error: str | None = None
    errors: dict[str, str] | None = None


def _batch_items(data: bytes) -> list[_Item]:
    if len(data) > MAX_BATCH_BYTES:
        raise PayloadTooLarge(
            f"a batch is at most {MAX_BATCH_BYTES // 1024 // 1024} MB "
            f"and {checks.MAX_BATCH:,} items"
        )
    if not data.strip():
        raise ValidationFailed("the batch is empty: send one JSON object per line")
    items: list[_Item] = []
    for line, obj, error in formats.read_ndjson(data):
        if len(items) >= checks.MAX_BATCH:
            raise PayloadTooLarge(f"at most {checks.MAX_BATCH:,} items per batch: split it")
        if error is not None or obj is None:
            items.append(_Item(line, str(line), error=error or "unreadable line"))
            continue
        ref = checks.item_ref(obj, str(line))
        try:
            items.append(_Item(line, ref, checks.parse_item(obj, ref)))
        except ValidationFailed as exc:
            items.append(_Item(line, ref, error=exc.detail, errors=exc.extra.get("errors")))
    return items


@router.post("/checks/batch")
async def check_batch(request: Request, actor: ApiActor) -> StreamingResponse:
    """Up to 10,000 checks, one JSON object per line (``type``: person or object, ``ref``,
    and the fields of the single checks); results stream back as NDJSON in the same order,
    one line per item. A malformed line is that line's ``error``; more items: 413."""
    items = _batch_items(await request.body())
    queries = [i.query for i in items if i.query is not None]
    can_check(actor, person=any(isinstance(q, checks.PersonQuery) for q in queries)).enforce()
    database = _database(request)

    def stream() -> Iterator[bytes]:
        with database.session() as session:
            results = checks.check_batch(session, actor, queries)
            for item in items:
                if item.query is None:
                    line: dict[str, Any] = {
                        "ref": item.ref,
                        "line": item.line,
                        "outcome": "error",
                        "error": item.error,
                    }
                    if item.errors:
                        line["errors"] = item.errors
                else:
                    line = {"line": item.line, **next(results).as_dict()}
                yield (json.dumps(line, ensure_ascii=False, default=str) + "\n").encode()
            for _rest in results:  # drives the last chunk's audit and commit
                pass

    return StreamingResponse(stream(), media_type="application/x-ndjson")


# ── Hit follow-up ────────────────────────────────────────────────────────────────────────────


class HitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    check_details: dict[str, str] = Field(
        default_factory=dict, examples=[{"place": "Schiphol, gate D7", "document": "P1234567"}]
    )
    circumstances: str = Field(max_length=MAX_TEXT, examples=["presented at passport control"])
    action_taken: str = Field(max_length=MAX_TEXT, examples=["held for arrest"])


@router.post("/alerts/{alert_id}/hits", status_code=status.HTTP_201_CREATED)
def confirm_hit(
    alert_id: str, body: HitIn, session: SessionDep, actor: ApiActor, settings: SettingsDep
) -> dict[str, Any]:
    """Confirm a hit: a hit report to the issuing agency (also a hit follow-up message), due
    for an answer within the configured hours; the alert becomes hit pending."""
    report = hits.confirm_hit(
        session,
        actor,
        alert_id,
        check_details=body.check_details,
        circumstances=body.circumstances,
        action_taken=body.action_taken,
        settings=settings,
    )
    return hits.read_report(session, actor, report.id).as_dict()


@router.get("/hit-reports")
def hit_reports(
    session: SessionDep,
    actor: ApiActor,
    overdue: bool = False,
    sent: Annotated[bool, Query(description="reports your agency filed")] = False,
    report_status: Annotated[
        str | None, Query(alias="status", pattern="^(open|answered|false_hit|all)$")
    ] = None,
) -> list[dict[str, Any]]:
    """Your agency's hit-report queue (earliest deadline first; ``overdue=true`` for those past
    it), or with ``sent=true`` the reports it filed."""
    chosen = None if report_status == "all" else report_status
    if report_status is None:
        chosen = None if sent else "open"
    views = hits.hit_report_queue(session, actor, status=chosen, overdue_only=overdue, sent=sent)
    return [v.as_dict() for v in views]


@router.get("/hit-reports/{report_id}")
def hit_report(report_id: str, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    return hits.read_report(session, actor, report_id).as_dict()


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: AlertAnswer
    text: str = Field(max_length=MAX_TEXT, examples=["surrender arranged for tomorrow"])


@router.post("/hit-reports/{report_id}/answer")
def answer(report_id: str, body: AnswerIn, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    """The issuing agency answers: ``executed`` or ``keep_active``."""
    hits.answer_hit_report(session, actor, report_id, answer=body.answer, text=body.text)
    return hits.read_report(session, actor, report_id).as_dict()


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: HitOutcome
    note: str = Field("", max_length=MAX_TEXT)
    distinguishing_details: str = Field(
        "",
        max_length=MAX_TEXT,
        description="for a false hit: what tells this person apart from the subject",
    )
    note_kind: str = Field("look_alike", pattern="^(look_alike|misused_identity)$")


@router.post("/hit-reports/{report_id}/outcome")
def outcome(
    report_id: str, body: OutcomeIn, session: SessionDep, actor: ApiActor
) -> dict[str, Any]:
    """The checking agency records the outcome; a false hit documents who it was not."""
    hits.record_outcome(
        session,
        actor,
        report_id,
        outcome=body.outcome,
        note=body.note,
        distinguishing_details=body.distinguishing_details,
        note_kind=body.note_kind,
    )
    return hits.read_report(session, actor, report_id).as_dict()
