"""Checks: names in any script through the matching engine, objects by identifier keys; the
action to take, warnings, flags in the flagging agency only; purpose required and audited;
what each partner framework may see."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from liaison.alerts import checks, service
from liaison.alerts.checks import object_query, person_query
from liaison.core.actor import Role
from liaison.core.audit import AuditEntry
from liaison.core.errors import NotFound, PayloadTooLarge, PermissionDenied
from tests.alerts.conftest import PURPOSE, World, arrest, passport, stolen_car
from tests.alerts.examples import example


def test_a_transliterated_name_finds_the_arrest_alert_with_its_action(world: World) -> None:
    alert = world.issue(arrest())
    for fields in (
        {"full_name": "Александр Иванов", "dob": "1980-03-12"},
        {"given_name": "ALEXANDR", "family_name": "IWANOW", "dob": "12.03.1980"},
        {"full_name": "Ivanov Aleksandr", "dob": "1980-03-12", "nationality": "RUS"},
    ):
        result = world.check_person(world.officer_b, **fields)
        assert result.outcome == "hit", fields
        [hit] = result.hits
        data = hit.as_dict()
        assert data["alert_id"] == alert.id
        assert data["category"] == "arrest_surrender"
        assert data["action_here"].startswith("Arrest the person for surrender")
        assert [w["code"] for w in data["warnings"]] == ["armed", "violent"]
        assert data["issuer"] == "DE-BKA"
        assert data["band"] in ("match", "possible")
        assert "name agrees" in data["explanation"]
        assert data["subject"]["warrant_reference"] == "EAW-2026-0042"


def test_someone_else_is_no_hit(world: World) -> None:
    world.issue(arrest())
    result = world.check_person(world.officer_b, full_name="Jan de Vries", dob="1975-01-01")
    assert result.as_dict() == {"ref": "check", "type": "person", "outcome": "no_hit", "hits": []}


def test_the_index_follows_changes_and_deletions(world: World) -> None:
    alert = world.issue(arrest())
    assert world.check_person(world.officer_b, full_name="Aleksandr Ivanov", dob="1980-03-12").hits
    with world.db.session() as s:
        service.change(
            s, world.actor(world.manager_a), alert.id, {"subject": {"family_name": "Smirnov"}}
        )
    assert world.check_person(world.officer_b, full_name="Aleksandr Smirnov", dob="1980-03-12").hits
    with world.db.session() as s:
        service.remove(s, world.actor(world.manager_a), alert.id)
    assert not world.check_person(
        world.officer_b, full_name="Aleksandr Smirnov", dob="1980-03-12"
    ).hits


def test_marks_only_alerts_are_not_found_by_name(world: World) -> None:
    world.issue(example("unknown_wanted"))
    world.issue(example("notice_black"))
    assert world.check_person(world.officer_b, full_name="LM-2026-001 Duisburg").outcome == "no_hit"


def test_flags_show_in_the_flagging_agency_only(world: World) -> None:
    alert = world.issue(arrest())
    with world.db.session() as s:
        service.flag(s, world.actor(world.manager_b), alert.id, reason="time-barred in NL")
    query = {"full_name": "Aleksandr Ivanov", "dob": "1980-03-12"}
    [here] = world.check_person(world.officer_b, **query).hits
    assert here.flagged_here
    assert "do NOT execute" in here.action_here
    assert "time-barred in NL" in here.action_here
    assert here.as_dict()["flags"][0]["agency"] == "NL-NP"
    [elsewhere] = world.check_person(world.officer_fr, **query).hits
    assert not elsewhere.flagged_here
    assert elsewhere.as_dict()["flags"] == []
    assert elsewhere.action_here.startswith("Arrest")


@pytest.mark.parametrize(
    ("fields", "band"),
    [
        ({"kind": "plate", "value": "bab1234", "country": "D"}, "match"),
        ({"kind": "plate", "value": "B AB 1234"}, "match"),
        ({"kind": "plate", "value": "BAB1234", "country": "PL"}, "possible"),
        ({"kind": "vin", "value": "wvwzzz1jzxw000001"}, "match"),
        ({"kind": "document", "value": "C01X00T47", "country": "DEU"}, "match"),
        ({"kind": "document", "value": "C01X00T47", "country": "FR"}, "possible"),
        ({"kind": "firearm", "value": "ABC-123", "make": "GLOCK"}, "match"),
        ({"kind": "firearm", "value": "ABC123"}, "possible"),
        ({"kind": "firearm", "value": "ABC123", "make": "Beretta"}, "possible"),
        ({"kind": "banknote", "value": "X12345678901", "make": "EUR"}, "match"),
        ({"kind": "banknote", "value": "X12345678901", "make": "USD"}, "possible"),
    ],
)
def test_object_checks_by_identifier(world: World, fields: dict[str, str], band: str) -> None:
    world.issue(stolen_car())
    world.issue(passport())
    world.issue(example("firearm"))
    world.issue(example("banknote"))
    [hit] = world.check_object(world.officer_b, **fields).hits
    assert hit.band == band
    assert hit.as_dict()["action_here"].startswith("Seize")


def test_a_person_check_with_a_document_finds_a_stolen_passport(world: World) -> None:
    world.issue(passport())
    result = world.check_person(
        world.officer_b, full_name="Hans Meier", document_number="C01X00T47", document_country="D"
    )
    assert [h.view.alert.category for h in result.hits] == ["document_issued"]


def test_checks_need_a_purpose_and_are_audited_with_it(world: World) -> None:
    world.issue(stolen_car())
    with pytest.raises(PermissionDenied, match="purpose"):
        world.check_object(world.officer_b, purpose=None, kind="plate", value="BAB1234")
    with pytest.raises(PermissionDenied, match="purpose"):
        world.check_person(world.officer_b, purpose="  ", full_name="Jan")
    world.check_object(world.officer_b, kind="plate", value="BAB1234")
    world.check_person(world.officer_b, full_name="Jan de Vries")
    with world.db.session() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action.like("check.%"))).all()
    assert [(e.action, e.purpose) for e in entries] == [
        ("check.object", PURPOSE),
        ("check.person", PURPOSE),
    ]
    assert json.loads(entries[0].detail)["outcome"] == "hit"
    assert json.loads(entries[1].detail)["outcome"] == "no_hit"


def test_alert_managers_check_too_but_analysts_do_not(world: World) -> None:
    world.issue(stolen_car())
    assert world.check_object(world.manager_b, kind="plate", value="BAB1234").hits
    analyst = replace(world.actor(world.officer_b), roles=frozenset({Role.ANALYST}))
    with world.db.session() as s, pytest.raises(PermissionDenied, match="check"):
        checks.check_object(s, analyst, {"kind": "plate", "value": "BAB1234"})


def test_working_arrangement_partners_get_no_person_alert_content(world: World) -> None:
    alert = world.issue(arrest())
    world.issue(stolen_car())
    world.issue(passport())
    with pytest.raises(PermissionDenied, match="excludes personal data"):
        world.check_person(world.officer_wa, full_name="Aleksandr Ivanov", dob="1980-03-12")
    with world.db.session() as s, pytest.raises(NotFound):
        service.read(s, world.actor(world.officer_wa), alert.id)
    [car] = world.check_object(world.officer_wa, kind="plate", value="BAB1234").hits
    assert car.as_dict()["subject"]["plate"] == "B-AB 1234"  # no personal data in it
    [document] = world.check_object(world.officer_wa, kind="document", value="C01X00T47").hits
    shown = document.as_dict()
    assert shown["visibility"] == "hit_only"
    assert "subject" not in shown
    assert "notes" not in shown
    assert shown["action_here"].startswith("Seize the document")


def test_international_organisations_without_a_personal_data_basis_likewise(world: World) -> None:
    alert = world.issue(arrest())
    with pytest.raises(PermissionDenied, match="excludes personal data"):
        world.check_person(world.officer_io, full_name="Aleksandr Ivanov")
    with world.db.session() as s, pytest.raises(NotFound):
        service.read(s, world.actor(world.officer_io), alert.id)


def test_nothing_above_the_checking_agencys_accreditation(world: World) -> None:
    world.issue(arrest() | {"classification": "confidential"})
    world.issue(stolen_car() | {"classification": "confidential"})
    query = {"full_name": "Aleksandr Ivanov", "dob": "1980-03-12"}
    low = world.check_person(world.officer_low, **query)
    assert low.outcome == "no_hit"
    assert low.hidden == 1
    assert world.check_object(world.officer_low, kind="plate", value="BAB1234").outcome == "no_hit"
    assert world.check_person(world.officer_b, **query).outcome == "hit"


def test_diffusions_reach_the_selected_countries_only(world: World) -> None:
    raw = example("diffusion", diffusion_countries=["FR"])
    alert = world.issue(raw)
    query = {"given_name": "Marta", "family_name": "Kowalczyk"}
    assert world.check_person(world.officer_fr, **query).outcome == "hit"
    assert world.check_person(world.officer_b, **query).outcome == "no_hit"
    assert world.check_person(world.officer_a, **query).outcome == "hit"  # the issuer
    with world.db.session() as s, pytest.raises(NotFound):
        service.read(s, world.actor(world.officer_b), alert.id)


def test_batch_checks_stream_in_order_with_one_audit_entry_per_chunk(world: World) -> None:
    world.issue(arrest())
    world.issue(stolen_car())
    queries: list[checks.Query] = []
    for n in range(checks.CHUNK + 3):
        if n % 2:
            queries.append(object_query({"kind": "plate", "value": "B-AB 1234"}, f"o{n}"))
        else:
            queries.append(person_query({"full_name": f"Person Number{n}"}, f"p{n}"))
    queries.append(person_query({"full_name": "Aleksandr Ivanov", "dob": "1980-03-12"}, "wanted"))
    with world.db.session() as s:
        results = list(checks.check_batch(s, world.actor(world.officer_b), queries))
    assert [r.ref for r in results] == [q.ref for q in queries]
    assert results[1].outcome == "hit"
    assert results[0].outcome == "no_hit"
    assert results[-1].hits[0].view.alert.category == "arrest_surrender"
    with world.db.session() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "check.batch")).all()
    assert [json.loads(e.detail)["items"] for e in entries] == [checks.CHUNK, 4]
    assert all(e.purpose == PURPOSE for e in entries)


def test_batches_beyond_the_limit_are_refused(world: World) -> None:
    query = object_query({"kind": "plate", "value": "B-AB 1234"})
    with world.db.session() as s, pytest.raises(PayloadTooLarge, match="10,000"):
        list(checks.check_batch(s, world.actor(world.officer_b), [query] * (checks.MAX_BATCH + 1)))
