"""What the cross-check tells the data owners, requests for details, identity-conflict review.

A cross-match notification tells each owner that a match exists, the entity type, the strength
band, the other owner and the other record's markings — never the other record's data
(``policy.crossmatch_view`` decides how much, per side). Details are asked of the owner with a
justification; the request is recorded and both sides see it. Identity conflicts are verified
by a reviewer of an owning agency (or the hub), who sets the colour; both records show it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from liaison.core import audit
from liaison.core.actor import Actor
from liaison.core.agencies import Agency
from liaison.core.clock import utcnow
from liaison.core.errors import NotFound, PermissionDenied, ValidationFailed
from liaison.core.policy import (
    Capability,
    RecordDecision,
    Visibility,
    can,
    can_request_details,
    can_review_identity_conflict,
    crossmatch_view,
)
from liaison.entities.model import (
    CrossMatch,
    DetailsRequest,
    Entity,
    IdentityConflict,
    LinkColour,
)
from liaison.entities.schema import SCHEMA
from liaison.entities.service import marking_view, markings_of, visibility

MAX_JUSTIFICATION = 2000


@dataclass(frozen=True, slots=True)
class Notification:
    """One cross-match as one owner sees it."""

    match: CrossMatch
    own: Entity
    other_id: str
    other_owner: str
    decision: RecordDecision
    other_markings: dict[str, object] | None
    requests: Sequence[DetailsRequest]

    @property
    def band(self) -> str | None:
        return self.match.band if self.decision.visibility is Visibility.FULL else None

    @property
    def seen(self) -> bool:
        return self.match.left_seen if self.match.left_id == self.own.id else self.match.right_seen

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.match.id,
            "status": self.match.status,
            "entity_type": self.match.entity_type,
            "created_at": self.match.created_at.isoformat(),
            "own_record": {
                "id": self.own.id,
                "caption": self.own.caption,
                "source_ref": self.own.source_ref,
            },
            "other_owner": self.other_owner,
            "visibility": self.decision.visibility.value,
            "reason": self.decision.reason,
            "band": self.band,
            "other_markings": self.other_markings,
            "seen": self.seen,
            "details_requests": [request_dict(r) for r in self.requests],
        }


def request_dict(r: DetailsRequest) -> dict[str, object]:
    return {
        "id": r.id,
        "entity_id": r.entity_id,
        "cross_match_id": r.cross_match_id,
        "requested_by": r.requested_by,
        "justification": r.justification,
        "status": r.status,
        "created_at": r.created_at.isoformat(),
    }


def _codes(session: Session, ids: set[str]) -> dict[str, str]:
    return {a.id: a.code for a in session.scalars(select(Agency).where(Agency.id.in_(ids)))}


def other_side(actor: Actor, own_owner_id: str, other: Entity) -> RecordDecision:
    """What a cross-match tells the owner ``own_owner_id`` about the other record."""
    return crossmatch_view(
        actor,
        own_owner_id=own_owner_id,
        other=markings_of(other),
        other_minor=other.minor,
        personal_data=SCHEMA.get(other.entity_type).personal_data,
    )


def inbox(
    session: Session,
    actor: Actor,
    *,
    include_withdrawn: bool = False,
    limit: int = 200,
) -> list[Notification]:
    """The agency's cross-match notifications, newest first (audited: it lists own records)."""
    query = select(CrossMatch).where(
        or_(
            CrossMatch.left_owner_id == actor.agency_id,
            CrossMatch.right_owner_id == actor.agency_id,
        )
    )
    if not include_withdrawn:
        query = query.where(CrossMatch.status == "active")
    matches = list(session.scalars(query.order_by(CrossMatch.created_at.desc()).limit(limit)))
    ids = {i for m in matches for i in (m.left_id, m.right_id)}
    entities = {e.id: e for e in session.scalars(select(Entity).where(Entity.id.in_(ids)))}
    codes = _codes(session, {e.owner_agency_id for e in entities.values()})
    requests: dict[str, list[DetailsRequest]] = {}
    if matches:
        for r in session.scalars(
            select(DetailsRequest)
            .where(DetailsRequest.cross_match_id.in_([m.id for m in matches]))
            .order_by(DetailsRequest.created_at)
        ):
            requests.setdefault(r.cross_match_id or "", []).append(r)
    out = []
    for m in matches:
        mine_left = m.left_owner_id == actor.agency_id
        own, other = (
            (entities[m.left_id], entities[m.right_id])
            if mine_left
            else (entities[m.right_id], entities[m.left_id])
        )
        decision = other_side(actor, own.owner_agency_id, other)
        if not decision.allowed:
            continue
        out.append(
            Notification(
                m,
                own,
                other.id,
                codes.get(other.owner_agency_id, "?"),
                decision,
                marking_view(other) if decision.visibility is Visibility.FULL else None,
                requests.get(m.id, []),
            )
        )
    audit.record(
        session,
        actor,
        "crossmatch.inbox",
        detail={"listed": [n.match.id for n in out]},
    )
    return out


def mark_seen(session: Session, actor: Actor, match_id: str) -> None:
    m = session.get(CrossMatch, match_id)
    if m is None or actor.agency_id not in (m.left_owner_id, m.right_owner_id):
        raise NotFound(f"no cross-match {match_id}")
    if m.left_owner_id == actor.agency_id:
        m.left_seen = True
    if m.right_owner_id == actor.agency_id:
        m.right_seen = True


# ── Requests for details ────────────────────────────────────────────────────────────────────


def request_details(
    session: Session,
    actor: Actor,
    *,
    entity_id: str,
    justification: str,
    cross_match_id: str | None = None,
) -> DetailsRequest:
    """Ask the owner of a record for the details behind a hit (recorded and audited)."""
    entity = session.get(Entity, entity_id)
    if entity is None or entity.deleted:
        raise NotFound(f"no record {entity_id}")
    match = None
    if cross_match_id:
        match = session.get(CrossMatch, cross_match_id)
        if (
            match is None
            or actor.agency_id not in (match.left_owner_id, match.right_owner_id)
            or entity_id not in (match.left_id, match.right_id)
        ):
            raise NotFound(f"no cross-match {cross_match_id} for this record")
        if not other_side(actor, actor.agency_id, entity).allowed:
            raise NotFound(f"no cross-match {cross_match_id} for this record")
    elif not visibility(actor, entity).allowed:
        raise NotFound(f"no record {entity_id}")
    can_request_details(actor, owner_agency_id=entity.owner_agency_id).enforce()
    text = " ".join((justification or "").split())
    if len(text) < 10:
        raise ValidationFailed("say why the details are needed (at least 10 characters)")
    if len(text) > MAX_JUSTIFICATION:
        raise ValidationFailed(f"the justification is at most {MAX_JUSTIFICATION} characters")
    request = DetailsRequest(
        cross_match_id=match.id if match else None,
        entity_id=entity.id,
        owner_agency_id=entity.owner_agency_id,
        requester_agency_id=actor.agency_id,
        requested_by=actor.username,
        justification=text,
        status="open",
        created_at=utcnow(),
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor,
        "entity.request_details",
        object_type=entity.entity_type,
        object_id=entity.id,
        detail={
            "request": request.id,
            "owner": entity.owner_agency_id,
            "cross_match": match and match.id,
        },
    )
    request.message_id = _details_message(session, actor, entity, request)
    return request


def _details_message(
    session: Session, actor: Actor, entity: Entity, request: DetailsRequest
) -> str | None:
    """The request for details travels to the owner as a request message of the exchange (when
    the requester may use the exchange); it names records, never their data."""
    from liaison.exchange.model import Accessibility, MessageType
    from liaison.exchange.service import Draft, send

    if not can(actor, Capability.EXCHANGE):
        return None
    owner = session.get(Agency, entity.owner_agency_id)
    if owner is None:
        return None
    about = f"cross-match {request.cross_match_id}" if request.cross_match_id else "a search hit"
    message = send(
        session,
        actor,
        Draft(
            to=(owner.code,),
            subject=f"Request for details: {entity.entity_type} record {entity.id}",
            body=(
                f"{actor.agency_code} asks for the details behind {about} on your "
                f"{entity.entity_type} record {entity.id}.\n\nJustification: "
                f"{request.justification}"
            ),
            legal_basis="follow-up of a hit in the shared information system",
            purpose=actor.purpose or request.justification[:500],
            message_type=MessageType.REQUEST,
            accessibility=Accessibility.DIRECT,
            crime_area=entity.crime_area,
            personal_data=False,
            reference=("details_request", request.id),
        ),
    )
    return message.id


def details_requests(session: Session, actor: Actor, *, incoming: bool) -> list[DetailsRequest]:
    """Requests the agency received (as data owner) or made."""
    column = DetailsRequest.owner_agency_id if incoming else DetailsRequest.requester_agency_id
    return list(
        session.scalars(
            select(DetailsRequest)
            .where(column == actor.agency_id)
            .order_by(DetailsRequest.created_at.desc())
            .limit(200)
        )
    )


# ── Identity conflicts ──────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class ConflictView:
    conflict: IdentityConflict
    left: Entity
    right: Entity
    owners: tuple[str, str]

    def side(self, actor: Actor, entity: Entity) -> str:
        """The caption of an own record, or only its owner for another agency's record."""
        if entity.owner_agency_id == actor.agency_id:
            return entity.caption
        code = self.owners[0] if entity is self.left else self.owners[1]
        return f"a record of {code}"


def conflict_queue(
    session: Session, actor: Actor, *, colour: str | None = "yellow"
) -> list[ConflictView]:
    """Identity conflicts the actor may verify (own agency's records, or all for the hub)."""
    can(actor, Capability.REVIEW_IDENTITY_CONFLICTS).enforce()
    query = select(IdentityConflict)
    if colour:
        query = query.where(IdentityConflict.colour == colour)
    views = []
    for conflict in session.scalars(query.order_by(IdentityConflict.created_at).limit(500)):
        view = _conflict_view(session, conflict)
        owner_ids = (view.left.owner_agency_id, view.right.owner_agency_id)
        if can_review_identity_conflict(actor, owner_ids):
            views.append(view)
    return views


def _conflict_view(session: Session, conflict: IdentityConflict) -> ConflictView:
    left = session.get(Entity, conflict.left_id)
    right = session.get(Entity, conflict.right_id)
    assert left is not None
    assert right is not None
    codes = _codes(session, {left.owner_agency_id, right.owner_agency_id})
    return ConflictView(
        conflict, left, right, (codes[left.owner_agency_id], codes[right.owner_agency_id])
    )


def review_conflict(
    session: Session, actor: Actor, conflict_id: str, *, colour: str, note: str
) -> IdentityConflict:
    """Set a verified colour (white, red or green) with the reviewer's note; audited."""
    conflict = session.get(IdentityConflict, conflict_id)
    if conflict is None:
        raise NotFound(f"no identity conflict {conflict_id}")
    view = _conflict_view(session, conflict)
    decision = can_review_identity_conflict(
        actor, (view.left.owner_agency_id, view.right.owner_agency_id)
    )
    if not decision:
        raise PermissionDenied(decision.reason)
    try:
        chosen = LinkColour(colour)
    except ValueError:
        chosen = None
    if chosen is None or chosen is LinkColour.YELLOW:
        raise ValidationFailed(
            "choose white (same person), red (identity fraud) or green (different persons)"
        )
    text = " ".join((note or "").split())
    if len(text) < 5:
        raise ValidationFailed("record what the verification found (a short note)")
    previous = conflict.colour
    conflict.colour = chosen.value
    conflict.decision_note = text[:MAX_JUSTIFICATION]
    conflict.decided_by = actor.username
    conflict.decided_agency_id = actor.agency_id
    conflict.decided_at = utcnow()
    audit.record(
        session,
        actor,
        "identity_conflict.review",
        object_type="IdentityConflict",
        object_id=conflict.id,
        detail={
            "from": previous,
            "to": chosen.value,
            "left": conflict.left_id,
            "right": conflict.right_id,
        },
    )
    return conflict
