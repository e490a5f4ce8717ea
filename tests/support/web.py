"""Web test helpers: an app on a test database, signed-in clients, bearer tokens."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liaison.core.settings import Settings
from liaison.db.engine import Database
from liaison.identity.model import User
from liaison.identity.service import actor_for, issue_token
from liaison.web.app import create_app
from tests.support.factories import PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def make_app(db: Database, settings: Settings) -> FastAPI:
    return create_app(settings, db)


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def signed_in(app: FastAPI, username: str, password: str = PASSWORD) -> TestClient:
    """A client with a browser session for ``username``; ``client.csrf`` holds its token."""
    client = TestClient(app, follow_redirects=False)
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 303, response.text
    dashboard = client.get("/")
    client.csrf = csrf_of(dashboard.text)  # type: ignore[attr-defined]
    return client


def bearer(session: Session, user: User, days: int = 30) -> dict[str, str]:
    """Authorization headers with a fresh token of ``user`` (issued by the user themself)."""
    secret, _ = issue_token(session, actor_for(user), user_id=user.id, name="test", days=days)
    return {"Authorization": f"Bearer {secret}"}
