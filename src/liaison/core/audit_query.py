"""Reading the audit trail: filters, keyset pages and the chain status, scoped by policy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from liaison.core import audit
from liaison.core.actor import Actor
from liaison.core.audit import AuditEntry, Verification
from liaison.core.errors import ValidationFailed
from liaison.core.policy import audit_agency_filter


def _parse_time(value: str | None, name: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(
            f"{name}: give a date or time like 2026-11-23 or 2026-11-23T10:00"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """What the DPO filters on; every field optional."""

    user: str | None = None
    agency: str | None = None
    action: str | None = None
    object: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @classmethod
    def parse(
        cls,
        *,
        user: str | None = None,
        agency: str | None = None,
        action: str | None = None,
        object: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> AuditFilters:
        def clean(v: str | None) -> str | None:
            return (v or "").strip() or None

        return cls(
            user=clean(user),
            agency=clean(agency),
            action=clean(action),
            object=clean(object),
            since=_parse_time(since, "since"),
            until=_parse_time(until, "until"),
        )


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: Sequence[AuditEntry]
    next_before: int | None


def search(
    session: Session,
    actor: Actor,
    filters: AuditFilters,
    *,
    before: int | None = None,
    limit: int = 100,
) -> AuditPage:
    """Newest first, keyset-paginated by sequence number; non-hub DPOs see their agency only."""
    scope = audit_agency_filter(actor)
    limit = max(1, min(limit, 1000))
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit + 1)
    if scope is not None:
        query = query.where(AuditEntry.agency_id == scope)
    if filters.user:
        query = query.where(
            or_(AuditEntry.actor_username == filters.user, AuditEntry.actor_user_id == filters.user)
        )
    if filters.agency:
        from liaison.core.agencies import Agency

        agency_id = session.scalar(select(Agency.id).where(Agency.code == filters.agency.upper()))
        query = query.where(AuditEntry.agency_id == (agency_id or filters.agency))
    if filters.action:
        query = query.where(AuditEntry.action.startswith(filters.action))
    if filters.object:
        query = query.where(AuditEntry.object_id == filters.object)
    if filters.since:
        query = query.where(AuditEntry.at >= filters.since)
    if filters.until:
        query = query.where(AuditEntry.at <= filters.until)
    if before is not None:
        query = query.where(AuditEntry.seq < before)
    rows = list(session.scalars(query).all())
    next_before = rows[limit - 1].seq if len(rows) > limit else None
    audit.record(
        session,
        actor,
        "audit.view",
        object_type="audit_log",
        detail={k: str(v) for k, v in vars_of(filters).items() if v is not None},
    )
    return AuditPage(rows[:limit], next_before)


def vars_of(filters: AuditFilters) -> dict[str, object]:
    return {name: getattr(filters, name) for name in AuditFilters.__slots__}


def chain_status(session: Session, actor: Actor) -> Verification:
    """Verify the whole chain for the viewer (the chain is global, whatever the viewer's scope)."""
    audit_agency_filter(actor)
    return audit.verify(session)
