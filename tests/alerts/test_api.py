"""The alerts API end to end, with problem details on every bad input and nothing stored by a
refused request; the issue's scenario (issue → check → hit → report → answer) over HTTP."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liaison.alerts import api as alerts_api
from liaison.alerts import importing
from liaison.alerts.model import Alert
from liaison.core.settings import Settings
from liaison.db.engine import Database
from tests.alerts.conftest import World, arrest, stolen_car
from tests.alerts.examples import example
from tests.support.web import bearer, make_app

PURPOSE = {"X-Purpose": "border control, Schiphol"}


@dataclass
class Api:
    db: Database
    client: TestClient
    manager_a: dict[str, str]
    officer_b: dict[str, str]
    manager_b: dict[str, str]
    officer_wa: dict[str, str]


@pytest.fixture
def api(world: World, settings: Settings) -> Iterator[Api]:
    with world.db.session() as s:
        headers = [
            bearer(s, who)
            for who in (world.manager_a, world.officer_b, world.manager_b, world.officer_wa)
        ]
    client = TestClient(make_app(world.db, settings))
    return Api(world.db, client, *headers)


def problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    return body


def alert_count(api: Api) -> int:
    with api.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Alert)) or 0)


def test_the_issue_scenario_over_http(api: Api) -> None:
    issued = api.client.post("/api/v1/alerts", json=arrest(), headers=api.manager_a)
    assert issued.status_code == 201, issued.text
    alert_id = issued.json()["id"]
    check = api.client.post(
        "/api/v1/checks/person",
        json={"full_name": "Алексан Иванов", "dob": "1980-03-12"},
        headers=api.officer_b | PURPOSE,
    )
    assert check.status_code == 200, check.text
    [hit] = check.json()["hits"]
    assert hit["alert_id"] == alert_id
    assert hit["action_here"].startswith("Arrest the person")
    reported = api.client.post(
        f"/api/v1/alerts/{alert_id}/hits",
        json={
            "check_details": {"place": "Schiphol", "query": "Алексан Иванов, 1980-03-12"},
            "circumstances": "arriving from Istanbul",
            "action_taken": "held at the border",
        },
        headers=api.officer_b | PURPOSE,
    )
    assert reported.status_code == 201, reported.text
    report = reported.json()
    created = dt.datetime.fromisoformat(report["created_at"])
    assert dt.datetime.fromisoformat(report["deadline"]) - created == dt.timedelta(hours=12)
    queue = api.client.get("/api/v1/hit-reports", headers=api.manager_a).json()
    assert [(r["id"], r["checking_agency"], r["overdue"]) for r in queue] == [
        (report["id"], "NL-NP", False)
    ]
    answered = api.client.post(
        f"/api/v1/hit-reports/{report['id']}/answer",
        json={"answer": "executed", "text": "surrender arranged"},
        headers=api.manager_a,
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered"
    assert (
        api.client.get(f"/api/v1/alerts/{alert_id}", headers=api.manager_a).json()["status"]
        == "executed"
    )
    outcome = api.client.post(
        f"/api/v1/hit-reports/{report['id']}/outcome",
        json={"outcome": "action_taken", "note": "surrendered"},
        headers=api.officer_b,
    )
    assert outcome.json()["outcome"] == "action_taken"
    assert api.client.get("/api/v1/hit-reports?sent=true", headers=api.officer_b).json()


def test_bad_alerts_are_problems_naming_each_field_and_store_nothing(api: Api) -> None:
    bad = arrest(dob="31.02.1980", warrant_reference=None) | {"handling": "H9"}
    body = problem(api.client.post("/api/v1/alerts", json=bad, headers=api.manager_a), 422)
    errors = body["errors"]
    assert isinstance(errors, dict)
    assert {"subject.dob", "subject.warrant_reference", "handling"} <= set(errors)
    problem(api.client.post("/api/v1/alerts", json=[arrest()], headers=api.manager_a), 422)
    problem(api.client.post("/api/v1/alerts", json=arrest(), headers=api.officer_b), 403)
    assert alert_count(api) == 0


def test_read_list_change_flag_delete(api: Api) -> None:
    ids = [
        api.client.post(
            "/api/v1/alerts", json=stolen_car(f"B-AB {n}"), headers=api.manager_a
        ).json()["id"]
        for n in range(3)
    ]
    listed = api.client.get(
        "/api/v1/alerts?category=vehicle&limit=2&issuer=DE-BKA", headers=api.manager_a
    ).json()
    assert [a["id"] for a in listed["items"]] == ids[::-1][:2]
    rest = api.client.get(
        f"/api/v1/alerts?category=vehicle&cursor={listed['next_cursor']}", headers=api.manager_a
    ).json()
    assert [a["id"] for a in rest["items"]] == ids[:1]
    problem(api.client.get("/api/v1/alerts?issuer=DE-BKA", headers=api.officer_b), 403)
    problem(api.client.get("/api/v1/alerts?status=sleeping", headers=api.officer_b), 422)
    problem(api.client.get("/api/v1/alerts?issuer=XX-NONE", headers=api.officer_b), 404)
    assert api.client.get(f"/api/v1/alerts/{ids[0]}", headers=api.officer_b).status_code == 200
    due = api.client.get("/api/v1/alerts?review_due=5000", headers=api.manager_a).json()
    assert len(due["items"]) == 3
    patched = api.client.patch(
        f"/api/v1/alerts/{ids[0]}", json={"subject": {"colour": "red"}}, headers=api.manager_a
    )
    assert patched.status_code == 200
    assert patched.json()["version"] == 2
    problem(
        api.client.patch(f"/api/v1/alerts/{ids[0]}", json={"reason": ""}, headers=api.manager_b),
        403,
    )
    flagged = api.client.post(
        f"/api/v1/alerts/{ids[0]}/flags", json={"reason": "not here"}, headers=api.manager_b
    )
    assert flagged.status_code == 201
    problem(
        api.client.post(
            f"/api/v1/alerts/{ids[0]}/flags", json={"reason": "x"}, headers=api.manager_a
        ),
        403,
    )
    reviewed = api.client.post(
        f"/api/v1/alerts/{ids[1]}/review",
        json={"justification": "still stolen", "until": "2000-01-01"},
        headers=api.manager_a,
    )
    problem(reviewed, 422)
    problem(api.client.delete(f"/api/v1/alerts/{ids[2]}", headers=api.manager_b), 403)
    assert api.client.delete(f"/api/v1/alerts/{ids[2]}", headers=api.manager_a).status_code == 204
    problem(api.client.get(f"/api/v1/alerts/{ids[2]}", headers=api.officer_b), 404)
    problem(api.client.get("/api/v1/alerts/" + "Z" * 40, headers=api.officer_b), 404)
    reminders = api.client.get("/api/v1/alerts/reminders?days=3650", headers=api.manager_a)
    assert len(reminders.json()) == 2


def test_checks_need_a_purpose_in_the_header_or_the_body(api: Api) -> None:
    api.client.post("/api/v1/alerts", json=stolen_car(), headers=api.manager_a)
    body = {"kind": "plate", "value": "B-AB 1234", "country": "DE"}
    problem(api.client.post("/api/v1/checks/object", json=body, headers=api.officer_b), 403)
    found = api.client.post(
        "/api/v1/checks/object", json=body | {"purpose": "patrol"}, headers=api.officer_b
    )
    assert found.json()["outcome"] == "hit"


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/v1/checks/person", {"full_name": "Ivan\u0007"}, 422),
        ("/api/v1/checks/person", {"full_name": "💣💣"}, 422),
        ("/api/v1/checks/person", {"full_name": "Ivan", "shoe": "44"}, 422),
        ("/api/v1/checks/person", {"full_name": "x" * 400}, 422),
        ("/api/v1/checks/person", {"dob": "1980"}, 422),
        ("/api/v1/checks/object", {"kind": "vin", "value": "1HGCM82633A004353"}, 422),
        ("/api/v1/checks/object", {"kind": "plate", "value": "\u202e1234"}, 200),
        ("/api/v1/checks/object", {"kind": "spaceship", "value": "X1"}, 422),
        ("/api/v1/checks/object", {"kind": "plate"}, 422),
    ],
)
def test_hostile_checks_are_clear_problems(
    api: Api, path: str, body: dict[str, str], status: int
) -> None:
    response = api.client.post(path, json=body, headers=api.officer_b | PURPOSE)
    if status == 200:
        assert response.status_code == 200, response.text
    else:
        assert problem(response, status)["detail"]


def test_working_arrangement_partners_over_http(api: Api) -> None:
    api.client.post("/api/v1/alerts", json=arrest(), headers=api.manager_a)
    refused = api.client.post(
        "/api/v1/checks/person",
        json={"full_name": "Aleksandr Ivanov"},
        headers=api.officer_wa | PURPOSE,
    )
    assert "personal data" in str(problem(refused, 403)["detail"])


def batch(api: Api, lines: list[str], headers: dict[str, str] | None = None) -> object:
    return api.client.post(
        "/api/v1/checks/batch",
        content="\n".join(lines).encode(),
        headers=PURPOSE | (headers or api.officer_b) | {"Content-Type": "application/x-ndjson"},
    )


def test_batch_checks_stream_ndjson_in_order(api: Api) -> None:
    api.client.post("/api/v1/alerts", json=arrest(), headers=api.manager_a)
    api.client.post("/api/v1/alerts", json=stolen_car(), headers=api.manager_a)
    lines = [
        json.dumps({"ref": "p1", "full_name": "Aleksandr Ivanov", "dob": "1980-03-12"}),
        "{broken",
        json.dumps({"ref": "o1", "type": "object", "kind": "plate", "value": "bab1234"}),
        json.dumps({"ref": "o2", "type": "object", "kind": "vin", "value": "1HGCM82633A004353"}),
        json.dumps({"ref": "p2", "full_name": "Nobody Known"}),
        "[1]",
    ]
    response = batch(api, lines)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/x-ndjson")  # type: ignore[attr-defined]
    results = [json.loads(line) for line in response.text.splitlines()]  # type: ignore[attr-defined]
    assert [(r["ref"], r["outcome"]) for r in results] == [
        ("p1", "hit"),
        ("2", "error"),
        ("o1", "hit"),
        ("o2", "error"),
        ("p2", "no_hit"),
        ("6", "error"),
    ]
    assert "invalid JSON" in results[1]["error"]
    assert "check digit" in results[3]["errors"]["value"]


def test_batch_limits_are_clear_problems(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    line = json.dumps({"type": "object", "kind": "plate", "value": "B-AB 1234"})
    problem(batch(api, [line] * 10_001), 413)
    problem(batch(api, ["", "  "]), 422)
    assert "purpose" in str(problem(batch(api, [line], api.officer_b | {"X-Purpose": ""}), 403))
    person = json.dumps({"full_name": "Aleksandr Ivanov"})
    assert "personal data" in str(problem(batch(api, [line, person], api.officer_wa), 403))
    monkeypatch.setattr(alerts_api, "MAX_BATCH_BYTES", 10)
    problem(batch(api, [line]), 413)


def test_import_endpoint_reports_rows(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [json.dumps(stolen_car()), json.dumps(example("vehicle", subject={"vin": "bad"}))]
    response = api.client.post(
        "/api/v1/alerts/import?filename=cars.ndjson",
        content="\n".join(lines).encode(),
        headers=api.manager_a | {"Content-Type": "application/x-ndjson"},
    )
    report = response.json()
    assert (report["accepted"], report["rejected"]) == (1, 1)
    assert "subject.vin" in report["rows"][1]["message"]
    csv_body = "category,reason,plate,plate_country\nnumber_plate,lost,M-XY 1,DE\n"
    response = api.client.post(
        "/api/v1/alerts/import",
        content=csv_body.encode(),
        headers=api.manager_a | {"Content-Type": "text/csv"},
    )
    assert response.json()["accepted"] == 1
    problem(
        api.client.post("/api/v1/alerts/import?format=csv", content=b"", headers=api.manager_a),
        422,
    )
    problem(api.client.post("/api/v1/alerts/import", content=b"{}", headers=api.officer_b), 403)
    monkeypatch.setattr(importing, "MAX_BYTES", 5)
    problem(api.client.post("/api/v1/alerts/import", content=b"{}" * 5, headers=api.manager_a), 413)


def test_categories_are_published(api: Api) -> None:
    categories = api.client.get("/api/v1/alert-categories", headers=api.officer_b).json()
    red = next(c for c in categories if c["code"] == "notice_red")
    assert red["subject_kind"] == "person"
    assert red["review_period"] == "3 years"
    assert red["subjects"]["Person"]["warrant_reference"]["required"] is True
    warnings = api.client.get("/api/v1/alert-warnings", headers=api.officer_b).json()
    assert {"code": "armed", "label": "Armed", "subjects": "person"} in warnings
