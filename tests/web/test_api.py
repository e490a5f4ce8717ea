"""The JSON API: bearer authentication, problem details, health checks."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.support.factories import agency, user
from tests.support.web import bearer, make_app

from liaison.core.actor import Role
from liaison.core.agencies import PartnerFramework
from liaison.core.settings import Settings
from liaison.db.engine import Database
from liaison.identity.service import actor_for, revoke_token


def test_health_and_readiness(db: Database, settings: Settings) -> None:
    client = TestClient(make_app(db, settings))
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["database"] == db.dialect


def test_missing_and_bad_tokens_are_problem_details(db: Database, settings: Settings) -> None:
    client = TestClient(make_app(db, settings))
    missing = client.get("/api/v1/me")
    assert missing.status_code == 401
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["title"] == "Authentication required"
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer lia_nonsense"})
    assert bad.status_code == 401
    assert "unknown" in bad.json()["detail"]


def test_revoked_token_refused(db: Database, settings: Settings) -> None:
    with db.session() as s:
        u = user(s, agency(s, "NL-NP"), Role.OFFICER)
        headers = bearer(s, u)
    client = TestClient(make_app(db, settings))
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["agency_code"] == "NL-NP"
    with db.session() as s:
        from liaison.identity.model import ApiToken

        token = s.query(ApiToken).filter_by(user_id=u.id).one()
        revoke_token(s, actor_for(u), token.id)
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_policy_refusal_is_403_with_reason(db: Database, settings: Settings) -> None:
    with db.session() as s:
        u = user(s, agency(s), Role.OFFICER)
        headers = bearer(s, u)
    client = TestClient(make_app(db, settings))
    response = client.get("/api/v1/audit", headers=headers)
    assert response.status_code == 403
    assert "view_audit" in response.json()["detail"]


def test_validation_errors_are_422_problem_details(db: Database, settings: Settings) -> None:
    with db.session() as s:
        hub = agency(s, "HUB", framework=PartnerFramework.EU_BODY, country=None)
        headers = bearer(s, user(s, hub, Role.ADMIN))
    client = TestClient(make_app(db, settings))
    response = client.post("/api/v1/agencies", headers=headers, json={"code": "X"})
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == 422
    assert any("framework" in e["location"] for e in body["errors"])
    bad_country = client.post(
        "/api/v1/agencies",
        headers=headers,
        json={"code": "FR-PN", "name": "Police", "country": "FRA", "framework": "member_state"},
    )
    assert bad_country.status_code == 422
    assert "alpha-2" in bad_country.json()["detail"]


def test_admin_creates_user_and_dpo_reads_audit_over_api(db: Database, settings: Settings) -> None:
    with db.session() as s:
        hub = agency(s, "HUB", framework=PartnerFramework.EU_BODY, country=None)
        admin_headers = bearer(s, user(s, hub, Role.ADMIN))
        dpo_headers = bearer(s, user(s, hub, Role.DPO))
        hub_id = hub.id
    client = TestClient(make_app(db, settings))
    created = client.post(
        "/api/v1/users",
        headers=admin_headers,
        json={
            "agency_id": hub_id,
            "username": "new.analyst",
            "display_name": "New Analyst",
            "password": "a long enough password",
            "roles": ["analyst"],
        },
    )
    assert created.status_code == 201, created.text
    page = client.get("/api/v1/audit", headers=dpo_headers, params={"action": "user.create"})
    assert page.status_code == 200
    assert any("new.analyst" in item["detail"] for item in page.json()["items"])
    assert client.get("/api/v1/audit/verify", headers=dpo_headers).json()["ok"] is True
