"""The shared information system's API end to end: contribute, bulk, upload, search, inbox,
requests for details, identity-conflict review, batch search — with problem details on errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from liaison.core.actor import Role
from liaison.core.settings import Settings
from liaison.db.engine import Database
from liaison.entities.crosscheck import run_pending
from liaison.entities.model import Entity, EntityVersion
from tests.support.factories import agency, user
from tests.support.web import bearer, make_app


@dataclass
class Api:
    db: Database
    client: TestClient
    a: dict[str, str]
    b: dict[str, str]
    b_reviewer: dict[str, str]


@pytest.fixture
def api(db: Database, settings: Settings) -> Iterator[Api]:
    with db.session() as s:
        a = agency(s, "DE-BKA", country="DE")
        b = agency(s, "NL-NP", country="NL")
        headers_a = bearer(s, user(s, a, Role.OFFICER))
        headers_b = bearer(s, user(s, b, Role.OFFICER))
        reviewer_b = bearer(s, user(s, b, Role.ANALYST))
    purpose = {"X-Purpose": "case 2026/44"}
    client = TestClient(make_app(db, settings))
    return Api(db, client, headers_a | purpose, headers_b | purpose, reviewer_b | purpose)


PERSON = {
    "type": "Person",
    "id": "DE-77",
    "subject_category": "suspect",
    "handling": "H1",
    "evaluation": "B2",
    "crime_area": "drug_trafficking",
    "properties": {
        "given_name": "Aleksandr",
        "family_name": "Ivanov",
        "dob": "1980-03-12",
        "document_number": "P1234567",
        "document_country": "RU",
    },
}


def test_contribute_is_idempotent_on_the_contributors_id(api: Api) -> None:
    first = api.client.post("/api/v1/entities", json=PERSON, headers=api.a)
    assert first.status_code == 201, first.text
    assert first.json()["outcome"] == "created"
    again = api.client.post("/api/v1/entities", json=PERSON, headers=api.a)
    assert again.json() == first.json() | {"outcome": "unchanged"}
    changed = PERSON | {"properties": PERSON["properties"] | {"nationality": "RU"}}
    updated = api.client.post("/api/v1/entities", json=changed, headers=api.a)
    assert updated.json()["outcome"] == "updated"
    assert updated.json()["version"] == 2
    with api.db.session() as s:
        assert len(s.scalars(select(EntityVersion)).all()) == 2


def test_bad_record_is_a_problem_naming_each_field(api: Api) -> None:
    bad = {"type": "Person", "properties": {"dob": "31.02.1980"}, "handling": "H9"}
    response = api.client.post("/api/v1/entities", json=bad, headers=api.a)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert {"handling", "subject_category", "properties.dob"} <= set(errors)


def test_bulk_ndjson_keeps_good_rows_and_reports_bad_ones(api: Api) -> None:
    lines = [
        json.dumps(PERSON),
        "{not json",
        json.dumps({"type": "Vehicle", "id": "V-1", "properties": {"plate": "B-AB 1234"}}),
        json.dumps({"type": "Spaceship", "id": "S-1", "properties": {}}),
        json.dumps(PERSON | {"id": "DE-77"}),
    ]
    response = api.client.post(
        "/api/v1/entities/bulk", content="\n".join(lines).encode(), headers=api.a
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["total"], report["accepted"], report["rejected"]) == (5, 2, 3)
    rows = api.client.get(f"/api/v1/ingest/{report['batch']}/rows", headers=api.a).json()
    by_line = {r["line"]: r for r in rows}
    assert by_line[1]["outcome"] == "accepted"
    assert by_line[2]["outcome"] == "rejected"
    assert "Spaceship" in by_line[4]["message"]
    assert "appears again (first on line 1)" in by_line[5]["message"]
    other = api.client.get(f"/api/v1/ingest/{report['batch']}", headers=api.b)
    assert other.status_code == 404


def test_another_agency_sees_hit_only_and_asks_for_details(api: Api) -> None:
    created = api.client.post("/api/v1/entities", json=PERSON, headers=api.a).json()
    response = api.client.get("/api/v1/search", params={"q": "Александр Иванов"}, headers=api.b)
    assert response.status_code == 200, response.text
    [hit] = response.json()["hits"]
    assert hit["owner"] == "DE-BKA"
    assert hit["visibility"] == "hit_only"
    assert hit["markings"]["handling"] == "H1"
    assert hit["markings"]["evaluation"] == "B2"
    assert "properties" not in hit
    assert "explanation" not in hit
    read = api.client.get(f"/api/v1/entities/{created['id']}", headers=api.b).json()
    assert "properties" not in read
    asked = api.client.post(
        f"/api/v1/entities/{created['id']}/details-requests",
        json={"justification": "same suspect in our drug case 2026/44"},
        headers=api.b,
    )
    assert asked.status_code == 201, asked.text
    incoming = api.client.get("/api/v1/details-requests", headers=api.a).json()
    assert [r["justification"] for r in incoming] == ["same suspect in our drug case 2026/44"]


def test_search_needs_a_purpose(api: Api) -> None:
    headers = {k: v for k, v in api.b.items() if k != "X-Purpose"}
    response = api.client.get("/api/v1/search", params={"q": "Ivanov"}, headers=headers)
    assert response.status_code == 403
    assert "purpose" in response.json()["detail"]


def test_cross_match_inbox_tells_both_owners_only_that_a_match_exists(api: Api) -> None:
    api.client.post("/api/v1/entities", json=PERSON, headers=api.a)
    theirs = {
        "type": "Person",
        "id": "NL-5",
        "subject_category": "contact",
        "properties": {"full_name": "IVANOV Aleksandr", "dob": "12/03/1980"},
    }
    api.client.post("/api/v1/entities", json=theirs, headers=api.b)
    run_pending(api.db)
    [for_a] = api.client.get("/api/v1/cross-matches", headers=api.a).json()
    [for_b] = api.client.get("/api/v1/cross-matches", headers=api.b).json()
    assert for_a["other_owner"] == "NL-NP"
    assert for_b["other_owner"] == "DE-BKA"
    assert for_b["other_markings"]["handling"] == "H1"
    assert for_b["own_record"]["source_ref"] == "NL-5"
    assert "IVANOV" not in json.dumps(for_a)  # nothing of B's record reaches A
    assert "P1234567" not in json.dumps(for_b)  # nor of A's record B
    assert "Ivanov" not in json.dumps(for_b)


def test_upload_csv_with_suggested_mapping(api: Api) -> None:
    csv_text = (
        "Record ID,First Name,Surname,Date of Birth,Passport No\n"
        "R1,Jan,Kowalski,1990-05-05,AB1234567\n"
        "R2,,,,\n"
        "R3,Maria,Nowak,31/02/1970,\n"
    )
    response = api.client.post(
        "/api/v1/entities/upload",
        files={"file": ("people.csv", csv_text.encode(), "text/csv")},
        data={"entity_type": "Person", "defaults": json.dumps({"subject_category": "witness"})},
        headers=api.a,
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["accepted"], report["rejected"]) == (1, 2)
    rows = api.client.get(f"/api/v1/ingest/{report['batch']}/rows", headers=api.a).json()
    rejected = {r["line"]: r["message"] for r in rows if r["outcome"] == "rejected"}
    assert set(rejected) == {3, 4}  # no name at all; an impossible date of birth
    assert "31/02/1970" in rejected[4]
    with api.db.session() as s:
        [entity] = s.scalars(select(Entity)).all()
    assert entity.properties["family_name"] == "Kowalski"
    assert entity.subject_category == "witness"


def test_identity_conflict_review_is_recorded(api: Api) -> None:
    api.client.post("/api/v1/entities", json=PERSON, headers=api.a)
    other = {
        "type": "Person",
        "id": "NL-9",
        "subject_category": "suspect",
        "properties": {
            "given_name": "Pieter",
            "family_name": "de Vries",
            "dob": "2001-07-30",
            "document_number": "P1234567",
        },
    }
    api.client.post("/api/v1/entities", json=other, headers=api.b)
    run_pending(api.db)
    officer_view = api.client.get("/api/v1/identity-conflicts", headers=api.b)
    assert officer_view.status_code == 403  # officers do not verify identity links
    [conflict] = api.client.get("/api/v1/identity-conflicts", headers=api.b_reviewer).json()
    assert conflict["colour"] == "yellow"
    assert conflict["records"][0]["caption"].startswith("a record of") or conflict["records"][1][
        "caption"
    ].startswith("a record of")
    review = api.client.post(
        f"/api/v1/identity-conflicts/{conflict['id']}/review",
        json={"colour": "red", "note": "forged passport seen at Schiphol"},
        headers=api.b_reviewer,
    )
    assert review.status_code == 200, review.text
    assert review.json()["colour"] == "red"
    assert api.client.get("/api/v1/identity-conflicts", headers=api.b_reviewer).json() == []


def test_batch_search_streams_one_line_per_query(api: Api) -> None:
    api.client.post("/api/v1/entities", json=PERSON, headers=api.a)
    queries = [
        {"ref": "q1", "full_name": "Ivanov Aleksandr", "dob": "1980-03-12"},
        {"ref": "q2", "document_number": "P 123 4567"},
        {"ref": "q3", "full_name": "Nobody Known"},
        {"ref": "q4", "shoe_size": "44"},
    ]
    body = "\n".join(json.dumps(q) for q in queries).encode()
    response = api.client.post("/api/v1/search/batch", content=body, headers=api.b)
    assert response.status_code == 200, response.text
    lines = {
        (d := json.loads(line))["ref"]: d for line in response.text.splitlines() if line.strip()
    }
    assert len(lines["q1"]["hits"]) == 1
    assert lines["q2"]["hits"][0]["owner"] == "DE-BKA"
    assert lines["q3"]["hits"] == []
    assert "unknown query fields" in lines["q4"]["error"]
