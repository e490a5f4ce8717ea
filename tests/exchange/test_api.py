"""The exchange API end to end: send (JSON and multipart), inbox filters and cursors, read,
reply, forward with consent, acknowledge, export/import, cases — problem details on every error."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liaison.core.actor import Role
from liaison.core.agencies import PartnerFramework
from liaison.core.markings import Classification
from liaison.core.settings import Settings
from liaison.db.engine import Database
from liaison.exchange.model import Message
from tests.support.factories import agency, user
from tests.support.web import bearer, make_app


@dataclass
class Api:
    db: Database
    client: TestClient
    de: dict[str, str]
    nl: dict[str, str]
    fr: dict[str, str]
    dpo: dict[str, str]

    def count(self) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(Message)) or 0)


@pytest.fixture
def api(db: Database, settings: Settings) -> Iterator[Api]:
    with db.session() as s:
        de = agency(s, "DE-BKA", country="DE")
        nl = agency(s, "NL-NP", country="NL", accreditation=Classification.RESTRICTED)
        fr = agency(s, "FR-PN", country="FR")
        agency(s, "XA-POL", framework=PartnerFramework.THIRD_COUNTRY_WORKING_ARRANGEMENT)
        headers = [
            bearer(s, user(s, de, Role.OFFICER)),
            bearer(s, user(s, nl, Role.OFFICER)),
            bearer(s, user(s, fr, Role.OFFICER)),
            bearer(s, user(s, de, Role.DPO)),
        ]
    small = settings.model_copy(update={"attachment_max_bytes": 5000})
    return Api(db, TestClient(make_app(db, small)), *headers)


REQUEST: dict[str, Any] = {
    "to": ["NL-NP"],
    "subject": "Keeper of NL plate 12-ABC-3",
    "body": "Please identify the registered keeper.",
    "message_type": "request",
    "priority": "urgent",
    "accessibility": "direct",
    "legal_basis": "Directive (EU) 2023/977 Art. 4",
    "purpose": "robbery investigation DE-2026-0412",
    "crime_area": "robbery_aggravated_theft",
    "handling": "H1",
    "classification": "RESTRICTED",
    "items": [
        {
            "ref": "p1",
            "type": "Person",
            "evaluation": "B2",
            "properties": {"given_name": "Jan", "family_name": "de Vries", "dob": "1984-03-07"},
        },
        {
            "ref": "v1",
            "type": "Vehicle",
            "evaluation": "A1",
            "properties": {"plate": "12-ABC-3", "plate_country": "NL"},
        },
    ],
    "links": [{"source": "p1", "target": "v1", "type": "owns_uses"}],
}


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def test_send_read_reply_closes_the_request(api: Api) -> None:
    sent = api.client.post("/api/v1/messages", json=REQUEST, headers=api.de)
    assert sent.status_code == 201, sent.text
    body = sent.json()
    [recipient] = body["recipients"]
    assert recipient["agency"] == "NL-NP"
    assert recipient["open"]
    assert "8 hours" in recipient["deadline_rule"]

    inbox = api.client.get("/api/v1/messages?unread=true&urgent=true", headers=api.nl).json()
    assert [m["id"] for m in inbox["items"]] == [body["id"]]
    counts = api.client.get("/api/v1/messages/counts", headers=api.nl).json()
    assert counts["unread"] == 1
    assert counts["urgent_unread"] == 1
    assert counts["open_requests"] == 1

    read = api.client.get(f"/api/v1/messages/{body['id']}", headers=api.nl).json()
    assert read["signature"]["valid"] is True
    assert read["markings"]["judicial_use_warning"].startswith("Not for use in judicial")
    assert read["markings"]["classification_label"].startswith("RESTREINT UE")
    assert [i["evaluation"] for i in read["items"]] == ["B2", "A1"]
    assert "most instances proved to be reliable" in read["items"][0]["evaluation_meaning"]
    assert read["deadline_at"] is not None

    reply = api.client.post(
        f"/api/v1/messages/{body['id']}/reply",
        json={
            "subject": "Re: keeper",
            "body": "Registered in Utrecht.",
            "legal_basis": "Directive (EU) 2023/977 Art. 5",
            "purpose": "answer",
        },
        headers=api.nl,
    )
    assert reply.status_code == 201, reply.text
    after = api.client.get("/api/v1/messages?open=true", headers=api.nl).json()
    assert after["items"] == []
    mine = api.client.get(f"/api/v1/messages/{body['id']}", headers=api.de).json()
    assert mine["recipients"][0]["status"] == "answered"
    assert mine["replies"] == [reply.json()["id"]]


def test_refused_recipient_is_a_problem_naming_the_rule_and_nothing_is_sent(api: Api) -> None:
    body = problem(
        api.client.post("/api/v1/messages", json=REQUEST | {"to": ["XA-POL"]}, headers=api.de),
        403,
    )
    assert "XA-POL" in body["detail"]
    assert "working arrangement" in body["detail"]
    body = problem(
        api.client.post(
            "/api/v1/messages", json=REQUEST | {"classification": "SECRET"}, headers=api.de
        ),
        403,
    )
    assert "accredited only up to RESTRICTED" in body["detail"]
    assert api.count() == 0


@pytest.mark.parametrize(
    ("change", "status", "fragment"),
    [
        ({"subject": ""}, 422, "subject"),
        ({"handling": "H3"}, 422, "H3 needs its conditions"),
        ({"classification": "ULTRA"}, 422, "unknown classification"),
        ({"crime_area": "jaywalking"}, 422, "unknown crime area"),
        ({"to": ["ZZ-NONE"]}, 422, "no agency"),
        ({"items": [{"ref": "p1", "type": "Person", "properties": {}}]}, 422, "evaluation"),
        ({"surprise": 1}, 422, "surprise"),
        ({"body": "a\x00b"}, 422, "control characters"),
    ],
)
def test_bad_messages_are_problem_details(
    api: Api, change: dict[str, Any], status: int, fragment: str
) -> None:
    body = problem(
        api.client.post("/api/v1/messages", json=REQUEST | change, headers=api.de), status
    )
    assert fragment in json.dumps(body), body
    assert api.count() == 0


def test_malformed_json_and_base64(api: Api) -> None:
    problem(
        api.client.post(
            "/api/v1/messages",
            content=b"{not json",
            headers=api.de | {"content-type": "application/json"},
        ),
        422,
    )
    bad = REQUEST | {"attachments": [{"filename": "a.txt", "content_base64": "!!!"}]}
    assert (
        "not base64"
        in problem(api.client.post("/api/v1/messages", json=bad, headers=api.de), 422)["detail"]
    )


def test_multipart_attachments_sizes_and_types(api: Api) -> None:
    files = [("attachment", ("scan.txt", b"keeper record\n", "text/plain"))]
    sent = api.client.post(
        "/api/v1/messages", data={"message": json.dumps(REQUEST)}, files=files, headers=api.de
    )
    assert sent.status_code == 201, sent.text
    read = api.client.get(f"/api/v1/messages/{sent.json()['id']}", headers=api.nl).json()
    [att] = read["attachments"]
    download = api.client.get(att["href"], headers=api.nl)
    assert download.content == b"keeper record\n"
    assert download.headers["x-liaison-handling"] == "H1"
    assert "judicial" in download.headers["x-liaison-warning"]
    assert "attachment;" in download.headers["content-disposition"]

    big = [("attachment", ("big.bin", bytes(5001), "application/octet-stream"))]
    body = problem(
        api.client.post(
            "/api/v1/messages", data={"message": json.dumps(REQUEST)}, files=big, headers=api.de
        ),
        413,
    )
    assert "5,000 bytes" in body["detail"]
    exe = REQUEST | {
        "attachments": [
            {
                "filename": "report.pdf",
                "content_base64": base64.b64encode(b"MZ" + bytes(100)).decode(),
            }
        ]
    }
    problem(api.client.post("/api/v1/messages", json=exe, headers=api.de), 415)
    assert api.count() == 1


def test_idempotency_key_header(api: Api) -> None:
    key = {"Idempotency-Key": "de-2026-0001"}
    first = api.client.post("/api/v1/messages", json=REQUEST, headers=api.de | key)
    again = api.client.post("/api/v1/messages", json=REQUEST, headers=api.de | key)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    other = api.client.post(
        "/api/v1/messages", json=REQUEST | {"subject": "different"}, headers=api.de | key
    )
    problem(other, 409)
    assert api.count() == 1


def test_cursor_pagination_and_filters(api: Api) -> None:
    for i in range(5):
        api.client.post(
            "/api/v1/messages",
            json=REQUEST | {"subject": f"n{i}", "priority": "normal" if i % 2 else "urgent"},
            headers=api.de,
        )
    page = api.client.get("/api/v1/messages?limit=2", headers=api.nl).json()
    seen = [m["subject"] for m in page["items"]]
    while page["next_cursor"]:
        page = api.client.get(
            f"/api/v1/messages?limit=2&cursor={page['next_cursor']}", headers=api.nl
        ).json()
        seen += [m["subject"] for m in page["items"]]
    assert seen == ["n4", "n3", "n2", "n1", "n0"]
    urgent = api.client.get("/api/v1/messages?urgent=true", headers=api.nl).json()["items"]
    assert [m["subject"] for m in urgent] == ["n4", "n2", "n0"]
    sent = api.client.get("/api/v1/messages?folder=sent&agency=NL-NP", headers=api.de).json()
    assert len(sent["items"]) == 5
    assert sent["items"][0]["recipients"] == 1
    problem(api.client.get("/api/v1/messages?cursor=garbage", headers=api.nl), 422)
    problem(api.client.get("/api/v1/messages?folder=trash", headers=api.nl), 422)


def test_strangers_get_404_and_dpo_has_no_exchange(api: Api) -> None:
    sent = api.client.post("/api/v1/messages", json=REQUEST, headers=api.de).json()
    problem(api.client.get(f"/api/v1/messages/{sent['id']}", headers=api.fr), 404)
    problem(api.client.get("/api/v1/messages", headers=api.dpo), 403)
    problem(api.client.get("/api/v1/messages", headers={}), 401)


def test_forward_h2_returns_202_and_consent_decides(api: Api) -> None:
    h2 = REQUEST | {"handling": "H2", "message_type": "information", "accessibility": None}
    sent = api.client.post("/api/v1/messages", json=h2, headers=api.de).json()
    forward = api.client.post(
        f"/api/v1/messages/{sent['id']}/forward",
        json={"to": ["FR-PN"], "note": "joint investigation"},
        headers=api.nl,
    )
    assert forward.status_code == 202, forward.text
    consent = forward.json()["consent"]
    assert consent["status"] == "pending"
    assert consent["provider"] == "DE-BKA"
    pending = api.client.get("/api/v1/consents", headers=api.de).json()["items"]
    assert [c["id"] for c in pending] == [consent["id"]]
    problem(
        api.client.post(
            f"/api/v1/consents/{consent['id']}/decision", json={"grant": True}, headers=api.nl
        ),
        404,
    )
    decided = api.client.post(
        f"/api/v1/consents/{consent['id']}/decision", json={"grant": True}, headers=api.de
    )
    assert decided.json()["status"] == "granted"
    fr_inbox = api.client.get("/api/v1/messages", headers=api.fr).json()["items"]
    assert [m["handling"] for m in fr_inbox] == ["H2"]


def test_export_json_and_xml_carry_the_markings(api: Api) -> None:
    h3 = REQUEST | {"handling": "H3", "h3_conditions": "Not for customs."}
    sent = api.client.post("/api/v1/messages", json=h3, headers=api.de).json()
    as_json = api.client.get(f"/api/v1/messages/{sent['id']}/export?format=json", headers=api.nl)
    assert as_json.status_code == 200, as_json.text
    doc = as_json.json()
    assert doc["markings"]["h3_conditions"] == "Not for customs."
    assert doc["signature"]["algorithm"] == "Ed25519"
    assert [i["evaluation"] for i in doc["items"]] == ["B2", "A1"]
    as_xml = api.client.get(f"/api/v1/messages/{sent['id']}/export?format=xml", headers=api.nl)
    assert as_xml.status_code == 200
    assert b"Not for customs." in as_xml.content
    h1 = api.client.post("/api/v1/messages", json=REQUEST, headers=api.de).json()
    h1_doc = api.client.get(f"/api/v1/messages/{h1['id']}/export", headers=api.nl).json()
    assert h1_doc["judicial_use_warning"].startswith("Not for use in judicial")


def test_import_a_document_round_trip(api: Api) -> None:
    sent = api.client.post("/api/v1/messages", json=REQUEST, headers=api.de).json()
    doc = api.client.get(f"/api/v1/messages/{sent['id']}/export", headers=api.de).json()
    for key in ("id", "case", "signature", "sent_at", "deadline_at", "judicial_use_warning"):
        doc.pop(key, None)
    imported = api.client.post("/api/v1/messages/import", json=doc, headers=api.de)
    assert imported.status_code == 201, imported.text
    again = api.client.get(f"/api/v1/messages/{imported.json()['id']}", headers=api.nl).json()
    assert again["subject"] == REQUEST["subject"]
    assert [i["properties"] for i in again["items"]] == [
        i["properties"]
        for i in api.client.get(f"/api/v1/messages/{sent['id']}", headers=api.nl).json()["items"]
    ]
    xml = api.client.get(f"/api/v1/messages/{sent['id']}/export?format=xml", headers=api.de).content
    by_xml = api.client.post(
        "/api/v1/messages/import", content=xml, headers=api.de | {"content-type": "application/xml"}
    )
    assert by_xml.status_code == 201, by_xml.text
    # Someone else's document cannot be sent as one's own.
    problem(api.client.post("/api/v1/messages/import", json=doc, headers=api.fr), 422)
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    problem(
        api.client.post(
            "/api/v1/messages/import",
            content=evil,
            headers=api.de | {"content-type": "application/xml"},
        ),
        422,
    )


def test_cases_api(api: Api) -> None:
    case = api.client.post(
        "/api/v1/cases",
        json={
            "title": "Operation Harbour",
            "crime_area": "drug_trafficking",
            "participants": ["NL-NP"],
        },
        headers=api.de,
    ).json()
    assert case["title"] == "Operation Harbour"
    assert case["status"] == "open"
    api.client.post("/api/v1/messages", json=REQUEST | {"case_id": case["id"]}, headers=api.de)
    timeline = api.client.get(f"/api/v1/cases/{case['id']}", headers=api.nl).json()
    assert timeline["participants"] == ["DE-BKA", "NL-NP"]
    assert [m["subject"] for m in timeline["timeline"]] == [REQUEST["subject"]]
    problem(api.client.post(f"/api/v1/cases/{case['id']}/close", headers=api.nl), 403)
    closed = api.client.post(f"/api/v1/cases/{case['id']}/close", headers=api.de).json()
    assert closed["status"] == "closed"
    problem(api.client.get(f"/api/v1/cases/{case['id']}", headers=api.fr), 404)


def test_reference_endpoints(api: Api) -> None:
    grounds = api.client.get("/api/v1/exchange/refusal-grounds", headers=api.de).json()
    assert "not_available" in grounds
    assert len(grounds) == 8
    assert api.client.get("/api/v1/schemas/message.xsd").content.startswith(b"<?xml")
    assert "properties" in api.client.get("/api/v1/schemas/message.schema.json").json()
    api.client.post("/api/v1/messages", json=REQUEST, headers=api.de)
    keys = api.client.get("/api/v1/agencies/DE-BKA/signing-keys", headers=api.nl).json()
    assert len(keys["keys"]) == 1
    assert len(base64.b64decode(keys["keys"][0]["public_key"])) == 32


def test_oversized_import_refused_before_parsing(api: Api) -> None:
    huge = b"<" + b"a" * 20_000_001
    body = problem(
        api.client.post(
            "/api/v1/messages/import",
            content=huge,
            headers=api.de | {"content-type": "application/xml"},
        ),
        413,
    )
    assert "20,000,000 bytes" in body["detail"]
    assert api.count() == 0
