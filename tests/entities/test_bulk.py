"""Bulk ingestion stores exactly what record-by-record contribution would, and reports every row."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from liaison.core import audit
from liaison.core.audit import AuditEntry
from liaison.entities import ingest
from liaison.entities.model import Entity, EntityKey, EntitySequence, EntityVersion, IngestRow
from liaison.entities.schema import SCHEMA
from liaison.entities.service import (
    exact_keys,
    insert_new,
    parse_contribution,
    person_record,
)
from liaison.matching import prepare
from liaison.matching.keys import identifier_keys
from tests.entities.conftest import World, person


def _ingest(world: World, records: list[Any], name: str) -> ingest.Report:
    actor = world.actor(world.officer_a)
    return ingest.ingest_rows(
        world.db, actor, ingest.json_rows(records), source_format="json", filename=name
    )


def _audit(world: World, after: int) -> list[AuditEntry]:
    with world.db.session() as s:
        return list(
            s.scalars(select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq))
        )


def _last_audit(world: World) -> int:
    with world.db.session() as s:
        return int(s.scalar(select(func.max(AuditEntry.seq))) or 0)


def test_a_mixed_chunk_stores_reports_versions_and_audits_every_row(world: World) -> None:
    first = [
        person("A1", given_name="Anna", family_name="Schmidt", dob="1988-01-02"),
        person("A2", given_name="Bert", family_name="Meier", phone="+49 30 1234567"),
        person("A3", given_name="Carl", family_name="Weber", email="carl.weber@example.org"),
        {"type": "Vehicle", "id": "V1", "properties": {"vin": "WVWZZZ1JZXW000001"}},
    ]
    _ingest(world, first, "first")
    before = _last_audit(world)
    with world.db.session() as s:
        seq_before = int(s.scalar(select(EntitySequence.value)) or 0)
    second: list[Any] = [
        person("A1", given_name="Anna", family_name="Schmidt", dob="1988-01-02"),  # unchanged
        person("A2", given_name="Bertram", family_name="Meier", phone="+49 30 1234567"),
        person("N1", given_name="Dora", family_name="Klein", document_number="C01X00T47"),
        "not an object",
        person("N2", given_name="Emil", dob="not a date"),
        person("N1", given_name="Dora", family_name="Klein"),  # again in the batch
        {"type": "Vehicle", "id": "A3", "properties": {"vin": "WVWZZZ1JZXW000002"}},
        person("N3", full_name="Fritz Lang", national_id="not valid 1", nationality="DE"),
        {**person("N4", given_name="Gina"), "classification": "TOP_SECRET"},
        {**person("N5", given_name="Hans"), "handling": "H7"},
    ]
    report = _ingest(world, second, "second")
    b = report.batch
    assert (b.total, b.accepted, b.updated, b.unchanged, b.rejected) == (10, 2, 1, 1, 6)
    assert b.status == "done"

    with world.db.session() as s:
        rows = {r.line: r for r in s.scalars(select(IngestRow).where(IngestRow.batch_id == b.id))}
        entities = {e.source_ref: e for e in s.scalars(select(Entity))}
        versions = {(v.entity_id, v.version): v for v in s.scalars(select(EntityVersion))}
        keys = {(k.entity_id, k.key) for k in s.scalars(select(EntityKey))}
        seq_after = int(s.scalar(select(EntitySequence.value)) or 0)
        assert audit.verify(s).ok

    assert {line: r.outcome for line, r in rows.items()} == {
        1: "unchanged",
        2: "updated",
        3: "accepted",
        4: "rejected",
        5: "rejected",
        6: "rejected",
        7: "rejected",
        8: "accepted",
        9: "rejected",
        10: "rejected",
    }
    assert rows[4].message == "each record must be a JSON object"
    assert "dob" in rows[5].message
    assert "appears again (first on line 3)" in rows[6].message
    assert "is a Person, not a Vehicle" in rows[7].message
    assert "accredited" in rows[9].message
    assert "H0, H1, H2 or H3" in rows[10].message
    assert "National identification number" in rows[8].message  # a warning, yet stored
    for line in (1, 2, 3, 8):
        assert rows[line].entity_id == entities[rows[line].source_ref].id
    assert all(rows[line].entity_id is None for line in (4, 5, 6, 7, 9, 10))

    # Stored records: new ones at version 1, the change at version 2, nothing else touched.
    assert set(entities) == {"A1", "A2", "A3", "V1", "N1", "N3"}
    assert entities["A2"].version == 2
    assert entities["A2"].properties["given_name"] == "Bertram"
    assert entities["A1"].version == 1
    assert entities["A3"].version == 1
    n1, n3 = entities["N1"], entities["N3"]
    assert (n1.version, n1.batch_id, n1.crosscheck_pending) == (1, b.id, True)
    assert n1.caption == "Dora Klein"
    assert n1.subject_category == "suspect"
    assert n3.warnings
    assert n3.warnings[0].startswith("National identification number")
    assert versions[(n1.id, 1)].change == "created"
    assert versions[(n1.id, 1)].properties == n1.properties
    assert versions[(n1.id, 1)].markings["review_date"] == n1.review_date.isoformat()
    assert versions[(entities["A2"].id, 2)].change == "updated"
    assert (n1.id, "document:C01X00T47") in keys
    assert (entities["A2"].id, "phone:+49301234567") in keys
    assert sum(1 for e, _ in keys if e == entities["A2"].id) == len(
        exact_keys(entities["A2"].id, "Person", entities["A2"].properties)
    )
    # Every change has its own change number, all above those before the batch.
    changed = [entities[r].change_seq for r in ("A2", "N1", "N3")]
    assert len(set(changed)) == 3
    assert min(changed) > seq_before
    assert max(changed) == seq_after

    # One entry naming the new records, one per changed record, one for the batch.
    entries = _audit(world, before)
    assert [e.action for e in entries] == ["entity.create", "entity.update", "entity.ingest"]
    created = json.loads(entries[0].detail)
    assert created["batch"] == b.id
    assert {(r["id"], r["source_ref"]) for r in created["records"]} == {
        (n1.id, "N1"),
        (n3.id, "N3"),
    }
    assert entries[1].object_id == entities["A2"].id
    assert json.loads(entries[2].detail) | {} == {
        "format": "json",
        "filename": "second",
        "created": 2,
        "updated": 1,
        "unchanged": 1,
        "rejected": 6,
    }


def test_chunks_commit_on_their_own_and_count_as_they_go(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "CHUNK", 3)
    records = [person(f"P{i}", given_name="Name", family_name=f"Family{i}") for i in range(8)]
    records[4] = {"type": "Person", "id": "bad", "properties": []}
    seen: list[int] = []
    actor = world.actor(world.officer_a)
    report = ingest.ingest_rows(
        world.db,
        actor,
        ingest.json_rows(records),
        source_format="json",
        filename="small chunks",
        progress=seen.append,
    )
    assert seen == [3, 6, 8]
    assert (report.batch.total, report.batch.accepted, report.batch.rejected) == (8, 7, 1)
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(EntityVersion)) == 7
        creates = s.scalars(select(AuditEntry).where(AuditEntry.action == "entity.create")).all()
    assert sorted(len(json.loads(e.detail)["records"]) for e in creates) == [2, 2, 3]


def test_a_refused_insert_is_an_integrity_error_and_leaves_the_session_usable(
    world: World,
) -> None:
    actor = world.actor(world.officer_a)
    world.add(world.officer_a, person("R1", given_name="Anna", family_name="Schmidt"))
    taken = parse_contribution(person("R1", given_name="Other", family_name="Person"))
    fresh = parse_contribution(person("R2", given_name="Bert", family_name="Meier"))
    with world.db.session() as s:
        with pytest.raises(IntegrityError), s.begin_nested():
            insert_new(s, actor, [fresh, taken], batch_id=None)
        [stored] = insert_new(s, actor, [fresh], batch_id=None)
    with world.db.session() as s:
        refs = sorted(r for r in s.scalars(select(Entity.source_ref)) if r is not None)
        assert refs == ["R1", "R2"]
        assert s.scalar(select(func.count()).select_from(EntityVersion)) == 2
        assert s.get(Entity, stored.id) is not None
        assert audit.verify(s).ok


RECORDS: list[tuple[str, dict[str, str]]] = [
    (
        "Person",
        {
            "given_name": "Sofia",
            "family_name": "Nikolaou",
            "dob": "1968-07-10",
            "nationality": "GR",
            "document_number": "S67008470",
            "document_country": "GR",
            "national_id": "GR967900366",
            "phone": "6912345678",
            "country": "GR",
            "email": "Sofia.Nikolaou@Example.org",
        },
    ),
    ("Person", {"full_name": "Li Wei", "phone": "+86 138 0013 8000", "nationality": "CN"}),
    ("Person", {"family_name": "Brown", "dob": "1970", "phone": "020 7946 0958"}),
    ("Person", {"given_name": "Olga", "national_id": "1234", "nationality": "UA"}),
    ("Vehicle", {"vin": "WVWZZZ1JZXW000001", "plate": "B-AB 1234", "plate_country": "DE"}),
    ("Phone", {"number": "+33 6 12 34 56 78"}),
    ("Email", {"address": "someone@example.org"}),
    ("BankAccount", {"iban": "DE89 3704 0044 0532 0130 00"}),
]


@pytest.mark.parametrize(("entity_type", "props"), RECORDS)
def test_exact_keys_are_the_keys_of_the_whole_prepared_record(
    entity_type: str, props: dict[str, str]
) -> None:
    etype = SCHEMA.get(entity_type)
    given = {k: v for k, v in props.items() if k in etype.properties}
    canonical, _warnings = etype.validate(given)
    record = person_record(entity_type, canonical)
    assert record is not None
    whole = prepare(record, "x")
    expected = {k.removeprefix("id:")[:200] for k in identifier_keys(whole)}
    if entity_type == "Person" and whole.dob is not None and whole.dob.day:
        expected.add(f"dob:{whole.dob.iso()}")
    assert exact_keys("x", entity_type, canonical) == sorted(expected)
    assert expected or entity_type == "Person"


def test_bulk_rows_give_every_column(world: World) -> None:
    from liaison.entities.service import insert_rows

    with world.db.session() as s, pytest.raises(ValueError, match="every column"):
        insert_rows(s, EntityKey.__table__, [{"entity_id": "x"}])  # type: ignore[arg-type]


def test_a_reupload_writes_only_what_changed_and_revives_deleted_records(world: World) -> None:
    from liaison.entities.service import remove

    records = [person(f"U{i}", given_name="Name", family_name=f"Family{i}") for i in range(4)]
    _ingest(world, records, "first")
    with world.db.session() as s:
        gone = s.scalars(select(Entity).where(Entity.source_ref == "U3")).one()
        remove(s, world.actor(world.officer_a), gone.id)
    before = _last_audit(world)
    records[1] = person("U1", given_name="Other", family_name="Family1")
    report = _ingest(world, records, "again")
    b = report.batch
    assert (b.accepted, b.updated, b.unchanged, b.rejected) == (0, 2, 2, 0)
    with world.db.session() as s:
        stored = {e.source_ref: e for e in s.scalars(select(Entity))}
        versions = s.scalar(select(func.count()).select_from(EntityVersion))
    assert [stored[f"U{i}"].version for i in range(4)] == [1, 2, 1, 3]
    assert not stored["U3"].deleted
    assert versions == 4 + 1 + 2  # created, deleted, then the two changes
    entries = _audit(world, before)
    assert [(e.action, e.object_id) for e in entries] == [
        ("entity.update", stored["U1"].id),
        ("entity.update", stored["U3"].id),
        ("entity.ingest", b.id),
    ]


def test_refused_changes_together_are_stored_one_by_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [person(f"W{i}", given_name="Name", family_name=f"Family{i}") for i in range(3)]
    _ingest(world, records, "first")

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise IntegrityError("UPDATE", {}, Exception("refused"))

    monkeypatch.setattr(ingest, "revise_many", refuse)
    records[0] = person("W0", given_name="Other", family_name="Family0")
    records[2] = person("W2", given_name="Other", family_name="Family2")
    records.append(person("W3", given_name="New", family_name="Family3"))
    report = _ingest(world, records, "again")
    b = report.batch
    assert (b.accepted, b.updated, b.unchanged, b.rejected) == (1, 2, 1, 0)
    with world.db.session() as s:
        stored = {e.source_ref: e for e in s.scalars(select(Entity))}
        assert audit.verify(s).ok
    assert [stored[f"W{i}"].version for i in range(4)] == [2, 1, 2, 1]
    assert stored["W2"].properties["given_name"] == "Other"
