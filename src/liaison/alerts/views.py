"""Pages of alerts and checks: the alert list with its filters, the alert form per category,
the alert page with its history, flags and review, the check page (one form for a person or an
object; the action to take shown unmistakably on every hit), and the hit-report queue with its
deadlines, answers and outcomes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from liaison.alerts import checks, hits, service
from liaison.alerts.categories import (
    CATEGORIES,
    FAMILIES,
    FAMILY_LABELS,
    WARNINGS,
    Category,
    get_category,
    review_period,
)
from liaison.alerts.checks import CheckResult
from liaison.alerts.drafts import parse_alert
from liaison.alerts.identifiers import KINDS, kind_label
from liaison.alerts.model import (
    STATUS_LABELS,
    Alert,
    AlertAnswer,
    AlertStatus,
    HitOutcome,
    HitReport,
    HitStatus,
)
from liaison.core.actor import Actor
from liaison.core.agencies import Agency, agency_by_code
from liaison.core.clock import utcnow
from liaison.core.errors import (
    Conflict,
    LiaisonError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from liaison.core.markings import Classification, HandlingCode, configured_crime_areas
from liaison.core.policy import (
    Capability,
    can,
    can_answer_hit_report,
    can_change_alert,
    can_confirm_hit,
    can_flag_alert,
    can_record_hit_outcome,
    deny,
)
from liaison.entities.schema import EntityType, Property
from liaison.web.deps import SessionDep, SettingsDep, UiActor
from liaison.web.nav import NavItem, register
from liaison.web.templating import render

router = APIRouter(include_in_schema=False)

register(NavItem("Alerts", "/alerts", Capability.ISSUE_ALERT))
register(NavItem("Check", "/check", Capability.CHECK))
register(NavItem("Hit reports", "/hit-reports", Capability.HANDLE_HIT_REPORTS))

# Errors the user can correct: shown on the form with the input kept.
FORM_ERRORS = (ValidationFailed, PermissionDenied, Conflict)
PAGE_SIZE = 50
MAX_FORM_VALUE = 10_000
PERSON_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Names", ("given_name", "middle_name", "family_name", "full_name", "name_original")),
    ("Birth and nationality", ("dob", "gender", "nationality", "birth_place")),
    ("Documents", ("document_number", "document_country", "national_id")),
    (
        "Contact and residence",
        ("phone", "email", "address", "city", "postcode", "country", "profession"),
    ),
)
PERSON_CHECK_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("full_name", "Name as written (any script)", "e.g. Aleksandr Ivanov · Александр Иванов"),
    ("given_name", "Given name(s)", ""),
    ("family_name", "Family name", ""),
    ("dob", "Date of birth", "YYYY-MM-DD, YYYY-MM or YYYY"),
    ("nationality", "Nationality", "e.g. RU or Russia"),
    ("birth_place", "Place of birth", ""),
    ("document_number", "Document number", ""),
    ("document_country", "Document issuing country", "e.g. DE"),
)
OBJECT_CHECK_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("value", "Identifier", "e.g. B-AB 1234 · WVWZZZ1JZXW000001 · C01X00T47"),
    ("country", "Issuing or registration country", "documents, plates, registrations"),
    ("make", "Make (firearms) or currency (banknotes)", "e.g. Glock · EUR"),
)
ANSWERS = {
    AlertAnswer.EXECUTED: "Executed: the action was taken, the alert no longer applies",
    AlertAnswer.KEEP_ACTIVE: "Keep active: the alert stays in force",
}
OUTCOMES = {
    HitOutcome.ACTION_TAKEN: "Action taken as the alert asks",
    HitOutcome.NOT_TAKEN_FLAG: "Not taken: my agency flagged the alert",
    HitOutcome.NOT_TAKEN_OTHER: "Not taken for another reason (say why)",
    HitOutcome.FALSE_HIT: "False hit: not the person or object sought",
}
NOTE_KINDS = {
    "look_alike": "look-alike (a different person with similar details)",
    "misused_identity": "misused identity (the subject used this person's identity)",
}
HIT_STATUS_LABELS = {
    HitStatus.OPEN.value: "open — to answer",
    HitStatus.ANSWERED.value: "answered",
    HitStatus.FALSE_HIT.value: "false hit",
}
FALSE_HIT_ACTION = "none: the person or object checked is not the one sought (false hit)"


# ── Submitted forms ──────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Kept:
    """The values of a submitted form, kept to fill the form again after an error."""

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, form: FormData) -> Kept:
        values: dict[str, list[str]] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                values.setdefault(key, []).append(value[:MAX_FORM_VALUE])
        return cls({k: tuple(v) for k, v in values.items()})

    def get(self, name: str, default: str = "") -> str:
        got = self.values.get(name)
        return got[0] if got else default

    def text(self, name: str) -> str:
        return self.get(name).replace("\r\n", "\n").strip()

    def all(self, name: str) -> tuple[str, ...]:
        return self.values.get(name, ())

    def has(self, name: str, value: str) -> bool:
        return value in self.values.get(name, ())


async def submitted(request: Request) -> Kept:
    """The request's form (read once; the CSRF check has read it already)."""
    return Kept.of(await request.form())


FormDep = Annotated[Kept, Depends(submitted)]


def _errors_of(exc: LiaisonError) -> dict[str, str]:
    errors = exc.extra.get("errors")
    if isinstance(errors, Mapping):
        return {str(k): str(v) for k, v in errors.items()}
    return {}


def _form_error(exc: LiaisonError) -> dict[str, Any]:
    """What a form shows about a refusal: the message and the problem of each field."""
    return {"error": exc.detail, "errors": _errors_of(exc)}


# ── Access ───────────────────────────────────────────────────────────────────────────────────


def _enforce_alert_roles(actor: Actor) -> None:
    """Alert pages are for those who check, issue alerts or handle hit reports."""
    for capability in (Capability.ISSUE_ALERT, Capability.HANDLE_HIT_REPORTS, Capability.CHECK):
        if can(actor, capability).allowed:
            return
    deny("none of your roles includes checks or alerts").enforce()


def _today() -> dt.date:
    return utcnow().date()


# ── Alert list ───────────────────────────────────────────────────────────────────────────────


def _families() -> list[tuple[str, list[Category]]]:
    return [
        (FAMILY_LABELS[family], [c for c in CATEGORIES.values() if c.family == family])
        for family in FAMILIES
    ]


def _agency_codes(session: Session) -> list[str]:
    return list(session.scalars(select(Agency.code).where(Agency.active).order_by(Agency.code)))


@router.get("/alerts")
def alerts_page(
    request: Request,
    session: SessionDep,
    actor: UiActor,
    category: Annotated[str, Query(max_length=40)] = "",
    status: Annotated[str, Query(pattern="^(|active|hit_pending|executed|expired|deleted)$")] = "",
    issuer: Annotated[str, Query(max_length=32)] = "",
    review_due: Annotated[str, Query(pattern=r"^\d{0,5}$")] = "",
    cursor: Annotated[str, Query(max_length=26)] = "",
) -> Response:
    _enforce_alert_roles(actor)
    filters = {"category": category, "status": status, "issuer": issuer, "review_due": review_due}
    context: dict[str, Any] = {
        "filters": filters,
        "cursor": cursor,
        "page": service.AlertPage(),
        "error": None,
        "families": _families(),
        "statuses": list(AlertStatus),
        "agencies": _agency_codes(session),
        "warnings": WARNINGS,
        "today": _today(),
        "can_issue": can(actor, Capability.ISSUE_ALERT).allowed,
        "query": {k: v for k, v in filters.items() if v},
    }
    try:
        chosen = service.AlertFilters(
            category=category or None,
            status=status or None,
            issuer_agency_id=agency_by_code(session, issuer).id if issuer else None,
            review_due_days=int(review_due) if review_due else None,
        )
        context["page"] = service.list_alerts(
            session, actor, chosen, cursor=cursor or None, limit=PAGE_SIZE
        )
    except (ValidationFailed, NotFound) as exc:
        context["error"] = exc.detail
    return render(request, "alerts/list.html", context)


# ── Alert form ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class FieldGroup:
    title: str
    fields: list[Property]


def _subject_groups(category: Category, etype: EntityType) -> list[FieldGroup]:
    """The subject's properties in groups: a person's names, birth, documents…; then what the
    category adds."""
    props = etype.properties
    used: set[str] = set()
    groups: list[FieldGroup] = []
    if etype.name == "Person":
        for title, names in PERSON_GROUPS:
            present = [props[n] for n in names if n in props and n not in category.extra]
            used.update(p.name for p in present)
            if present:
                groups.append(FieldGroup(title, present))
    base = [p for n, p in props.items() if n not in used and n not in category.extra]
    if base:
        groups.append(FieldGroup(etype.label, base))
    extra = [props[n] for n in category.extra if n in props]
    if extra:
        groups.append(FieldGroup(f"Required for: {category.label}", extra))
    return groups


def _one_of(etype: EntityType) -> list[str]:
    """What the subject needs at least one of, group by group (marked † on the form)."""
    hints: list[str] = []
    for group in etype.one_of:
        labels = " or ".join(etype.properties[n].label for n in group if n in etype.properties)
        hint = f"† Give at least one of: {labels}."
        if hint not in hints:
            hints.append(hint)
    return hints


def _subject_type(category: Category, given: str) -> str:
    if not given:
        return category.subjects[0]
    if given not in category.subjects:
        raise ValidationFailed(
            f"a {category.label!r} alert describes {' or '.join(category.subjects)}, not {given!r}",
            errors={"subject_type": "choose one of the list"},
        )
    return given


def _form_context(
    actor: Actor, category: Category, subject_type: str, kept: Kept
) -> dict[str, Any]:
    etype = category.subject_type(subject_type)
    period = review_period(category.code)
    today = _today()
    return {
        "category": category,
        "subject_type": subject_type,
        "etype": etype,
        "groups": _subject_groups(category, etype),
        "one_of": _one_of(etype),
        "one_of_names": {name for group in etype.one_of for name in group},
        "identifier_kinds": [kind_label(k) for k in category.identifier_kinds],
        "alert_warnings": [w for w in WARNINGS.values() if w.applies_to(category.subject_kind)],
        "handling_codes": list(HandlingCode),
        "classifications": list(Classification),
        "crime_areas": configured_crime_areas(),
        "review_period": str(period),
        "review_default": period.after(today),
        "today": today,
        "kept": kept,
        "errors": {},
        "error": None,
        "personal_data_refused": etype.personal_data and not actor.personal_data_allowed,
    }


@router.get("/alerts/new")
def new_alert_page(
    request: Request,
    actor: UiActor,
    category: Annotated[str, Query(max_length=40)] = "",
    subject_type: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    can(actor, Capability.ISSUE_ALERT).enforce()
    if not category:
        return render(request, "alerts/choose.html", {"families": _families(), "error": None})
    try:
        chosen = get_category(category)
        type_name = _subject_type(chosen, subject_type)
    except ValidationFailed as exc:
        return render(
            request,
            "alerts/choose.html",
            {"families": _families(), "error": exc.detail},
            status=exc.status,
        )
    legal = Kept({"legal_basis": (chosen.legal_basis,)})
    return render(request, "alerts/form.html", _form_context(actor, chosen, type_name, legal))


def _raw_alert(kept: Kept, category: Category, etype: EntityType) -> dict[str, Any]:
    """The alert as plain data from the form (empty fields left out)."""
    subject = {
        name: kept.text(f"subject.{name}")
        for name in etype.properties
        if kept.text(f"subject.{name}")
    }
    raw: dict[str, Any] = {
        "category": category.code,
        "subject_type": etype.name,
        "subject": subject,
    }
    for name in (
        "id",
        "reason",
        "legal_basis",
        "instructions",
        "valid_until",
        "review_date",
        "handling",
        "h3_conditions",
        "classification",
        "crime_area",
        "diffusion_countries",
        "related_alerts",
        "entities",
    ):
        value = kept.text(name)
        if value:
            raw[name] = value
    warnings = [w for w in kept.all("warnings") if w]
    if warnings:
        raw["warnings"] = warnings
    return raw


@router.post("/alerts")
def issue_alert(request: Request, session: SessionDep, actor: UiActor, kept: FormDep) -> Response:
    can(actor, Capability.ISSUE_ALERT).enforce()
    try:
        category = get_category(kept.text("category"))
        type_name = _subject_type(category, kept.text("subject_type"))
    except ValidationFailed as exc:
        return render(
            request,
            "alerts/choose.html",
            {"families": _families(), "error": exc.detail},
            status=exc.status,
        )
    context = _form_context(actor, category, type_name, kept)
    try:
        draft = parse_alert(_raw_alert(kept, category, context["etype"]))
        alert = service.issue(session, actor, draft)
    except FORM_ERRORS as exc:
        session.rollback()
        errors = _errors_of(exc)
        if isinstance(exc, Conflict):
            errors.setdefault("id", exc.detail)
        context |= {"error": exc.detail, "errors": errors}
        return render(request, "alerts/form.html", context, status=exc.status)
    return RedirectResponse(f"/alerts/{alert.id}?done=issued", status_code=303)


# ── Alert page ───────────────────────────────────────────────────────────────────────────────


def _show(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in sorted(value.items()))
    return str(value)


def changes_between(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What a version changed, field by field (subject property by property)."""
    out: list[str] = []
    for key in new:
        if key == "subject":
            before = old.get("subject") or {}
            after = new.get("subject") or {}
            for name in sorted(set(before) | set(after)):
                if before.get(name) != after.get(name):
                    out.append(f"{name}: {_show(before.get(name))} → {_show(after.get(name))}")
        elif old.get(key) != new.get(key):
            out.append(f"{key.replace('_', ' ')}: {_show(old.get(key))} → {_show(new.get(key))}")
    return out


@dataclass(frozen=True, slots=True)
class ReportRow:
    """A hit report on the alert page: the other agency and where it stands."""

    report: HitReport
    checking_code: str
    issuer_code: str


def _reports_on(session: Session, actor: Actor, alert: Alert) -> list[ReportRow]:
    """Hit reports on this alert that the actor's agency filed or received."""
    reports = list(
        session.scalars(
            select(HitReport)
            .where(
                HitReport.alert_id == alert.id,
                or_(
                    HitReport.issuer_agency_id == actor.agency_id,
                    HitReport.checking_agency_id == actor.agency_id,
                ),
            )
            .order_by(HitReport.created_at.desc(), HitReport.id)
            .limit(200)
        )
    )
    codes = service.agency_codes(
        session,
        {r.checking_agency_id for r in reports} | {r.issuer_agency_id for r in reports},
    )
    return [
        ReportRow(r, codes.get(r.checking_agency_id, "?"), codes.get(r.issuer_agency_id, "?"))
        for r in reports
    ]


def _detail_context(session: Session, actor: Actor, alert_id: str) -> dict[str, Any]:
    view = service.read(session, actor, alert_id)
    alert = view.alert
    versions = list(view.versions)
    history = [
        (
            v,
            changes_between(versions[i + 1].snapshot, v.snapshot) if i + 1 < len(versions) else [],
        )
        for i, v in enumerate(versions)
    ]
    in_force = alert.in_force
    etype = view.category.subject_type(alert.subject_type) if view.full else None
    today = _today()
    return {
        "view": view,
        "alert": alert,
        "etype": etype,
        "history": history,
        "reports": _reports_on(session, actor, alert) if view.full else [],
        "notes": [service.note_dict(n) for n in view.notes],
        "warnings": WARNINGS,
        "status_label": STATUS_LABELS[AlertStatus(alert.status)],
        "may_change": in_force
        and can_change_alert(actor, issuer_agency_id=alert.issuer_agency_id).allowed,
        "may_delete": alert.status != AlertStatus.DELETED.value
        and can_change_alert(actor, issuer_agency_id=alert.issuer_agency_id).allowed,
        "may_flag": in_force
        and can_flag_alert(actor, issuer_agency_id=alert.issuer_agency_id).allowed,
        "my_flag": next((f for f in view.flags if f.mine), None),
        "review_latest": review_period(alert.category).after(today),
        "review_period": str(review_period(alert.category)),
        "review_overdue": in_force and alert.review_date < today,
        "today": today,
        "kept": Kept(),
        "errors": {},
        "error": None,
        "error_form": None,
        "done": None,
    }


DONE = {
    "issued": "The alert was issued. Checks find it from now on.",
    "reviewed": "The alert was reviewed; its next review date moved on.",
    "flagged": "Your agency's flag is recorded: the action is not executed on your territory.",
    "unflagged": "Your agency's flag was withdrawn.",
    "deleted": "The alert was deleted: it leaves every check; its history remains.",
}


@router.get("/alerts/{alert_id}")
def alert_page(
    alert_id: str,
    request: Request,
    session: SessionDep,
    actor: UiActor,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    _enforce_alert_roles(actor)
    context = _detail_context(session, actor, alert_id)
    context["done"] = DONE.get(done)
    return render(request, "alerts/detail.html", context)


def _detail_error(
    request: Request,
    session: Session,
    actor: Actor,
    alert_id: str,
    exc: LiaisonError,
    form: str,
    kept: Kept,
) -> Response:
    """The alert page again, the refused form showing why, with what was typed."""
    session.rollback()
    context = _detail_context(session, actor, alert_id)
    context |= _form_error(exc) | {"error_form": form, "kept": kept}
    return render(request, "alerts/detail.html", context, status=exc.status)


@router.post("/alerts/{alert_id}/review")
def review_alert(
    alert_id: str, request: Request, session: SessionDep, actor: UiActor, kept: FormDep
) -> Response:
    try:
        until_text = kept.text("until")
        try:
            until = dt.date.fromisoformat(until_text) if until_text else None
        except ValueError:
            raise ValidationFailed(
                f"{until_text[:20]!r} is not a date (YYYY-MM-DD)", errors={"until": "date"}
            ) from None
        service.review(
            session, actor, alert_id, justification=kept.text("justification"), until=until
        )
    except FORM_ERRORS as exc:
        return _detail_error(request, session, actor, alert_id, exc, "review", kept)
    return RedirectResponse(f"/alerts/{alert_id}?done=reviewed", status_code=303)


@router.post("/alerts/{alert_id}/flag")
def flag_alert(
    alert_id: str, request: Request, session: SessionDep, actor: UiActor, kept: FormDep
) -> Response:
    try:
        service.flag(session, actor, alert_id, reason=kept.text("reason"))
    except FORM_ERRORS as exc:
        return _detail_error(request, session, actor, alert_id, exc, "flag", kept)
    return RedirectResponse(f"/alerts/{alert_id}?done=flagged", status_code=303)


@router.post("/alerts/{alert_id}/unflag")
def unflag_alert(alert_id: str, request: Request, session: SessionDep, actor: UiActor) -> Response:
    service.unflag(session, actor, alert_id)
    return RedirectResponse(f"/alerts/{alert_id}?done=unflagged", status_code=303)


@router.post("/alerts/{alert_id}/delete")
def delete_alert(
    alert_id: str, request: Request, session: SessionDep, actor: UiActor, kept: FormDep
) -> Response:
    try:
        service.remove(session, actor, alert_id, reason=kept.text("reason"))
    except FORM_ERRORS as exc:
        return _detail_error(request, session, actor, alert_id, exc, "delete", kept)
    return RedirectResponse(f"/alerts/{alert_id}?done=deleted", status_code=303)


# ── The check page ───────────────────────────────────────────────────────────────────────────


def _check_context(actor: Actor, kind: str, kept: Kept) -> dict[str, Any]:
    return {
        "kind": kind,
        "kept": kept,
        "person_fields": PERSON_CHECK_FIELDS,
        "object_fields": OBJECT_CHECK_FIELDS,
        "kinds": [(k, kind_label(k)) for k in KINDS],
        "person_refused": None
        if actor.personal_data_allowed
        else (
            f"Your agency's framework ({actor.framework.label}) excludes personal data: "
            "person checks are not available to it. Objects can be checked."
        ),
        "may_report": can_confirm_hit(actor).allowed,
        "warnings": WARNINGS,
        "result": None,
        "checked_at": None,
        "error": None,
        "errors": {},
    }


@router.get("/check")
def check_page(
    request: Request,
    actor: UiActor,
    kind: Annotated[str, Query(pattern="^(person|object)$")] = "person",
) -> Response:
    can(actor, Capability.CHECK).enforce()
    if kind == "person" and not actor.personal_data_allowed:
        kind = "object"
    return render(request, "alerts/check.html", _check_context(actor, kind, Kept()))


def _check_fields(kept: Kept, names: Sequence[str]) -> dict[str, str]:
    return {name: kept.text(name) for name in names if kept.text(name)}


@router.post("/check")
def run_check(request: Request, session: SessionDep, actor: UiActor, kept: FormDep) -> Response:
    can(actor, Capability.CHECK).enforce()
    kind = "object" if kept.get("type") == "object" else "person"
    context = _check_context(actor, kind, kept)
    checker = actor.with_purpose(kept.text("purpose") or None)
    try:
        result: CheckResult
        if kind == "person":
            names = [name for name, _label, _hint in PERSON_CHECK_FIELDS] + ["gender"]
            result = checks.check_person(session, checker, _check_fields(kept, names))
        else:
            result = checks.check_object(
                session, checker, _check_fields(kept, ("kind", "value", "country", "make"))
            )
    except FORM_ERRORS as exc:
        session.rollback()
        return render(request, "alerts/check.html", context | _form_error(exc), status=exc.status)
    context |= {"result": result, "checked_at": utcnow()}
    return render(request, "alerts/check.html", context)


def _hit_form(
    request: Request,
    session: Session,
    actor: Actor,
    alert_id: str,
    mode: str,
    kept: Kept,
    exc: LiaisonError,
) -> Response:
    """The confirm (or false-hit) form again, with why it was refused and what was typed."""
    session.rollback()
    view = service.read(session, actor, alert_id)
    context = {"view": view, "mode": mode, "kept": kept, "warnings": WARNINGS}
    context |= _form_error(exc) | {"note_kinds": NOTE_KINDS}
    return render(request, "alerts/hit_form.html", context, status=exc.status)


def _check_details(kept: Kept) -> dict[str, str]:
    details = {
        "place": kept.text("place"),
        "checked": kept.text("query"),
        "match strength": kept.text("band"),
        "purpose": kept.text("purpose"),
    }
    return {k: v[:1000] for k, v in details.items() if v}


@router.post("/check/hits/{alert_id}")
def confirm_hit(
    alert_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: UiActor,
    kept: FormDep,
) -> Response:
    """Confirm a hit: the hit report goes to the issuing agency, due within the deadline."""
    reporter = actor.with_purpose(kept.text("purpose") or None)
    try:
        report = hits.confirm_hit(
            session,
            reporter,
            alert_id,
            check_details=_check_details(kept),
            circumstances=kept.text("circumstances"),
            action_taken=kept.text("action_taken"),
            settings=settings,
        )
    except FORM_ERRORS as exc:
        return _hit_form(request, session, actor, alert_id, "confirm", kept, exc)
    return RedirectResponse(f"/hit-reports/{report.id}?done=reported", status_code=303)


@router.post("/check/false-hits/{alert_id}")
def false_hit(
    alert_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: UiActor,
    kept: FormDep,
) -> Response:
    """Not the person (or object) sought: the hit is reported as false and the details that tell
    them apart become a note on the alert, shown on every later hit."""
    reporter = actor.with_purpose(kept.text("purpose") or None)
    try:
        if not kept.text("distinguishing_details"):
            raise ValidationFailed(
                "say what tells this person (or object) apart from the one sought",
                errors={"distinguishing_details": "required"},
            )
        report = hits.confirm_hit(
            session,
            reporter,
            alert_id,
            check_details=_check_details(kept),
            circumstances=kept.text("circumstances"),
            action_taken=FALSE_HIT_ACTION,
            settings=settings,
        )
        hits.record_outcome(
            session,
            reporter,
            report.id,
            outcome=HitOutcome.FALSE_HIT,
            note=kept.text("note"),
            distinguishing_details=kept.text("distinguishing_details"),
            note_kind=kept.text("note_kind") or "look_alike",
        )
    except FORM_ERRORS as exc:
        return _hit_form(request, session, actor, alert_id, "false_hit", kept, exc)
    return RedirectResponse(f"/hit-reports/{report.id}?done=false_hit", status_code=303)


# ── Hit reports ──────────────────────────────────────────────────────────────────────────────


def remaining(deadline: dt.datetime, now: dt.datetime) -> str:
    """``in 11 h 59 min`` or ``overdue by 2 h 05 min``."""
    seconds = int((deadline - now).total_seconds())
    late = seconds < 0
    minutes = abs(seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    text = (f"{days} d " if days else "") + f"{hours} h {mins:02d} min"
    return f"overdue by {text}" if late else f"in {text}"


@router.get("/hit-reports")
def hit_reports_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: UiActor,
    status: Annotated[str, Query(pattern="^(open|answered|false_hit|all)$")] = "open",
    overdue: Annotated[str, Query(pattern="^(|1)$")] = "",
    sent: Annotated[str, Query(pattern="^(|0|1)$")] = "",
) -> Response:
    receives = can(actor, Capability.HANDLE_HIT_REPORTS).allowed
    reports_hits = can_confirm_hit(actor).allowed
    if not receives and not reports_hits:
        can(actor, Capability.HANDLE_HIT_REPORTS).enforce()
    outgoing = sent == "1" or (sent == "" and not receives)
    views = hits.hit_report_queue(
        session,
        actor,
        status=None if status == "all" else status,
        overdue_only=overdue == "1",
        sent=outgoing,
    )
    now = utcnow()
    return render(
        request,
        "alerts/hit_reports.html",
        {
            "views": views,
            "status": status,
            "overdue": overdue == "1",
            "sent": outgoing,
            "receives": receives,
            "reports_hits": reports_hits,
            "now": now,
            "remaining": remaining,
            "overdue_count": sum(1 for v in views if v.overdue),
            "deadline_hours": settings.hit_report_deadline_hours,
            "status_labels": HIT_STATUS_LABELS,
        },
    )


def _report_context(
    session: Session, actor: Actor, report_id: str, deadline_hours: int
) -> dict[str, Any]:
    view = hits.read_report(session, actor, report_id)
    report = view.report
    alert = session.get(Alert, report.alert_id)
    open_ = report.status == HitStatus.OPEN.value
    outcomes = dict(OUTCOMES)
    if not report.flagged_here:
        outcomes.pop(HitOutcome.NOT_TAKEN_FLAG)
    return {
        "v": view,
        "report": report,
        "alert_status": STATUS_LABELS[AlertStatus(alert.status)] if alert else "—",
        "now": utcnow(),
        "remaining": remaining,
        "deadline_hours": deadline_hours,
        "may_answer": open_
        and can_answer_hit_report(actor, issuer_agency_id=report.issuer_agency_id).allowed,
        "may_record": report.outcome is None
        and can_record_hit_outcome(actor, checking_agency_id=report.checking_agency_id).allowed,
        "may_read_message": can(actor, Capability.EXCHANGE).allowed and report.message_id,
        "answers": ANSWERS,
        "outcomes": outcomes,
        "note_kinds": NOTE_KINDS,
        "status_labels": HIT_STATUS_LABELS,
        "kept": Kept(),
        "errors": {},
        "error": None,
        "error_form": None,
        "done": None,
    }


REPORT_DONE = {
    "reported": "Hit confirmed and reported to the issuing agency.",
    "false_hit": (
        "Recorded as a false hit: the issuing agency is told, and the details you gave are "
        "shown on every later hit of this alert."
    ),
    "answered": "Your answer was sent to the checking agency.",
    "outcome": "The outcome is recorded and sent to the issuing agency.",
}


@router.get("/hit-reports/{report_id}")
def hit_report_page(
    report_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: UiActor,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    context = _report_context(session, actor, report_id, settings.hit_report_deadline_hours)
    context["done"] = REPORT_DONE.get(done)
    return render(request, "alerts/hit_report.html", context)


def _report_error(
    request: Request,
    session: Session,
    actor: Actor,
    report_id: str,
    deadline_hours: int,
    exc: LiaisonError,
    form: str,
    kept: Kept,
) -> Response:
    session.rollback()
    context = _report_context(session, actor, report_id, deadline_hours)
    context |= _form_error(exc) | {"error_form": form, "kept": kept}
    return render(request, "alerts/hit_report.html", context, status=exc.status)


@router.post("/hit-reports/{report_id}/answer")
def answer_report(
    report_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: UiActor,
    kept: FormDep,
) -> Response:
    try:
        hits.answer_hit_report(
            session, actor, report_id, answer=kept.text("answer"), text=kept.text("text")
        )
    except FORM_ERRORS as exc:
        hours = settings.hit_report_deadline_hours
        return _report_error(request, session, actor, report_id, hours, exc, "answer", kept)
    return RedirectResponse(f"/hit-reports/{report_id}?done=answered", status_code=303)


@router.post("/hit-reports/{report_id}/outcome")
def record_outcome(
    report_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: UiActor,
    kept: FormDep,
) -> Response:
    try:
        hits.record_outcome(
            session,
            actor,
            report_id,
            outcome=kept.text("outcome"),
            note=kept.text("note"),
            distinguishing_details=kept.text("distinguishing_details"),
            note_kind=kept.text("note_kind") or "look_alike",
        )
    except FORM_ERRORS as exc:
        hours = settings.hit_report_deadline_hours
        return _report_error(request, session, actor, report_id, hours, exc, "outcome", kept)
    return RedirectResponse(f"/hit-reports/{report_id}?done=outcome", status_code=303)
