"""Request dependencies: database session (one unit of work per request) and the actor.

API calls authenticate with ``Authorization: Bearer lia_…``; pages with the session cookie,
and every state-changing page request carries the session's CSRF token (form field
``csrf_token`` or header ``X-CSRF-Token``).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from liaison.core.actor import Actor
from liaison.core.errors import NotAuthenticated, PermissionDenied
from liaison.core.settings import Settings
from liaison.db.engine import Database
from liaison.identity.model import WebSession
from liaison.identity.service import actor_for, authenticate_token, resolve_web_session

SESSION_COOKIE = "liaison_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One unit of work per request: commit when the handler returns, roll back on error."""
    with get_database(request).session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def api_actor(
    session: SessionDep,
    authorization: Annotated[str | None, Header()] = None,
    x_purpose: Annotated[str | None, Header(description="stated purpose, audited")] = None,
) -> Actor:
    """The actor behind a bearer token."""
    if not authorization:
        raise NotAuthenticated("send Authorization: Bearer <token>")
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise NotAuthenticated("send Authorization: Bearer <token>")
    user = authenticate_token(session, secret.strip())
    return actor_for(user, purpose=(x_purpose or "").strip() or None)


ApiActor = Annotated[Actor, Depends(api_actor)]


def current_web_session(request: Request, session: SessionDep, settings: SettingsDep) -> WebSession:
    """The signed-in browser session, or NotAuthenticated (the UI redirects to the login page)."""
    secret = request.cookies.get(SESSION_COOKIE)
    web = resolve_web_session(session, secret, settings=settings) if secret else None
    if web is None:
        raise NotAuthenticated("please sign in")
    # Plain values for the templates: the row may be expired by a rollback before an error page.
    request.state.csrf_token = web.csrf_token
    return web


async def check_csrf(request: Request, web: WebSession) -> None:
    """Refuse a state-changing request whose CSRF token is missing or wrong."""
    if request.method in SAFE_METHODS:
        return
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    if not supplied or not hmac.compare_digest(supplied, web.csrf_token):
        raise PermissionDenied("missing or invalid CSRF token: reload the page and try again")


async def ui_actor(
    request: Request, web: Annotated[WebSession, Depends(current_web_session)]
) -> Actor:
    """The actor behind the browser session, CSRF-checked for anything but reads."""
    await check_csrf(request, web)
    actor = actor_for(web.user)
    request.state.actor = actor
    return actor


UiActor = Annotated[Actor, Depends(ui_actor)]
