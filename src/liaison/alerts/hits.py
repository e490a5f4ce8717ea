"""Hit follow-up (the SIRENE process): confirm, report, answer, record the outcome.

An officer who confirms a hit files a hit report to the issuing agency with the check details,
the circumstances and the action taken; it travels as a secure-exchange message of type *hit
follow-up*, and the issuing agency must answer within ``LIAISON_HIT_REPORT_DEADLINE_HOURS``
(12 by default: SIRENE Manual, "a response shall be given within 12 hours"). The alert is
*hit pending* until the answer: *executed*, or kept *active*. The checking officer records the
outcome — action taken, not taken because the agency flagged the alert, or a false hit, which
adds a documented "misused identity / look-alike" note to the alert so that the same innocent
person is not stopped again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from liaison.alerts.categories import CATEGORIES
from liaison.alerts.identifiers import text_problem
from liaison.alerts.model import (
    Alert,
    AlertAnswer,
    AlertFlag,
    AlertNote,
    AlertStatus,
    HitOutcome,
    HitReport,
    HitStatus,
)
from liaison.alerts.service import agency_codes, load, set_status, visibility
from liaison.core import audit
from liaison.core.actor import Actor
from liaison.core.clock import utcnow
from liaison.core.errors import Conflict, LiaisonError, NotFound, ValidationFailed
from liaison.core.ids import new_id
from liaison.core.markings import Classification, HandlingCode
from liaison.core.policy import (
    Visibility,
    can_answer_hit_report,
    can_confirm_hit,
    can_record_hit_outcome,
    can_see_hit_report,
)
from liaison.core.settings import Settings, get_settings
from liaison.exchange.model import MessageType, Priority
from liaison.exchange.service import Draft, reply, send

MAX_TEXT = 4000
MAX_DETAILS = 40
NOTE_KINDS = ("look_alike", "misused_identity")


def _text(value: str | None, name: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    problem = text_problem(text)
    if problem:
        raise ValidationFailed(f"{name} {problem}", errors={name: problem})
    if required and not text:
        raise ValidationFailed(f"give the {name.replace('_', ' ')}", errors={name: "required"})
    if len(text) > limit:
        raise ValidationFailed(f"{name} is longer than {limit} characters", errors={name: "long"})
    return text


def _details(details: Mapping[str, Any]) -> dict[str, str]:
    """Check details (place, time, what was checked…) as short text values."""
    if not isinstance(details, Mapping):
        raise ValidationFailed("check details must be an object of name → text")
    if len(details) > MAX_DETAILS:
        raise ValidationFailed(f"at most {MAX_DETAILS} check details")
    out: dict[str, str] = {}
    for key, value in details.items():
        name = str(key).strip()[:60]
        if value is None or value == "":
            continue
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValidationFailed(f"check detail {name!r} must be text")
        out[name] = _text(str(value), f"check detail {name}", limit=1000)
    return out


# ── Messages through the secure exchange ────────────────────────────────────────────────────


def _send_hit_message(
    session: Session, actor: Actor, report: HitReport, alert: Alert, issuer_code: str
) -> str:
    """Send the hit report to the issuing agency as a secure-exchange message of type hit
    follow-up (urgent, with the alert's markings; the exchange sets the answer deadline on the
    issuer's copy). Returns the message id."""
    category = CATEGORIES[alert.category]
    lines = [
        f"Hit on your alert {alert.id} ({category.label}): {alert.caption}",
        f"Hit report: {report.id}",
        f"Checked by {actor.agency_code} ({actor.username}) on {report.created_at.isoformat()}",
        "",
        "Check details:",
        *(f"  {k}: {v}" for k, v in sorted(report.check_details.items())),
        "",
        f"Circumstances: {report.circumstances}",
        f"Action taken: {report.action_taken}",
    ]
    if report.flagged_here:
        lines.append(f"The action is not executed here: {actor.agency_code} flagged this alert.")
    lines.append(f"Answer by {report.deadline.isoformat()}.")
    message = send(
        session,
        actor,
        Draft(
            to=(issuer_code,),
            subject=f"Hit report: {category.label} — {alert.caption}"[:300],
            body="\n".join(lines),
            legal_basis=alert.legal_basis[:300],
            purpose=(actor.purpose or f"follow-up of a hit on alert {alert.id}")[:500],
            message_type=MessageType.HIT_FOLLOW_UP,
            priority=Priority.URGENT,
            crime_area=alert.crime_area,
            handling=HandlingCode(alert.handling),
            h3_conditions=alert.h3_conditions,
            classification=Classification(alert.classification),
            personal_data=alert.personal_data,
            reference=("hit_report", report.id),
        ),
    )
    return message.id


def _reply_in_thread(
    session: Session, actor: Actor, report: HitReport, alert: Alert, subject: str, body: str
) -> str | None:
    """Answer (issuer) or follow up (checking agency) in the hit report's message thread.

    The hit report itself is the record of the answer or outcome: when the exchange refuses the
    reply (a closed case, a role without messaging), the report is still updated and the reason
    is returned for the audit entry."""
    if report.message_id is None:
        return "no message thread"
    draft = Draft(
        to=(),
        subject=subject[:300],
        body=body,
        legal_basis=alert.legal_basis[:300],
        purpose=(actor.purpose or f"follow-up of hit report {report.id}")[:500],
        crime_area=alert.crime_area,
        handling=HandlingCode(alert.handling),
        h3_conditions=alert.h3_conditions,
        classification=Classification(alert.classification),
        personal_data=alert.personal_data,
        reference=("hit_report", report.id),
    )
    try:
        with session.begin_nested():
            reply(session, actor, report.message_id, draft)
    except LiaisonError as exc:
        return exc.detail[:300]
    return None


# ── Confirm, answer, record the outcome ──────────────────────────────────────────────────────


def _flagged(session: Session, alert_id: str, agency_id: str) -> bool:
    return (
        session.scalar(
            select(AlertFlag.id).where(
                AlertFlag.alert_id == alert_id,
                AlertFlag.agency_id == agency_id,
                AlertFlag.active.is_(True),
            )
        )
        is not None
    )


def confirm_hit(
    session: Session,
    actor: Actor,
    alert_id: str,
    *,
    check_details: Mapping[str, Any],
    circumstances: str,
    action_taken: str,
    settings: Settings | None = None,
) -> HitReport:
    """Confirm a hit: a hit report to the issuing agency (also sent as a hit follow-up
    message), answer due within the configured hours; the alert becomes hit pending."""
    settings = settings or get_settings()
    can_confirm_hit(actor).enforce()
    alert = load(session, alert_id)
    decision = visibility(session, actor, alert)
    if decision.visibility is not Visibility.FULL:
        raise NotFound(f"no alert {alert_id}")
    if alert.issuer_agency_id == actor.agency_id:
        raise ValidationFailed("a hit on your own agency's alert is followed up internally")
    if not alert.in_force:
        raise Conflict(
            f"the alert is {AlertStatus(alert.status).label}: there is nothing to report"
        )
    now = utcnow()
    report = HitReport(
        id=new_id(),
        alert_id=alert.id,
        issuer_agency_id=alert.issuer_agency_id,
        checking_agency_id=actor.agency_id,
        checked_by=actor.username,
        checked_by_user_id=actor.user_id,
        check_details=_details(check_details),
        circumstances=_text(circumstances, "circumstances"),
        action_taken=_text(action_taken, "action_taken"),
        flagged_here=_flagged(session, alert.id, actor.agency_id),
        status=HitStatus.OPEN.value,
        deadline=now + dt.timedelta(hours=settings.hit_report_deadline_hours),
        created_at=now,
    )
    session.add(report)
    session.flush()
    issuer_code = agency_codes(session, {alert.issuer_agency_id})[alert.issuer_agency_id]
    report.message_id = _send_hit_message(session, actor, report, alert, issuer_code)
    set_status(session, alert, AlertStatus.HIT_PENDING, actor, detail={"hit_report": report.id})
    audit.record(
        session,
        actor,
        "hit.confirm",
        object_type="HitReport",
        object_id=report.id,
        detail={
            "alert": alert.id,
            "deadline": report.deadline.isoformat(),
            "message": report.message_id,
            "flagged_here": report.flagged_here,
        },
    )
    session.flush()
    return report


def _open_reports(session: Session, alert_id: str, *, besides: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(HitReport)
            .where(
                HitReport.alert_id == alert_id,
                HitReport.status == HitStatus.OPEN.value,
                HitReport.id != besides,
            )
        )
        or 0
    )


def _back_to_active(session: Session, actor: Actor, alert: Alert, report: HitReport) -> None:
    """A hit-pending alert is active again once no hit report on it is open."""
    if alert.status == AlertStatus.HIT_PENDING.value and not _open_reports(
        session, alert.id, besides=report.id
    ):
        set_status(session, alert, AlertStatus.ACTIVE, actor, detail={"hit_report": report.id})


def load_report(session: Session, report_id: str) -> HitReport:
    report = session.get(HitReport, report_id) if len(report_id) <= 26 else None
    if report is None:
        raise NotFound(f"no hit report {report_id}")
    return report


def answer_hit_report(
    session: Session,
    actor: Actor,
    report_id: str,
    *,
    answer: AlertAnswer | str,
    text: str,
) -> HitReport:
    """The issuing agency answers: the alert was executed, or it stays active."""
    report = load_report(session, report_id)
    if not can_see_hit_report(
        actor,
        issuer_agency_id=report.issuer_agency_id,
        checking_agency_id=report.checking_agency_id,
    ):
        raise NotFound(f"no hit report {report_id}")
    can_answer_hit_report(actor, issuer_agency_id=report.issuer_agency_id).enforce()
    try:
        choice = AlertAnswer(answer)
    except ValueError:
        raise ValidationFailed(
            "answer must be executed or keep_active", errors={"answer": "executed|keep_active"}
        ) from None
    if report.status != HitStatus.OPEN.value:
        raise Conflict(f"the hit report is already {report.status.replace('_', ' ')}")
    body = _text(text, "answer_text")
    now = utcnow()
    report.status = HitStatus.ANSWERED.value
    report.answer, report.answer_text = choice.value, body
    report.answered_by, report.answered_at = actor.username, now
    alert = load(session, report.alert_id)
    if choice is AlertAnswer.EXECUTED and alert.in_force:
        set_status(
            session, alert, AlertStatus.EXECUTED, actor, note=body, detail={"hit_report": report.id}
        )
    elif choice is AlertAnswer.KEEP_ACTIVE:
        _back_to_active(session, actor, alert, report)
    verdict = "executed" if choice is AlertAnswer.EXECUTED else "kept active"
    subject = f"Answer to hit report: alert {verdict}"
    unsent = _reply_in_thread(session, actor, report, alert, subject, body)
    audit.record(
        session,
        actor,
        "hit.answer",
        object_type="HitReport",
        object_id=report.id,
        detail={
            "alert": alert.id,
            "answer": choice.value,
            "overdue": now > report.deadline,
            "message_not_sent": unsent,
        },
    )
    session.flush()
    return report


def record_outcome(
    session: Session,
    actor: Actor,
    report_id: str,
    *,
    outcome: HitOutcome | str,
    note: str = "",
    distinguishing_details: str = "",
    note_kind: str = "look_alike",
) -> HitReport:
    """The checking officer records the outcome. A false hit needs the details that tell the
    person (or object) apart from the subject: they become a note shown on every later hit."""
    report = load_report(session, report_id)
    if not can_see_hit_report(
        actor,
        issuer_agency_id=report.issuer_agency_id,
        checking_agency_id=report.checking_agency_id,
    ):
        raise NotFound(f"no hit report {report_id}")
    can_record_hit_outcome(actor, checking_agency_id=report.checking_agency_id).enforce()
    try:
        result = HitOutcome(outcome)
    except ValueError:
        raise ValidationFailed(
            "outcome must be one of " + ", ".join(o.value for o in HitOutcome),
            errors={"outcome": "unknown"},
        ) from None
    if report.outcome is not None:
        raise Conflict(f"the outcome was already recorded ({report.outcome.replace('_', ' ')})")
    text = _text(note, "note", required=False)
    alert = load(session, report.alert_id)
    if result is HitOutcome.NOT_TAKEN_FLAG and not _flagged(session, alert.id, actor.agency_id):
        raise ValidationFailed(
            "your agency has not flagged this alert: the action was not withheld by a flag",
            errors={"outcome": "no flag"},
        )
    note_row = None
    if result is HitOutcome.FALSE_HIT:
        details = _text(distinguishing_details, "distinguishing_details")
        if note_kind not in NOTE_KINDS:
            raise ValidationFailed(f"note kind must be one of {', '.join(NOTE_KINDS)}")
        note_row = AlertNote(
            id=new_id(),
            alert_id=alert.id,
            kind=note_kind,
            details=details,
            agency_id=actor.agency_id,
            hit_report_id=report.id,
            created_by=actor.username,
            created_at=utcnow(),
        )
        session.add(note_row)
        if report.status == HitStatus.OPEN.value:
            report.status = HitStatus.FALSE_HIT.value
            _back_to_active(session, actor, alert, report)
    report.outcome, report.outcome_note = result.value, text or None
    report.outcome_by, report.outcome_at = actor.username, utcnow()
    body = f"Outcome: {result.value.replace('_', ' ')}." + (f"\n{text}" if text else "")
    if note_row is not None:
        body += f"\nNot the subject — distinguishing details: {note_row.details}"
    unsent = _reply_in_thread(session, actor, report, alert, "Outcome of the hit", body)
    audit.record(
        session,
        actor,
        "hit.outcome",
        object_type="HitReport",
        object_id=report.id,
        detail={
            "alert": alert.id,
            "outcome": result.value,
            "note": note_row.id if note_row else None,
            "message_not_sent": unsent,
        },
    )
    session.flush()
    return report


# ── Queues ───────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class HitReportView:
    """A hit report with what its list shows: the alert, both agencies, the deadline."""

    report: HitReport
    alert_caption: str
    category_label: str
    issuer_code: str
    checking_code: str

    @property
    def overdue(self) -> bool:
        return self.report.status == HitStatus.OPEN.value and utcnow() > self.report.deadline

    def as_dict(self) -> dict[str, Any]:
        r = self.report
        return {
            "id": r.id,
            "alert_id": r.alert_id,
            "alert": self.alert_caption,
            "category": self.category_label,
            "issuer": self.issuer_code,
            "checking_agency": self.checking_code,
            "checked_by": r.checked_by,
            "check_details": r.check_details,
            "circumstances": r.circumstances,
            "action_taken": r.action_taken,
            "flagged_here": r.flagged_here,
            "status": r.status,
            "created_at": r.created_at.isoformat(),
            "deadline": r.deadline.isoformat(),
            "overdue": self.overdue,
            "answer": r.answer,
            "answer_text": r.answer_text,
            "answered_by": r.answered_by,
            "answered_at": r.answered_at.isoformat() if r.answered_at else None,
            "outcome": r.outcome,
            "outcome_note": r.outcome_note,
            "message_id": r.message_id,
        }


def _views(session: Session, reports: Sequence[HitReport]) -> list[HitReportView]:
    alerts = {
        a.id: a
        for a in session.scalars(select(Alert).where(Alert.id.in_({r.alert_id for r in reports})))
    }
    codes = agency_codes(
        session, {r.issuer_agency_id for r in reports} | {r.checking_agency_id for r in reports}
    )
    return [
        HitReportView(
            r,
            alerts[r.alert_id].caption,
            CATEGORIES[alerts[r.alert_id].category].label,
            codes.get(r.issuer_agency_id, "?"),
            codes.get(r.checking_agency_id, "?"),
        )
        for r in reports
    ]


def hit_report_queue(
    session: Session,
    actor: Actor,
    *,
    status: str | None = HitStatus.OPEN.value,
    overdue_only: bool = False,
    sent: bool = False,
    limit: int = 200,
) -> list[HitReportView]:
    """The issuing agency's hit reports to answer, earliest deadline first (``sent=True``: the
    reports the actor's agency filed as the checking agency, newest first)."""
    if sent:
        can_confirm_hit(actor).enforce()
        query = select(HitReport).where(HitReport.checking_agency_id == actor.agency_id)
        order = HitReport.created_at.desc()
    else:
        can_answer_hit_report(actor, issuer_agency_id=actor.agency_id).enforce()
        query = select(HitReport).where(HitReport.issuer_agency_id == actor.agency_id)
        order = HitReport.deadline.asc()
    if status is not None:
        if status not in {s.value for s in HitStatus}:
            raise ValidationFailed(f"status must be one of {', '.join(s.value for s in HitStatus)}")
        query = query.where(HitReport.status == status)
    if overdue_only:
        query = query.where(HitReport.status == HitStatus.OPEN.value, HitReport.deadline < utcnow())
    reports = list(
        session.scalars(query.order_by(order, HitReport.id).limit(max(1, min(limit, 1000))))
    )
    return _views(session, reports)


def overdue_hit_reports(session: Session, *, agency_id: str | None = None) -> list[HitReport]:
    """Open hit reports past their deadline (all agencies, or one issuing agency's)."""
    query = select(HitReport).where(
        HitReport.status == HitStatus.OPEN.value, HitReport.deadline < utcnow()
    )
    if agency_id is not None:
        query = query.where(HitReport.issuer_agency_id == agency_id)
    return list(session.scalars(query.order_by(HitReport.deadline, HitReport.id)))


def read_report(session: Session, actor: Actor, report_id: str) -> HitReportView:
    """A hit report, for the issuing and the checking agency only."""
    report = load_report(session, report_id)
    if not can_see_hit_report(
        actor,
        issuer_agency_id=report.issuer_agency_id,
        checking_agency_id=report.checking_agency_id,
    ):
        raise NotFound(f"no hit report {report_id}")
    return _views(session, [report])[0]
