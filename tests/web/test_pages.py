"""Pages: sign-in, CSRF on every form, navigation by role, administration."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.support.factories import PASSWORD, agency, user
from tests.support.web import csrf_of, make_app, signed_in

from liaison.core.actor import Role
from liaison.core.agencies import PartnerFramework
from liaison.core.settings import Settings
from liaison.db.engine import Database


def test_login_requires_its_csrf_token(db: Database, settings: Settings) -> None:
    with db.session() as s:
        user(s, agency(s), Role.OFFICER, username="officer1")
    client = TestClient(make_app(db, settings), follow_redirects=False)
    client.get("/login")
    response = client.post("/login", data={"username": "officer1", "password": PASSWORD})
    assert response.status_code in (403, 422)
    assert "liaison_session" not in client.cookies


def test_wrong_password_shows_readable_message_and_is_audited(
    db: Database, settings: Settings
) -> None:
    with db.session() as s:
        user(s, agency(s), Role.OFFICER, username="officer2")
    client = TestClient(make_app(db, settings), follow_redirects=False)
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "officer2",
            "password": "not it at all",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert response.status_code == 401
    assert "wrong password" in response.text
    from sqlalchemy import select

    from liaison.core.audit import AuditEntry

    with db.session() as s:
        denied = s.scalars(select(AuditEntry).where(AuditEntry.outcome == "denied")).all()
    assert any(e.actor_username == "officer2" for e in denied)


def test_forms_without_csrf_are_refused(db: Database, settings: Settings) -> None:
    with db.session() as s:
        hub = agency(s, "HUB", framework=PartnerFramework.EU_BODY, country=None)
        user(s, hub, Role.ADMIN, username="admin1")
        hub_id = hub.id
    client = signed_in(make_app(db, settings), "admin1")
    form = {
        "username": "x.officer",
        "display_name": "X",
        "password": "long enough password",
        "agency_id": hub_id,
        "roles": ["officer"],
    }
    refused = client.post("/admin/users", data=form)
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    accepted = client.post("/admin/users", data={**form, "csrf_token": client.csrf})  # type: ignore[attr-defined]
    assert accepted.status_code == 303
    assert "x.officer" in client.get("/admin/users").text


def test_dashboard_greets_and_nav_lists_only_allowed(db: Database, settings: Settings) -> None:
    with db.session() as s:
        a = agency(s, "PL-KGP")
        user(s, a, Role.OFFICER, username="officer3")
    client = signed_in(make_app(db, settings), "officer3")
    html = client.get("/").text
    assert "officer3" in html
    assert "PL-KGP" in html
    assert "Officer / SPOC operator" in html
    assert 'href="/audit"' not in html
    assert 'href="/admin/users"' not in html
    assert client.get("/audit").status_code == 403


def test_unauthenticated_pages_redirect_to_login(db: Database, settings: Settings) -> None:
    client = TestClient(make_app(db, settings), follow_redirects=False)
    response = client.get("/admin/users")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_login_does_not_redirect_off_site(db: Database, settings: Settings) -> None:
    with db.session() as s:
        user(s, agency(s), Role.OFFICER, username="officer4")
    client = TestClient(make_app(db, settings), follow_redirects=False)
    page = client.get("/login?next=https://evil.example/")
    response = client.post(
        "/login",
        data={
            "username": "officer4",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "//evil.example/",
        },
    )
    assert response.headers["location"] == "/"
