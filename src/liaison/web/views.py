"""The shell's pages: sign-in, dashboard, administration, audit viewer, own API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from liaison.core import audit_query
from liaison.core.actor import Role
from liaison.core.agencies import PartnerFramework
from liaison.core.errors import LiaisonError
from liaison.core.markings import Classification
from liaison.core.policy import Capability, can, capabilities
from liaison.identity import administration
from liaison.identity import service as identity
from liaison.web.deps import SESSION_COOKIE, SessionDep, SettingsDep, UiActor
from liaison.web.templating import render

router = APIRouter(include_in_schema=False)
LOGIN_NONCE_COOKIE = "liaison_login_nonce"


def _login_token(key: str, nonce: str) -> str:
    return hmac.new(key.encode(), nonce.encode(), hashlib.sha256).hexdigest()


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect to another host after sign-in."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login")
def login_page(request: Request, settings: SettingsDep, next: str | None = None) -> Response:
    nonce = secrets.token_urlsafe(24)
    token = _login_token(settings.session_key.get_secret_value(), nonce)
    response = render(request, "login.html", {"login_csrf": token, "next": _safe_next(next)})
    response.set_cookie(
        LOGIN_NONCE_COOKIE,
        nonce,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        max_age=1800,
    )
    return response


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE, "")
    expected = _login_token(settings.session_key.get_secret_value(), nonce)
    if not nonce or not hmac.compare_digest(csrf_token, expected):
        return render(
            request,
            "login.html",
            {
                "error": "Your sign-in form expired; please try again.",
                "login_csrf": "",
                "next": "/",
            },
            status=403,
        )
    source = request.client.host if request.client else None
    try:
        user = identity.authenticate_password(
            session, username, password, settings=settings, source=source
        )
    except LiaisonError as exc:
        # Keep the audit entry of the failure: commit before answering.
        session.commit()
        new_nonce = secrets.token_urlsafe(24)
        response = render(
            request,
            "login.html",
            {
                "error": exc.detail,
                "login_csrf": _login_token(settings.session_key.get_secret_value(), new_nonce),
                "next": _safe_next(next),
                "username": username,
            },
            status=exc.status,
        )
        response.set_cookie(
            LOGIN_NONCE_COOKIE,
            new_nonce,
            httponly=True,
            samesite="strict",
            secure=settings.cookie_secure,
            max_age=1800,
        )
        return response
    secret, _web = identity.start_web_session(session, user, settings=settings)
    redirect = RedirectResponse(_safe_next(next), status_code=303)
    redirect.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=settings.session_max_age_minutes * 60,
    )
    redirect.delete_cookie(LOGIN_NONCE_COOKIE)
    return redirect


@router.post("/logout")
def logout(request: Request, session: SessionDep, actor: UiActor) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        identity.end_web_session(session, secret)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def dashboard(request: Request, session: SessionDep, actor: UiActor) -> Response:
    from liaison.core.agencies import get_agency

    agency = get_agency(session, actor.agency_id)
    return render(
        request,
        "dashboard.html",
        {"agency": agency, "capabilities": sorted(c.value for c in capabilities(actor))},
    )


# ── Administration ────────────────────────────────────────────────────────────────────────


@router.get("/admin/agencies")
def agencies_page(request: Request, session: SessionDep, actor: UiActor) -> Response:
    can(actor, Capability.MANAGE_AGENCIES).enforce()
    return render(
        request,
        "admin/agencies.html",
        {
            "agencies": administration.list_agencies(session),
            "frameworks": list(PartnerFramework),
            "levels": list(Classification),
        },
    )


@router.post("/admin/agencies")
def agencies_create(
    request: Request,
    session: SessionDep,
    actor: UiActor,
    code: Annotated[str, Form()],
    name: Annotated[str, Form()],
    framework: Annotated[str, Form()],
    accreditation: Annotated[str, Form()],
    country: Annotated[str, Form()] = "",
    personal_data_basis: Annotated[str, Form()] = "",
) -> Response:
    administration.create_agency(
        session,
        actor,
        code=code,
        name=name,
        country=country,
        framework=framework,
        accreditation=accreditation,
        personal_data_basis=personal_data_basis,
    )
    return RedirectResponse("/admin/agencies", status_code=303)


@router.post("/admin/agencies/{agency_id}")
def agencies_update(
    agency_id: str,
    session: SessionDep,
    actor: UiActor,
    framework: Annotated[str, Form()],
    accreditation: Annotated[str, Form()],
    personal_data_basis: Annotated[str, Form()] = "",
    active: Annotated[str, Form()] = "",
) -> Response:
    administration.update_agency(
        session,
        actor,
        agency_id,
        framework=framework,
        accreditation=accreditation,
        personal_data_basis=personal_data_basis,
        active=active == "on",
    )
    return RedirectResponse("/admin/agencies", status_code=303)


@router.get("/admin/users")
def users_page(request: Request, session: SessionDep, actor: UiActor) -> Response:
    can(actor, Capability.MANAGE_USERS).enforce()
    agencies = administration.list_agencies(session)
    if not actor.is_hub:
        agencies = [a for a in agencies if a.id == actor.agency_id]
    return render(
        request,
        "admin/users.html",
        {
            "users": identity.list_users(session, actor),
            "agencies": agencies,
            "roles": list(Role),
            "new_token": request.query_params.get("token"),
        },
    )


@router.post("/admin/users")
def users_create(
    request: Request,
    session: SessionDep,
    actor: UiActor,
    username: Annotated[str, Form()],
    display_name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    agency_id: Annotated[str, Form()],
    roles: Annotated[list[str], Form()],
    email: Annotated[str, Form()] = "",
) -> Response:
    identity.create_user(
        session,
        actor,
        agency_id=agency_id,
        username=username,
        display_name=display_name,
        password=password,
        roles=identity.parse_roles(roles),
        email=email,
    )
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/deactivate")
def users_deactivate(user_id: str, session: SessionDep, actor: UiActor) -> Response:
    identity.deactivate_user(session, actor, user_id)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/reset-token")
def users_reset_token(
    request: Request, user_id: str, session: SessionDep, actor: UiActor
) -> Response:
    secret, token = identity.reset_tokens(session, actor, user_id)
    user = identity.get_user(session, user_id)
    return render(
        request,
        "admin/token_issued.html",
        {"secret": secret, "token": token, "user": user},
    )


# ── Own API tokens ────────────────────────────────────────────────────────────────────────


@router.get("/tokens")
def tokens_page(request: Request, session: SessionDep, actor: UiActor) -> Response:
    can(actor, Capability.MANAGE_OWN_TOKENS).enforce()
    return render(
        request, "tokens.html", {"tokens": identity.list_tokens(session, actor, actor.user_id)}
    )


@router.post("/tokens")
def tokens_create(
    request: Request,
    session: SessionDep,
    actor: UiActor,
    name: Annotated[str, Form()],
    days: Annotated[int, Form()] = 30,
) -> Response:
    secret, token = identity.issue_token(
        session, actor, user_id=actor.user_id, name=name, days=days
    )
    user = identity.get_user(session, actor.user_id)
    return render(
        request, "admin/token_issued.html", {"secret": secret, "token": token, "user": user}
    )


@router.post("/tokens/{token_id}/revoke")
def tokens_revoke(token_id: str, session: SessionDep, actor: UiActor) -> Response:
    identity.revoke_token(session, actor, token_id)
    return RedirectResponse("/tokens", status_code=303)


# ── Audit viewer (DPO) ────────────────────────────────────────────────────────────────────


@router.get("/audit")
def audit_page(
    request: Request,
    session: SessionDep,
    actor: UiActor,
    user: Annotated[str | None, Query()] = None,
    agency: Annotated[str | None, Query()] = None,
    action: Annotated[str | None, Query()] = None,
    object: Annotated[str | None, Query()] = None,
    since: Annotated[str | None, Query()] = None,
    until: Annotated[str | None, Query()] = None,
    before: Annotated[int | None, Query()] = None,
) -> Response:
    filters = audit_query.AuditFilters.parse(
        user=user, agency=agency, action=action, object=object, since=since, until=until
    )
    page = audit_query.search(session, actor, filters, before=before, limit=100)
    verification = audit_query.chain_status(session, actor)
    return render(
        request,
        "audit/list.html",
        {
            "page": page,
            "filters": filters,
            "verification": verification,
            "now": dt.datetime.now(dt.UTC),
        },
    )
