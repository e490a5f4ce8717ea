"""Core JSON API: who am I, agencies, users, tokens, audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from liaison.core import audit_query
from liaison.core.errors import ValidationFailed
from liaison.core.policy import capabilities
from liaison.identity import administration
from liaison.identity import service as identity
from liaison.web.deps import ApiActor, SessionDep
from liaison.web.schemas import (
    AgencyIn,
    AgencyOut,
    AuditEntryOut,
    AuditPageOut,
    MeOut,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    VerificationOut,
)

router = APIRouter(prefix="/api/v1")


@router.get("/me", tags=["identity"])
def me(actor: ApiActor) -> MeOut:
    return MeOut(
        user_id=actor.user_id,
        username=actor.username,
        agency_id=actor.agency_id,
        agency_code=actor.agency_code,
        framework=actor.framework,
        roles=sorted(actor.roles),
        capabilities=sorted(c.value for c in capabilities(actor)),
    )


@router.get("/agencies", tags=["administration"])
def agencies(session: SessionDep, actor: ApiActor) -> list[AgencyOut]:
    return [AgencyOut.model_validate(a) for a in administration.list_agencies(session)]


@router.post("/agencies", status_code=status.HTTP_201_CREATED, tags=["administration"])
def create_agency(body: AgencyIn, session: SessionDep, actor: ApiActor) -> AgencyOut:
    agency = administration.create_agency(
        session,
        actor,
        code=body.code,
        name=body.name,
        country=body.country,
        framework=body.framework.value,
        accreditation=body.accreditation,
        personal_data_basis=body.personal_data_basis,
    )
    return AgencyOut.model_validate(agency)


@router.get("/users", tags=["administration"])
def users(session: SessionDep, actor: ApiActor, agency_id: str | None = None) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in identity.list_users(session, actor, agency_id)]


@router.post("/users", status_code=status.HTTP_201_CREATED, tags=["administration"])
def create_user(body: UserIn, session: SessionDep, actor: ApiActor) -> UserOut:
    user = identity.create_user(
        session,
        actor,
        agency_id=body.agency_id,
        username=body.username,
        display_name=body.display_name,
        password=body.password,
        roles=frozenset(body.roles),
        email=body.email,
    )
    return UserOut.model_validate(user)


@router.post("/users/{user_id}/deactivate", tags=["administration"])
def deactivate_user(user_id: str, session: SessionDep, actor: ApiActor) -> UserOut:
    return UserOut.model_validate(identity.deactivate_user(session, actor, user_id))


@router.post("/tokens", status_code=status.HTTP_201_CREATED, tags=["identity"])
def issue_token(body: TokenIn, session: SessionDep, actor: ApiActor) -> TokenOut:
    secret, token = identity.issue_token(
        session, actor, user_id=body.user_id or actor.user_id, name=body.name, days=body.days
    )
    return TokenOut(
        id=token.id, name=token.name, prefix=token.prefix, expires_at=token.expires_at, token=secret
    )


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["identity"])
def revoke_token(token_id: str, session: SessionDep, actor: ApiActor) -> None:
    identity.revoke_token(session, actor, token_id)


@router.get("/audit", tags=["audit"])
def audit_log(
    session: SessionDep,
    actor: ApiActor,
    user: str | None = None,
    agency: str | None = None,
    action: str | None = None,
    object: str | None = None,
    since: str | None = None,
    until: str | None = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPageOut:
    try:
        before = int(cursor) if cursor else None
    except ValueError:
        raise ValidationFailed("cursor must be the next_cursor of a previous page") from None
    filters = audit_query.AuditFilters.parse(
        user=user, agency=agency, action=action, object=object, since=since, until=until
    )
    page = audit_query.search(session, actor, filters, before=before, limit=limit)
    return AuditPageOut(
        items=[AuditEntryOut.model_validate(e) for e in page.entries],
        next_cursor=str(page.next_before) if page.next_before is not None else None,
    )


@router.get("/audit/verify", tags=["audit"])
def audit_verify(session: SessionDep, actor: ApiActor) -> VerificationOut:
    result = audit_query.chain_status(session, actor)
    return VerificationOut(
        ok=result.ok, checked=result.checked, broken_seq=result.broken_seq, reason=result.reason
    )
