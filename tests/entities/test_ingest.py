"""Ingestion with hostile files: valid rows stored, invalid ones reported, nothing corrupted."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from sqlalchemy import func, select

from liaison.entities import ingest
from liaison.entities.model import Entity, EntityLink, IngestRow
from tests.entities.conftest import World, person


def _rows(world: World, batch_id: str) -> dict[int, IngestRow]:
    with world.db.session() as s:
        return {
            r.line: r for r in s.scalars(select(IngestRow).where(IngestRow.batch_id == batch_id))
        }


def _count(world: World) -> int:
    with world.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Entity)) or 0)


def _table(world: World, data: bytes, name: str = "x.csv", **defaults: str) -> ingest.Report:
    actor = world.actor(world.officer_a)
    _, rows = ingest.table_rows(
        data,
        name,
        entity_type="Person",
        mapping=None,
        defaults={"subject_category": "suspect", **defaults},
    )
    return ingest.ingest_rows(world.db, actor, rows, source_format="table", filename=name)


def test_mixed_valid_and_invalid_rows(world: World) -> None:
    data = (
        "id,first_name,surname,dob,email,handling\n"
        "1,Anna,Schmidt,1988-01-02,anna@example.org,H0\n"
        "2,Bert,Meier,not a date,,H0\n"
        "3,Carl,Weber,1970-07-07,,H7\n"
        "1,Anna,Schmidt,1988-01-02,,H0\n"
        '4,=HYPERLINK("http://evil"),Evil,1990-01-01,,H0\n'
        "5," + "x" * 20_000 + ",Long,1990-01-01,,H0\n"
        "6,Dora,Klein,1999-09-09,,H1\n"
    ).encode()
    report = _table(world, data)
    rows = _rows(world, report.batch.id)
    assert {line: r.outcome for line, r in rows.items()} == {
        2: "accepted",
        3: "rejected",
        4: "rejected",
        5: "rejected",
        6: "accepted",
        7: "rejected",
        8: "accepted",
    }
    assert "dob" in rows[3].message
    assert "H0, H1, H2 or H3" in rows[4].message
    assert "appears again" in rows[5].message
    assert _count(world) == 3
    with world.db.session() as s:
        evil = s.scalars(select(Entity).where(Entity.source_ref == "4")).one()
    assert evil.properties["given_name"] == '=HYPERLINK("http://evil")'  # data, never evaluated


def test_the_same_file_twice_is_unchanged_not_duplicated(world: World) -> None:
    data = b"id,first_name,surname\n1,Anna,Schmidt\n2,Bert,Meier\n"
    _table(world, data)
    again = _table(world, data)
    assert (again.batch.accepted, again.batch.unchanged) == (0, 2)
    assert _count(world) == 2


def test_broken_encodings(world: World) -> None:
    cp1252 = "id,first_name,surname\n1,Zoë,Müller\n".encode("cp1252")
    report = _table(world, cp1252)
    assert report.batch.accepted == 1
    with world.db.session() as s:
        [e] = s.scalars(select(Entity)).all()
    assert e.properties["family_name"] == "Müller"


def test_excel_upload_with_dates_and_numbers(world: World) -> None:
    import datetime as dt

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Record ID", "Given name", "Family name", "Date of birth", "National ID"])
    sheet.append([101, "Jan", "Novák", dt.datetime(1975, 4, 3), 7501234567])
    sheet.append([102, "", "", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    report = _table(world, buffer.getvalue(), "people.xlsx")
    rows = _rows(world, report.batch.id)
    assert rows[2].outcome == "accepted"
    assert rows[2].source_ref == "101"
    with world.db.session() as s:
        e = s.scalars(select(Entity)).one()
    assert e.properties["dob"] == "1975-04-03"


def test_ndjson_bulk_rejections_never_abort(world: World) -> None:
    lines = [
        json.dumps(person(f"P{i}", given_name="Name", family_name=f"Family{i}"))
        for i in range(1200)
    ]
    lines[10] = "{broken"
    lines[700] = json.dumps({"type": "Person", "id": "bad", "properties": []})
    actor = world.actor(world.officer_a)
    report = ingest.ingest_rows(
        world.db,
        actor,
        ingest.ndjson_rows("\n".join(lines).encode()),
        source_format="ndjson",
        filename="bulk",
    )
    assert (report.batch.total, report.batch.accepted, report.batch.rejected) == (1200, 1198, 2)
    assert _count(world) == 1198


def test_followthemoney_entities_and_relationships(world: World) -> None:
    entities = [
        {
            "id": "ofac-1",
            "schema": "Person",
            "properties": {
                "name": ["Viktor Bout"],
                "firstName": ["Viktor"],
                "lastName": ["Bout"],
                "birthDate": ["1967-01-13"],
                "nationality": ["ru"],
            },
        },
        {
            "id": "ofac-2",
            "schema": "Company",
            "properties": {"name": ["Air Cess"], "jurisdiction": ["lr"]},
        },
        {
            "id": "ofac-3",
            "schema": "Directorship",
            "properties": {"director": ["ofac-1"], "organization": ["ofac-2"]},
        },
        {"id": "ofac-4", "schema": "Airplane", "properties": {"name": ["Il-76"]}},
    ]
    data = "\n".join(json.dumps(e) for e in entities).encode()
    actor = world.actor(world.officer_a)
    links: list[tuple[int, dict[str, object]]] = []
    report = ingest.ingest_rows(
        world.db,
        actor,
        ingest.ftm_rows(data, {"subject_category": "suspect"}, links),
        source_format="ftm",
        filename="sanctions.json",
        after=ingest.link_ftm(actor, links),
    )
    rows = _rows(world, report.batch.id)
    assert rows[1].outcome == "accepted"
    assert rows[2].outcome == "accepted"
    assert rows[4].outcome == "rejected"
    assert "Airplane" in rows[4].message
    with world.db.session() as s:
        [row] = s.scalars(select(EntityLink)).all()
    assert row.link_type == "member_of"


def test_a_refused_bulk_insert_falls_back_to_row_by_row(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import IntegrityError

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise IntegrityError("INSERT", {}, Exception("refused"))

    monkeypatch.setattr(ingest, "insert_new", refuse)
    data = b"id,first_name,surname\n1,Anna,Schmidt\n2,,\n3,Bert,Meier\n"
    report = _table(world, data)
    assert (report.batch.accepted, report.batch.rejected) == (2, 1)
    assert _count(world) == 2
