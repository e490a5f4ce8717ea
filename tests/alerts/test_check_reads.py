"""How checks read the database: a batch answers exactly as single checks do, the checking
agency's own flags and the documented false hits come with the hit, the audit entry keeps its
purpose and hits, and an object check reads its alerts in one statement (two when a visible hit
has notes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from liaison.alerts import checks, hits, service
from liaison.alerts.checks import object_query, person_query
from liaison.core.audit import AuditEntry
from liaison.db.engine import Database
from liaison.identity.model import User
from tests.alerts.conftest import PURPOSE, World, arrest, passport, stolen_car
from tests.alerts.examples import example

OBJECTS: list[dict[str, str]] = [
    {"kind": "plate", "value": "B-AB 1234", "country": "DE"},
    {"kind": "plate", "value": "BAB1234", "country": "PL"},
    {"kind": "vin", "value": "WVWZZZ1JZXW000001"},
    {"kind": "document", "value": "C01X00T47", "country": "DE"},
    {"kind": "document", "value": "C01X00T47", "country": "FR"},
    {"kind": "firearm", "value": "ABC-123", "make": "Glock"},
    {"kind": "firearm", "value": "ABC123"},
    {"kind": "banknote", "value": "X12345678901", "make": "USD"},
    {"kind": "plate", "value": "M-XY 77", "country": "DE"},
    {"kind": "plate", "value": "GD 12345", "country": "PL"},
    {"kind": "plate", "value": "ZZ 99999", "country": "PL"},  # no alert
    {"kind": "vin", "value": "WVWZZZ1JZXW000002"},  # no alert
]


def issue_objects(world: World) -> dict[str, str]:
    """Object alerts of several kinds, one of them confidential; their ids by name."""
    return {
        "car": world.issue(stolen_car()).id,
        "passport": world.issue(passport()).id,
        "firearm": world.issue(example("firearm")).id,
        "banknote": world.issue(example("banknote")).id,
        "plate": world.issue(example("number_plate") | {"classification": "confidential"}).id,
        "discreet": world.issue(example("object_discreet_check")).id,
    }


def false_hit(world: World, alert_id: str, details: str) -> None:
    """NL confirms a hit on the alert, then documents it as a false hit (a note)."""
    officer = world.actor(world.officer_b)
    with world.db.session() as s:
        report = hits.confirm_hit(
            s,
            officer,
            alert_id,
            check_details={"place": "Venlo border crossing"},
            circumstances="routine check",
            action_taken="none yet",
        )
    with world.db.session() as s:
        hits.record_outcome(
            s, officer, report.id, outcome="false_hit", distinguishing_details=details
        )


def singles(world: World, who: User, queries: list[checks.Query]) -> list[dict[str, Any]]:
    out = []
    for query in queries:
        with world.db.session() as s:
            out.append(checks.check(s, world.actor(who), query).as_dict())
    return out


def batch(world: World, who: User, queries: list[checks.Query]) -> list[dict[str, Any]]:
    with world.db.session() as s:
        return [r.as_dict() for r in checks.check_batch(s, world.actor(who), queries)]


@contextmanager
def statements(world: World) -> Iterator[list[str]]:
    """The SQL statements run meanwhile, those of the audit log left out."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "audit_" not in statement:
            seen.append(statement)

    event.listen(world.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(world.db.engine, "before_cursor_execute", count)


def test_a_batch_answers_as_single_checks_do_for_every_viewer(world: World) -> None:
    ids = issue_objects(world)
    world.issue(arrest())
    with world.db.session() as s:
        service.flag(s, world.actor(world.manager_b), ids["car"], reason="seized already in NL")
    false_hit(world, ids["passport"], "passport NX1234567 is a different booklet")
    queries: list[checks.Query] = [
        object_query(fields, f"o{n}") for n, fields in enumerate(OBJECTS)
    ]
    queries.append(
        person_query(
            {"full_name": "Aleksandr Ivanov", "dob": "1980-03-12", "document_number": "C01X00T47"},
            "p",
        )
    )
    for who in (world.officer_b, world.officer_fr, world.officer_a, world.officer_low):
        single = singles(world, who, queries)
        assert batch(world, who, queries) == single, who.username
    single = singles(world, world.officer_wa, queries[:-1])
    assert batch(world, world.officer_wa, queries[:-1]) == single
    shown = {r["ref"]: r for r in single}
    assert shown["o3"]["hits"][0]["visibility"] == "hit_only"
    assert shown["o0"]["hits"][0]["visibility"] == "full"


def test_an_object_hit_carries_the_own_flag_and_the_false_hit_notes(world: World) -> None:
    ids = issue_objects(world)
    with world.db.session() as s:
        service.flag(s, world.actor(world.manager_b), ids["car"], reason="seized already in NL")
    false_hit(world, ids["car"], "same plate on a red Fiat, owner checked")
    [here] = world.check_object(world.officer_b, kind="plate", value="BAB1234").hits
    shown = here.as_dict()
    assert shown["flagged_here"]
    assert "do NOT execute" in shown["action_here"]
    assert [f["agency"] for f in shown["flags"]] == ["NL-NP"]
    assert shown["flags"][0]["reason"] == "seized already in NL"
    [note] = shown["notes"]
    assert note["kind"] == "look_alike"
    assert "red Fiat" in note["details"]
    [elsewhere] = world.check_object(world.officer_fr, kind="plate", value="BAB1234").hits
    assert not elsewhere.flagged_here
    assert elsewhere.as_dict()["flags"] == []
    assert [n["kind"] for n in elsewhere.as_dict()["notes"]] == ["look_alike"]
    with world.db.session() as s:
        service.unflag(s, world.actor(world.manager_b), ids["car"])
    [withdrawn] = world.check_object(world.officer_b, kind="plate", value="BAB1234").hits
    assert not withdrawn.flagged_here
    assert withdrawn.as_dict()["action_here"].startswith("Seize")


def test_an_object_check_reads_its_alerts_in_one_statement(world: World) -> None:
    """One statement; more only for a hit flagged by the checking agency or with notes."""
    ids = issue_objects(world)
    with world.db.session() as s:
        service.flag(s, world.actor(world.manager_b), ids["car"], reason="seized already in NL")
    false_hit(world, ids["passport"], "passport NX1234567 is a different booklet")
    with statements(world) as seen:
        assert world.check_object(world.officer_b, kind="plate", value="ZZ 99999").outcome == (
            "no_hit"
        )
    assert len(seen) == 1, seen
    with statements(world) as seen:
        [firearm] = world.check_object(world.officer_b, kind="firearm", value="ABC123").hits
    assert not firearm.flagged_here
    assert len(seen) == 1, seen
    with statements(world) as seen:
        [car] = world.check_object(world.officer_b, kind="plate", value="BAB1234").hits
    assert car.flagged_here
    assert len(seen) == 3, seen  # the flag and its agency's code, read because there is one
    with statements(world) as seen:
        [car] = world.check_object(world.officer_fr, kind="plate", value="BAB1234").hits
    assert not car.flagged_here
    assert len(seen) == 1, seen  # another agency's flag is not read
    with statements(world) as seen:
        [document] = world.check_object(world.officer_b, kind="document", value="C01X00T47").hits
    assert len(document.view.notes) == 1
    assert len(seen) == 2, seen  # the notes, read only because the hit has some
    with statements(world) as seen:
        [document] = world.check_object(world.officer_wa, kind="document", value="C01X00T47").hits
    assert "notes" not in document.as_dict()
    assert len(seen) == 1, seen  # a hit shown without its details needs no notes


def test_a_batch_reads_its_alerts_once_per_chunk(world: World) -> None:
    issue_objects(world)
    fields = OBJECTS + [
        {"kind": "plate", "value": f"ZZ {n:05d}", "country": "PL"} for n in range(checks.CHUNK)
    ]
    queries = [object_query(f, f"o{n}") for n, f in enumerate(fields)]
    with statements(world) as seen:
        results = batch(world, world.officer_b, queries)
    assert len(seen) == 2, seen  # one per chunk, however many keys
    assert results == singles(world, world.officer_b, queries[: len(OBJECTS)]) + [
        {"ref": f"o{n}", "type": "object", "outcome": "no_hit", "hits": []}
        for n in range(len(OBJECTS), len(fields))
    ]


def test_person_hits_are_read_with_their_details_in_one_statement(world: World) -> None:
    names = [
        f"{given} {family}"
        for given in ("Jonas", "Ewa", "Pieter", "Ana")
        for family in ("Lindqvist", "Szymańska", "Vermeulen", "Oliveira", "Kowalczyk")
    ]
    alerts = [
        world.issue(
            arrest(
                given_name=None,
                family_name=None,
                name_original=None,
                full_name=name,
                dob=f"19{60 + n}-01-0{1 + n % 9}",
            )
        )
        for n, name in enumerate(names)
    ]
    with world.db.session() as s:
        service.flag(s, world.actor(world.manager_b), alerts[3].id, reason="time-barred in NL")
    false_hit(world, alerts[5].id, "born in Utrecht, 1.62 m")
    queries: list[checks.Query] = [
        person_query({"full_name": name, "dob": f"19{60 + n}-01-0{1 + n % 9}"}, f"p{n}")
        for n, name in enumerate(names)
    ]
    with statements(world) as seen:
        results = batch(world, world.officer_b, queries)
    # The alerts with their issuer, flag and notes markers: one statement, besides the person
    # index catching up and the flag and the notes of the two hits that have them.
    reads = [s for s in seen if "FROM alerts" in s and "alert_notes.alert_id = alerts.id" in s]
    assert len(reads) == 1, seen
    assert len([s for s in seen if "FROM alert_flags" in s and s not in reads]) == 1, seen
    assert len([s for s in seen if "FROM alert_notes" in s and s not in reads]) == 1, seen
    assert [r["hits"][0]["alert_id"] for r in results] == [a.id for a in alerts]
    assert results[3]["hits"][0]["flagged_here"]
    assert [n["details"] for n in results[5]["hits"][0]["notes"]] == ["born in Utrecht, 1.62 m"]
    assert results == singles(world, world.officer_b, queries)


def test_object_checks_are_audited_with_purpose_and_hits(world: World) -> None:
    ids = issue_objects(world)
    world.check_object(world.officer_b, kind="plate", value="BAB1234")
    queries = [object_query(fields, f"o{n}") for n, fields in enumerate(OBJECTS)]
    batch(world, world.officer_b, queries)
    with world.db.session() as s:
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.action.like("check.%")).order_by(AuditEntry.seq)
        ).all()
    assert [(e.action, e.purpose) for e in entries] == [
        ("check.object", PURPOSE),
        ("check.batch", PURPOSE),
    ]
    single = json.loads(entries[0].detail)
    assert single["outcome"] == "hit"
    assert single["hits"] == [{"alert": ids["car"], "band": "match"}]
    chunk = json.loads(entries[1].detail)
    assert chunk["items"] == len(OBJECTS)
    assert chunk["hits"]["o0"] == [{"alert": ids["car"], "band": "match"}]
    assert chunk["hits"]["o1"] == [{"alert": ids["car"], "band": "possible"}]
    assert "o10" not in chunk["hits"]


def test_on_sqlite_the_reads_search_indexes_only(sqlite_db: Database) -> None:
    for by_key in (True, False):
        statement = checks._alert_reads(by_key=by_key, array=False)
        sql = statement.params(agency_id="A", values=["k1", "k2"]).compile(
            sqlite_db.engine, compile_kwargs={"literal_binds": True}
        )
        with sqlite_db.engine.connect() as conn:
            plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
        assert not [step for step in plan if step.startswith("SCAN")], plan
        first = "alert_identifiers USING INDEX ix_alert_identifiers_key" if by_key else "alerts"
        assert plan[0].startswith(f"SEARCH {first}"), plan
        assert any("alert_flags USING INDEX" in step for step in plan), plan
        assert any("alert_notes USING INDEX ix_alert_notes_alert" in step for step in plan), plan
