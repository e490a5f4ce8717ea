"""Alerts: issue, change, delete, flag, review, remind, expire, read and list.

Only the issuing agency changes, reviews or deletes its alerts; other member-state agencies may
flag them. Every change is a new version with who, when and why, a new change number (the
in-memory person index catches up on it) and an audit entry; every read is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from liaison.alerts.categories import CATEGORIES, WARNINGS, Category, review_period
from liaison.alerts.drafts import MAX_TEXT, AlertDraft, draft_of
from liaison.alerts.identifiers import text_problem
from liaison.alerts.model import (
    IN_FORCE,
    Alert,
    AlertFlag,
    AlertIdentifier,
    AlertLink,
    AlertNote,
    AlertSequence,
    AlertStatus,
    AlertVersion,
)
from liaison.core import audit
from liaison.core.actor import Actor
from liaison.core.agencies import Agency
from liaison.core.clock import utcnow
from liaison.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from liaison.core.ids import new_id
from liaison.core.markings import Classification
from liaison.core.policy import (
    RecordDecision,
    Visibility,
    alert_list_scope,
    alert_view,
    can_change_alert,
    can_flag_alert,
    can_issue_alert,
)
from liaison.entities.model import Entity
from liaison.entities.service import visibility as entity_visibility

SYSTEM = "system:alerts"
MAX_PAGE = 200


# ── Change numbers, versions, audit ──────────────────────────────────────────────────────────


def next_seq(session: Session, count: int = 1) -> int:
    """Claim the next change number(s); writers queue on this row, so numbers commit in order.
    Returns the last number claimed."""
    value = session.execute(
        update(AlertSequence)
        .where(AlertSequence.id == 1)
        .values(value=AlertSequence.value + count)
        .returning(AlertSequence.value)
    ).scalar_one()
    return int(value)


def snapshot(alert: Alert) -> dict[str, Any]:
    """Everything an alert says, as a version keeps it."""
    return {
        "category": alert.category,
        "subject_type": alert.subject_type,
        "subject": dict(alert.properties),
        "legal_basis": alert.legal_basis,
        "reason": alert.reason,
        "action": alert.action,
        "instructions": alert.instructions,
        "valid_until": alert.valid_until.isoformat() if alert.valid_until else None,
        "review_date": alert.review_date.isoformat(),
        "status": alert.status,
        "handling": alert.handling,
        "h3_conditions": alert.h3_conditions,
        "classification": Classification(alert.classification).name,
        "crime_area": alert.crime_area,
        "warnings": list(alert.warnings),
        "diffusion_countries": list(alert.diffusion_countries),
    }


def record_change(
    session: Session,
    alert: Alert,
    actor: Actor | None,
    change: str,
    *,
    note: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """A new version of a changed alert: change number, version row, audit entry."""
    now = utcnow()
    alert.version += 1
    alert.updated_at = now
    alert.change_seq = next_seq(session)
    session.flush()
    _version(session, alert, change, actor, note, now)
    audit.record(
        session,
        actor,
        f"alert.{change}",
        object_type="Alert",
        object_id=alert.id,
        username=None if actor else SYSTEM,
        detail={"version": alert.version, "status": alert.status, **(detail or {})},
    )


def _version(
    session: Session,
    alert: Alert,
    change: str,
    actor: Actor | None,
    note: str | None,
    at: dt.datetime,
) -> None:
    session.add(
        AlertVersion(
            alert_id=alert.id,
            version=alert.version,
            change=change,
            snapshot=snapshot(alert),
            note=note,
            changed_by=actor.username if actor else SYSTEM,
            changed_agency_id=actor.agency_id if actor else None,
            changed_at=at,
        )
    )


def set_status(
    session: Session,
    alert: Alert,
    status: AlertStatus,
    actor: Actor | None,
    *,
    note: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Move an alert to ``status`` as a new version (hit follow-up, expiry, deletion)."""
    if alert.status == status.value:
        return
    alert.status = status.value
    if status.value not in IN_FORCE:
        session.execute(delete(AlertIdentifier).where(AlertIdentifier.alert_id == alert.id))
    record_change(session, alert, actor, "status", note=note, detail=detail)


# ── Issue and change ─────────────────────────────────────────────────────────────────────────


def _check_links(session: Session, actor: Actor, draft: AlertDraft, own_id: str | None) -> None:
    """Related alerts and records must exist and be visible to the issuer."""
    errors: dict[str, str] = {}
    for alert_id in draft.related_alerts:
        other = session.get(Alert, alert_id)
        if alert_id == own_id:
            errors["related_alerts"] = "an alert cannot be related to itself"
        elif other is None or not visibility(session, actor, other).allowed:
            errors["related_alerts"] = f"no alert {alert_id}"
    for entity_id in draft.entities:
        entity = session.get(Entity, entity_id)
        if entity is None or entity.deleted or not entity_visibility(actor, entity).allowed:
            errors["entities"] = f"no record {entity_id}"
    if errors:
        summary = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
        raise ValidationFailed(summary, errors=errors)


def _apply(alert: Alert, draft: AlertDraft) -> None:
    category = draft.category
    etype = draft.etype
    alert.category = category.code
    alert.subject_kind = category.subject_kind
    alert.subject_type = draft.subject_type
    alert.properties = dict(draft.properties)
    alert.caption = draft.caption or category.label
    alert.legal_basis = draft.legal_basis
    alert.reason = draft.reason
    alert.action = category.action
    alert.instructions = draft.instructions
    alert.valid_until = draft.valid_until
    alert.review_date = draft.review_date or review_period(category.code).after(utcnow().date())
    alert.handling = draft.handling.value
    alert.h3_conditions = draft.h3_conditions
    alert.classification = int(draft.classification)
    alert.crime_area = draft.crime_area
    alert.warnings = list(draft.warnings)
    alert.diffusion_countries = list(draft.diffusion_countries)
    alert.personal_data = etype.personal_data


def _store_keys_and_links(session: Session, alert: Alert, draft: AlertDraft) -> None:
    session.execute(delete(AlertIdentifier).where(AlertIdentifier.alert_id == alert.id))
    session.execute(delete(AlertLink).where(AlertLink.alert_id == alert.id))
    session.flush()
    rows: dict[str, AlertIdentifier] = {}
    for key in draft.keys:
        for value in key.keys:
            strong = value == key.key
            if value in rows:
                rows[value].strong = rows[value].strong or strong
                continue
            rows[value] = AlertIdentifier(
                alert_id=alert.id,
                key=value[:200],
                kind=key.kind,
                country=key.country,
                strong=strong,
            )
    session.add_all(rows.values())
    session.add_all(
        [
            AlertLink(alert_id=alert.id, target_kind="alert", target_id=i)
            for i in draft.related_alerts
        ]
        + [AlertLink(alert_id=alert.id, target_kind="entity", target_id=i) for i in draft.entities]
    )


def issue(session: Session, actor: Actor, draft: AlertDraft) -> Alert:
    """Issue an alert for the actor's agency: policy, links, keys, first version, audit."""
    can_issue_alert(
        actor, personal_data=draft.etype.personal_data, classification=draft.classification
    ).enforce()
    if draft.source_ref:
        existing = session.scalar(
            select(Alert.id).where(
                Alert.issuer_agency_id == actor.agency_id, Alert.source_ref == draft.source_ref
            )
        )
        if existing:
            raise Conflict(
                f"your agency already has an alert with reference {draft.source_ref!r} "
                f"({existing}): change that one instead",
                alert_id=existing,
            )
    _check_links(session, actor, draft, None)
    now = utcnow()
    alert = Alert(
        id=new_id(),
        issuer_agency_id=actor.agency_id,
        source_ref=draft.source_ref,
        status=AlertStatus.ACTIVE.value,
        version=1,
        change_seq=next_seq(session),
        created_at=now,
        updated_at=now,
        created_by=actor.username,
    )
    _apply(alert, draft)
    session.add(alert)
    session.flush()
    _store_keys_and_links(session, alert, draft)
    _version(session, alert, "issued", actor, None, now)
    audit.record(
        session,
        actor,
        "alert.issue",
        object_type="Alert",
        object_id=alert.id,
        detail={"category": alert.category, "source_ref": alert.source_ref},
    )
    session.flush()
    return alert


def raw_of(session: Session, alert: Alert) -> dict[str, Any]:
    """An alert as the plain data that would issue it again (the base of a change)."""
    links = session.execute(
        select(AlertLink.target_kind, AlertLink.target_id).where(AlertLink.alert_id == alert.id)
    ).all()
    return {
        "category": alert.category,
        "subject_type": alert.subject_type,
        "subject": dict(alert.properties),
        "id": alert.source_ref,
        "legal_basis": alert.legal_basis,
        "reason": alert.reason,
        "instructions": alert.instructions,
        "valid_until": alert.valid_until.isoformat() if alert.valid_until else None,
        "review_date": alert.review_date.isoformat(),
        "handling": alert.handling,
        "h3_conditions": alert.h3_conditions,
        "classification": int(alert.classification),
        "crime_area": alert.crime_area,
        "warnings": list(alert.warnings),
        "diffusion_countries": list(alert.diffusion_countries),
        "related_alerts": [i for kind, i in links if kind == "alert"],
        "entities": [i for kind, i in links if kind == "entity"],
    }


def _load_own(session: Session, actor: Actor, alert_id: str) -> Alert:
    """An alert the actor's agency may change: unknown to those who may not see it (404)."""
    alert = load(session, alert_id)
    if alert.issuer_agency_id != actor.agency_id and not visibility(session, actor, alert).allowed:
        raise NotFound(f"no alert {alert_id}")
    can_change_alert(actor, issuer_agency_id=alert.issuer_agency_id).enforce()
    return alert


def _in_force(alert: Alert) -> None:
    if not alert.in_force:
        raise Conflict(f"the alert is {AlertStatus(alert.status).label}: it can no longer change")


def change(session: Session, actor: Actor, alert_id: str, patch: Mapping[str, Any]) -> Alert:
    """Change an alert (issuing agency only) by a JSON merge patch: a new version when anything
    changed. The review date is left as it is unless the patch gives one."""
    alert = _load_own(session, actor, alert_id)
    _in_force(alert)
    if "id" in patch or "source_ref" in patch:
        raise ValidationFailed("your reference of an alert cannot change", errors={"id": "fixed"})
    base = raw_of(session, alert)
    # Dates the patch leaves alone are kept as they are, not validated again.
    kept = {name: base.pop(name) for name in ("review_date", "valid_until") if name not in patch}
    draft = draft_of(base, patch)
    if "review_date" in kept:
        draft.review_date = alert.review_date
    if "valid_until" in kept:
        draft.valid_until = alert.valid_until
    replace(session, actor, alert, draft, (base["related_alerts"], base["entities"]))
    return alert


def replace(
    session: Session,
    actor: Actor,
    alert: Alert,
    draft: AlertDraft,
    links: tuple[list[str], list[str]] | None = None,
) -> str:
    """Give an in-force alert of the actor's agency the content of ``draft`` (same category):
    ``updated`` as a new version, or ``unchanged``. A draft without a review date keeps the
    alert's."""
    can_change_alert(actor, issuer_agency_id=alert.issuer_agency_id).enforce()
    _in_force(alert)
    if draft.category.code != alert.category:
        raise ValidationFailed(
            "the category of an alert cannot change: delete it and issue a new one",
            errors={"category": "cannot change"},
        )
    if draft.review_date is None:
        draft.review_date = alert.review_date
    can_issue_alert(
        actor, personal_data=draft.etype.personal_data, classification=draft.classification
    ).enforce()
    _check_links(session, actor, draft, alert.id)
    if links is None:
        old = raw_of(session, alert)
        links = (old["related_alerts"], old["entities"])
    before = (snapshot(alert), *links)
    _apply(alert, draft)
    if (snapshot(alert), draft.related_alerts, draft.entities) == before:
        return "unchanged"
    _store_keys_and_links(session, alert, draft)
    record_change(session, alert, actor, "changed")
    return "updated"


def remove(session: Session, actor: Actor, alert_id: str, *, reason: str = "") -> Alert:
    """Delete an alert (issuing agency only): it leaves every check; its versions remain."""
    alert = _load_own(session, actor, alert_id)
    _check_text(reason, "reason")
    if alert.status != AlertStatus.DELETED.value:
        set_status(session, alert, AlertStatus.DELETED, actor, note=reason.strip() or None)
    return alert


def _check_text(text: str, name: str, *, required: bool = False) -> str:
    text = (text or "").strip()
    problem = text_problem(text)
    if problem:
        raise ValidationFailed(f"{name} {problem}", errors={name: problem})
    if len(text) > MAX_TEXT:
        raise ValidationFailed(f"{name} is longer than {MAX_TEXT} characters")
    if required and not text:
        raise ValidationFailed(f"give the {name}", errors={name: "required"})
    return text


# ── Flags ────────────────────────────────────────────────────────────────────────────────────


def flag(session: Session, actor: Actor, alert_id: str, *, reason: str) -> AlertFlag:
    """Flag an alert for the actor's agency: its action is not executed on this territory and
    every hit here shows the flag with its reason."""
    alert = load(session, alert_id)
    if not visibility(session, actor, alert).allowed:
        raise NotFound(f"no alert {alert_id}")
    can_flag_alert(actor, issuer_agency_id=alert.issuer_agency_id).enforce()
    _in_force(alert)
    text = _check_text(reason, "reason", required=True)
    row = session.scalar(
        select(AlertFlag).where(
            AlertFlag.alert_id == alert.id, AlertFlag.agency_id == actor.agency_id
        )
    )
    if row is None:
        row = AlertFlag(id=new_id(), alert_id=alert.id, agency_id=actor.agency_id)
        session.add(row)
    row.reason = text
    row.active = True
    row.created_by = actor.username
    row.created_at = utcnow()
    row.withdrawn_at = None
    session.flush()
    audit.record(
        session,
        actor,
        "alert.flag",
        object_type="Alert",
        object_id=alert.id,
        detail={"flag": row.id, "reason": text},
    )
    return row


def unflag(session: Session, actor: Actor, alert_id: str) -> AlertFlag:
    """Withdraw the actor's agency's flag on an alert."""
    alert = load(session, alert_id)
    can_flag_alert(actor, issuer_agency_id=alert.issuer_agency_id).enforce()
    row = session.scalar(
        select(AlertFlag).where(
            AlertFlag.alert_id == alert.id,
            AlertFlag.agency_id == actor.agency_id,
            AlertFlag.active.is_(True),
        )
    )
    if row is None:
        raise NotFound("your agency has not flagged this alert")
    row.active = False
    row.withdrawn_at = utcnow()
    audit.record(session, actor, "alert.unflag", object_type="Alert", object_id=alert.id, detail={})
    return row


# ── Review, reminders, expiry ────────────────────────────────────────────────────────────────


def review(
    session: Session,
    actor: Actor,
    alert_id: str,
    *,
    justification: str,
    until: dt.date | None = None,
) -> Alert:
    """Review an alert and keep it: the review date moves to ``until`` (at most one review
    period from today; by default exactly that), with the justification in its history. An
    explicit validity date stays as it is (change it with ``change``)."""
    alert = _load_own(session, actor, alert_id)
    _in_force(alert)
    text = _check_text(justification, "justification", required=True)
    today = utcnow().date()
    latest = review_period(alert.category).after(today)
    target = until or latest
    if target <= today:
        raise ValidationFailed("the next review must lie in the future")
    if target > latest:
        raise ValidationFailed(
            f"the next review is due at the latest on {latest.isoformat()} "
            f"({review_period(alert.category)} for this category)"
        )
    alert.review_date = target
    record_change(
        session, alert, actor, "reviewed", note=text, detail={"review_date": target.isoformat()}
    )
    return alert


def due_for_review(
    session: Session, *, days: int, agency_id: str | None = None, limit: int = 1000
) -> list[Alert]:
    """Alerts in force whose review falls within ``days`` (overdue ones first)."""
    if days < 0:
        raise ValidationFailed("days must not be negative")
    horizon = utcnow().date() + dt.timedelta(days=days)
    query = select(Alert).where(Alert.status.in_(IN_FORCE), Alert.review_date <= horizon)
    if agency_id is not None:
        query = query.where(Alert.issuer_agency_id == agency_id)
    return list(session.scalars(query.order_by(Alert.review_date, Alert.id).limit(limit)))


def reminders(session: Session, actor: Actor, *, days: int) -> list[Alert]:
    """The actor's agency's alerts to review within ``days``."""
    can_change_alert(actor, issuer_agency_id=actor.agency_id).enforce()
    return due_for_review(session, days=days, agency_id=actor.agency_id)


def expire_due(session: Session) -> list[Alert]:
    """Alerts past their validity — or past their review date without a review — expire
    (a version and an audit entry each). Returns them."""
    today = utcnow().date()
    due = list(
        session.scalars(
            select(Alert)
            .where(
                Alert.status.in_(IN_FORCE),
                or_(
                    Alert.valid_until < today,
                    (Alert.valid_until.is_(None)) & (Alert.review_date < today),
                ),
            )
            .order_by(Alert.id)
        )
    )
    for alert in due:
        lapsed = alert.valid_until if alert.valid_until is not None else alert.review_date
        why = "validity" if alert.valid_until is not None else "review date"
        set_status(
            session,
            alert,
            AlertStatus.EXPIRED,
            None,
            note=f"{why} {lapsed.isoformat()} passed",
            detail={"lapsed": lapsed.isoformat(), "rule": why},
        )
    return due


# ── Reading ──────────────────────────────────────────────────────────────────────────────────


def load(session: Session, alert_id: str) -> Alert:
    alert = session.get(Alert, alert_id) if len(alert_id) <= 26 else None
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    return alert


def agency_country(session: Session, agency_id: str) -> str | None:
    agency = session.get(Agency, agency_id)
    return agency.country if agency is not None else None


def visibility(
    session: Session, actor: Actor, alert: Alert, *, actor_country: str | None = None
) -> RecordDecision:
    """What the actor may see of this alert (``policy.alert_view``)."""
    if alert.issuer_agency_id != actor.agency_id and not alert.in_force:
        return RecordDecision(Visibility.NONE, "the alert is no longer in force")
    country = (
        actor_country if actor_country is not None else agency_country(session, actor.agency_id)
    )
    return alert_view(
        actor,
        issuer_agency_id=alert.issuer_agency_id,
        person=alert.subject_kind == "person",
        personal_data=alert.personal_data,
        classification=Classification(alert.classification),
        diffusion_countries=alert.diffusion_countries,
        actor_country=country,
    )


@dataclass(frozen=True, slots=True)
class FlagView:
    agency_code: str
    reason: str
    since: dt.datetime
    mine: bool


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert as one actor may see it."""

    alert: Alert
    category: Category
    issuer_code: str
    decision: RecordDecision
    flags: Sequence[FlagView] = ()
    notes: Sequence[AlertNote] = ()
    versions: Sequence[AlertVersion] = ()
    links: Sequence[tuple[str, str]] = ()

    @property
    def full(self) -> bool:
        return self.decision.visibility is Visibility.FULL

    @property
    def own(self) -> bool:
        return self.decision.reason == "your agency issued this alert"

    def as_dict(self) -> dict[str, Any]:
        """The API's view: subject, notes and history only where the viewer may see them."""
        a = self.alert
        out: dict[str, Any] = {
            "id": a.id,
            "category": a.category,
            "category_label": self.category.label,
            "family": self.category.family,
            "subject_kind": a.subject_kind,
            "subject_type": a.subject_type,
            "issuer": self.issuer_code,
            "status": a.status,
            "action": a.action,
            "warnings": [{"code": w, "label": WARNINGS[w].label} for w in a.warnings],
            "markings": marking_view(a),
            "visibility": self.decision.visibility.value,
            "reason_shown": self.decision.reason,
        }
        if not self.full:
            return out
        out |= {
            "instructions": a.instructions,
            "source_ref": a.source_ref if self.own else None,
            "subject": a.properties,
            "caption": a.caption,
            "legal_basis": a.legal_basis,
            "reason": a.reason,
            "valid_until": a.valid_until.isoformat() if a.valid_until else None,
            "review_date": a.review_date.isoformat(),
            "diffusion_countries": a.diffusion_countries,
            "version": a.version,
            "created_at": a.created_at.isoformat(),
            "updated_at": a.updated_at.isoformat(),
            "related_alerts": [i for kind, i in self.links if kind == "alert"],
            "entities": [i for kind, i in self.links if kind == "entity"],
            "flags": [
                {"agency": f.agency_code, "reason": f.reason, "since": f.since.isoformat()}
                for f in self.flags
            ],
            "notes": [note_dict(n) for n in self.notes],
        }
        if self.versions:
            out["history"] = [
                {
                    "version": v.version,
                    "change": v.change,
                    "changed_by": v.changed_by,
                    "changed_at": v.changed_at.isoformat(),
                    "note": v.note,
                    "snapshot": v.snapshot,
                }
                for v in self.versions
            ]
        return out


def marking_view(alert: Alert) -> dict[str, Any]:
    return {
        "handling": alert.handling,
        "h3_conditions": alert.h3_conditions,
        "classification": Classification(alert.classification).name,
        "crime_area": alert.crime_area,
    }


def note_dict(note: AlertNote, agency_code: str | None = None) -> dict[str, Any]:
    return {
        "kind": note.kind,
        "details": note.details,
        "agency": agency_code,
        "confirmed_at": note.created_at.isoformat(),
        "text": (
            "A person with these details was confirmed NOT to be the subject of this alert on "
            f"{note.created_at.date().isoformat()}: {note.details}"
        ),
    }


def agency_codes(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = session.execute(select(Agency.id, Agency.code).where(Agency.id.in_(ids))).all()
    return {str(agency_id): str(code) for agency_id, code in rows}


def flags_of(
    session: Session, alert_ids: Sequence[str], *, agency_id: str | None = None
) -> dict[str, list[FlagView]]:
    """Active flags per alert (only those of ``agency_id`` when given)."""
    out: dict[str, list[FlagView]] = {}
    if not alert_ids:
        return out
    query = select(AlertFlag).where(AlertFlag.alert_id.in_(alert_ids), AlertFlag.active.is_(True))
    if agency_id is not None:
        query = query.where(AlertFlag.agency_id == agency_id)
    rows = list(session.scalars(query.order_by(AlertFlag.created_at)))
    codes = agency_codes(session, {r.agency_id for r in rows})
    for row in rows:
        out.setdefault(row.alert_id, []).append(
            FlagView(
                codes.get(row.agency_id, "?"), row.reason, row.created_at, agency_id is not None
            )
        )
    return out


def notes_of(session: Session, alert_ids: Sequence[str]) -> dict[str, list[AlertNote]]:
    out: dict[str, list[AlertNote]] = {}
    if not alert_ids:
        return out
    for note in session.scalars(
        select(AlertNote).where(AlertNote.alert_id.in_(alert_ids)).order_by(AlertNote.created_at)
    ):
        out.setdefault(note.alert_id, []).append(note)
    return out


def read(session: Session, actor: Actor, alert_id: str) -> AlertView:
    """Everything the actor may see of an alert (audited; refused reads are 404 and audited)."""
    alert = load(session, alert_id)
    decision = visibility(session, actor, alert)
    if not decision.allowed:
        audit.record(
            session,
            actor,
            "alert.read",
            object_type="Alert",
            object_id=alert.id,
            outcome=audit.Outcome.DENIED,
            detail={"reason": decision.reason},
        )
        session.commit()  # the refusal is kept though the request ends in an error
        raise NotFound(f"no alert {alert_id}")
    audit.record(
        session,
        actor,
        "alert.read",
        object_type="Alert",
        object_id=alert.id,
        detail={"visibility": decision.visibility.value},
    )
    codes = agency_codes(session, {alert.issuer_agency_id})
    view = AlertView(
        alert, CATEGORIES[alert.category], codes.get(alert.issuer_agency_id, "?"), decision
    )
    if decision.visibility is not Visibility.FULL:
        return view
    own = alert.issuer_agency_id == actor.agency_id
    flags = flags_of(session, [alert.id], agency_id=None if own else actor.agency_id)
    links = session.execute(
        select(AlertLink.target_kind, AlertLink.target_id).where(AlertLink.alert_id == alert.id)
    ).all()
    versions: list[AlertVersion] = []
    if own:
        versions = list(
            session.scalars(
                select(AlertVersion)
                .where(AlertVersion.alert_id == alert.id)
                .order_by(AlertVersion.version.desc())
            )
        )
    return AlertView(
        alert,
        view.category,
        view.issuer_code,
        decision,
        flags=flags.get(alert.id, []),
        notes=notes_of(session, [alert.id]).get(alert.id, []),
        versions=versions,
        links=[(str(k), str(i)) for k, i in links],
    )


@dataclass(frozen=True, slots=True)
class AlertFilters:
    """What an alert list is narrowed to."""

    category: str | None = None
    status: str | None = None
    issuer_agency_id: str | None = None
    review_due_days: int | None = None

    def __post_init__(self) -> None:
        if self.category is not None and self.category not in CATEGORIES:
            raise ValidationFailed(f"unknown alert category {self.category!r}")
        if self.status is not None and self.status not in {s.value for s in AlertStatus}:
            raise ValidationFailed(
                f"status must be one of {', '.join(s.value for s in AlertStatus)}"
            )
        if self.review_due_days is not None and self.review_due_days < 0:
            raise ValidationFailed("review_due must not be negative")


@dataclass(slots=True)
class AlertPage:
    items: list[AlertView] = field(default_factory=list)
    next_cursor: str | None = None


def list_alerts(
    session: Session,
    actor: Actor,
    filters: AlertFilters,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> AlertPage:
    """The actor's agency's alerts (every agency's for the hub), newest first, filtered;
    ``cursor`` is the previous page's ``next_cursor``. Others' alerts are found by checks
    (``policy.alert_list_scope``); each row passes the single-alert rule (``policy.alert_view``)."""
    limit = max(1, min(limit, MAX_PAGE))
    scope = alert_list_scope(actor)
    if scope is not None and filters.issuer_agency_id not in (None, scope):
        raise PermissionDenied("other agencies' alerts are found by checks, not listed")
    query = select(Alert)
    if scope is not None:
        query = query.where(Alert.issuer_agency_id == scope)
    if filters.category:
        query = query.where(Alert.category == filters.category)
    if filters.status:
        query = query.where(Alert.status == filters.status)
    if filters.issuer_agency_id:
        query = query.where(Alert.issuer_agency_id == filters.issuer_agency_id)
    if filters.review_due_days is not None:
        horizon = utcnow().date() + dt.timedelta(days=filters.review_due_days)
        query = query.where(Alert.review_date <= horizon, Alert.status.in_(IN_FORCE))
    query = query.where(or_(Alert.issuer_agency_id == actor.agency_id, Alert.status.in_(IN_FORCE)))
    country = agency_country(session, actor.agency_id)
    page = AlertPage()
    after = cursor
    codes: dict[str, str] = {}
    for _round in range(20):  # bounded: hidden alerts never make a request unbounded
        batch_query = query
        if after:
            batch_query = batch_query.where(Alert.id < after)
        batch = list(session.scalars(batch_query.order_by(Alert.id.desc()).limit(limit * 2)))
        if not batch:
            after = None
            break
        codes.update(agency_codes(session, {a.issuer_agency_id for a in batch} - set(codes)))
        for alert in batch:
            after = alert.id
            decision = visibility(session, actor, alert, actor_country=country or "")
            if not decision.allowed:
                continue
            page.items.append(
                AlertView(
                    alert,
                    CATEGORIES[alert.category],
                    codes.get(alert.issuer_agency_id, "?"),
                    decision,
                )
            )
            if len(page.items) >= limit:
                page.next_cursor = alert.id
                return page
        if len(batch) < limit * 2:
            after = None
            break
    page.next_cursor = after
    return page
