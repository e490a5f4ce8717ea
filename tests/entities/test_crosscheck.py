"""The automatic cross-check: both owners told, withdrawn when it no longer holds, objects by
identifier, identity conflicts for shared documents with different identities."""

from __future__ import annotations

from sqlalchemy import select

from liaison.entities.model import CrossMatch, IdentityConflict
from liaison.entities.search import search
from liaison.entities.service import change, remove
from tests.entities.conftest import World, person


def _matches(world: World) -> list[CrossMatch]:
    with world.db.session() as s:
        return list(s.scalars(select(CrossMatch).order_by(CrossMatch.created_at)))


def test_same_person_in_two_agencies_is_a_cross_match_for_both_owners(world: World) -> None:
    a = world.add(
        world.officer_a,
        person(
            "A-1", given_name="Aleksandr", family_name="Ivanov", dob="1980-03-12", nationality="RU"
        ),
    )
    b = world.add(world.officer_b, person("B-9", full_name="Александр Иванов", dob="12.03.1980"))
    world.add(
        world.officer_b, person("B-10", given_name="Maria", family_name="Jansen", dob="1975-01-01")
    )
    assert world.crosscheck() == 3
    [cm] = _matches(world)
    assert {cm.left_id, cm.right_id} == {a.id, b.id}
    assert {cm.left_owner_id, cm.right_owner_id} == {world.a.id, world.b.id}
    assert cm.band in {"match", "possible"}
    assert cm.status == "active"
    assert world.crosscheck() == 0  # nothing pending any more


def test_records_of_one_owner_never_cross_match(world: World) -> None:
    world.add(
        world.officer_a, person("A-1", given_name="Jan", family_name="Kowalski", dob="1990-05-05")
    )
    world.add(
        world.officer_a, person("A-2", given_name="Jan", family_name="Kowalski", dob="1990-05-05")
    )
    world.crosscheck()
    assert _matches(world) == []


def test_change_and_delete_withdraw_the_cross_match(world: World) -> None:
    a = world.add(
        world.officer_a,
        person(
            "A-1",
            given_name="Jan",
            family_name="Kowalski",
            dob="1990-05-05",
            document_number="AB1234567",
        ),
    )
    world.add(
        world.officer_b,
        person(
            "B-1",
            given_name="Jan",
            family_name="Kowalski",
            dob="1990-05-05",
            document_number="AB1234567",
        ),
    )
    world.crosscheck()
    assert [m.status for m in _matches(world)] == ["active"]
    with world.db.session() as s:
        change(
            s,
            world.actor(world.officer_a),
            a.id,
            {"properties": {"given_name": "Petra", "family_name": "Nowak", "dob": "1961-11-30"}},
        )
    world.crosscheck()
    assert [m.status for m in _matches(world)] == ["withdrawn"]
    with world.db.session() as s:
        change(
            s,
            world.actor(world.officer_a),
            a.id,
            {"properties": {"given_name": "Jan", "family_name": "Kowalski", "dob": "1990-05-05"}},
        )
    world.crosscheck()
    assert [m.status for m in _matches(world)] == ["active"]
    with world.db.session() as s:
        remove(s, world.actor(world.officer_a), a.id)
    world.crosscheck()
    assert [m.status for m in _matches(world)] == ["withdrawn"]


def test_vehicles_cross_match_on_the_canonical_plate(world: World) -> None:
    world.add(
        world.officer_a,
        {"type": "Vehicle", "id": "V1", "properties": {"plate": "B-AB 1234", "plate_country": "D"}},
    )
    world.add(
        world.officer_b,
        {"type": "Vehicle", "id": "V7", "properties": {"plate": "bab1234", "make": "Audi"}},
    )
    world.add(world.officer_b, {"type": "Vehicle", "id": "V8", "properties": {"plate": "B-XY 999"}})
    world.crosscheck()
    [cm] = _matches(world)
    assert cm.entity_type == "Vehicle"
    assert cm.band == "match"
    assert "BAB1234" in cm.explanation


def test_shared_passport_with_different_identities_is_a_yellow_conflict(world: World) -> None:
    world.add(
        world.officer_a,
        person(
            "A-1",
            given_name="Omar",
            family_name="Haddad",
            dob="1985-02-02",
            nationality="SY",
            document_number="N0123456",
            document_country="SY",
        ),
    )
    world.add(
        world.officer_b,
        person(
            "B-1",
            given_name="Lena",
            family_name="Berg",
            dob="1999-09-09",
            nationality="SE",
            document_number="N0123456",
            document_country="SY",
        ),
    )
    world.crosscheck()
    with world.db.session() as s:
        [conflict] = s.scalars(select(IdentityConflict)).all()
    assert conflict.colour == "yellow"
    assert conflict.identifier == "document:N0123456"
    assert "not similar" in conflict.reason


def test_search_finds_the_name_in_another_script(world: World) -> None:
    a = world.add(
        world.officer_a,
        person("A-1", given_name="Aleksandr", family_name="Ivanov", dob="1980-03-12"),
    )
    with world.db.session() as s:
        results = search(s, world.actor(world.officer_b), "Александр Иванов")
    assert [h.entity.id for h in results.hits] == [a.id]
    hit = results.hits[0]
    assert not hit.full
    view = hit.as_dict()
    assert view["owner"] == "DE-BKA"
    assert "properties" not in view
    assert "explanation" not in view


def test_background_runner_checks_what_is_kicked(world: World) -> None:
    from liaison.entities.crosscheck import Runner

    runner = Runner(world.db)
    try:
        world.add(
            world.officer_a, person("A-1", given_name="Ana", family_name="Silva", dob="1992-12-01")
        )
        world.add(
            world.officer_b, person("B-1", given_name="Ana", family_name="Silva", dob="1992-12-01")
        )
        runner.kick()
        assert runner.wait_idle(timeout=60)
        assert runner.error is None
        assert [m.status for m in _matches(world)] == ["active"]
    finally:
        runner.stop()
