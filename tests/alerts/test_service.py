"""Issuing, changing, deleting, flagging, reviewing and expiring alerts: issuer-only changes,
versions with who/when/what, audit entries, reminders and automatic expiry."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import select

from liaison.alerts import service
from liaison.alerts.categories import CATEGORIES
from liaison.alerts.drafts import parse_alert
from liaison.alerts.model import Alert, AlertIdentifier, AlertStatus, AlertVersion
from liaison.core.agencies import PartnerFramework
from liaison.core.audit import AuditEntry
from liaison.core.clock import frozen
from liaison.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from liaison.core.markings import Classification
from liaison.entities.service import contribute, parse_contribution
from tests.alerts.conftest import World, arrest, stolen_car
from tests.alerts.examples import SUBJECTS, example

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def test_every_category_issues_with_its_action(world: World) -> None:
    with world.db.session() as s:
        actor = world.actor(world.manager_a)
        for code in SUBJECTS:
            alert = service.issue(s, actor, parse_alert(example(code)))
            assert alert.action == CATEGORIES[code].action
            assert alert.status == "active"
            assert alert.subject_kind == CATEGORIES[code].subject_kind
        keys = set(s.scalars(select(AlertIdentifier.key)))
    assert {"plate:BAB1234", "document:C01X00T47", "card:4111111111111111"} <= keys
    assert "firearm:GLOCK:ABC123" in keys
    assert "firearm:ABC123" in keys  # the serial alone, a weak key


def test_issue_is_audited_and_versioned(world: World) -> None:
    alert = world.issue(arrest())
    with world.db.session() as s:
        versions = s.scalars(select(AlertVersion).where(AlertVersion.alert_id == alert.id)).all()
        assert [(v.version, v.change, v.changed_by) for v in versions] == [
            (1, "issued", "a.manager")
        ]
        assert versions[0].snapshot["subject"]["family_name"] == "Ivanov"
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "alert.issue")).one()
        assert entry.object_id == alert.id


def test_only_alert_managers_issue_and_not_above_accreditation(world: World) -> None:
    with world.db.session() as s, pytest.raises(PermissionDenied, match="issue_alert"):
        service.issue(s, world.actor(world.officer_a), parse_alert(arrest()))
    restricted = replace(world.actor(world.manager_b), accreditation=Classification.RESTRICTED)
    with world.db.session() as s, pytest.raises(PermissionDenied, match="accredited"):
        service.issue(s, restricted, parse_alert(arrest() | {"classification": "secret"}))
    working_arrangement = replace(world.actor(world.manager_b), personal_data_allowed=False)
    with world.db.session() as s, pytest.raises(PermissionDenied, match="excludes personal data"):
        service.issue(s, working_arrangement, parse_alert(arrest()))
    with world.db.session() as s:  # objects without personal data: allowed
        service.issue(s, working_arrangement, parse_alert(stolen_car()))


def test_the_issuers_reference_is_unique(world: World) -> None:
    world.issue(arrest() | {"id": "EAW-1"})
    with pytest.raises(Conflict, match="EAW-1"):
        world.issue(arrest() | {"id": "EAW-1"})
    world.issue(arrest() | {"id": "EAW-1"}, who=world.manager_b)  # another agency's reference


def test_change_by_the_issuer_only_with_history(world: World) -> None:
    alert = world.issue(arrest())
    with world.db.session() as s, pytest.raises(PermissionDenied, match="issuing agency"):
        service.change(s, world.actor(world.manager_b), alert.id, {"reason": "mine now"})
    with world.db.session() as s:
        changed = service.change(
            s,
            world.actor(world.manager_a),
            alert.id,
            {"subject": {"dob": "1980-03-21", "birth_place": "Omsk"}, "warnings": ["armed"]},
        )
        assert changed.version == 2
        assert changed.properties["birth_place"] == "Omsk"
        assert changed.properties["family_name"] == "Ivanov"  # merged, not replaced
        same = service.change(s, world.actor(world.manager_a), alert.id, {"warnings": ["armed"]})
        assert same.version == 2  # nothing changed: no new version
    with world.db.session() as s:
        view = service.read(s, world.actor(world.manager_a), alert.id)
        history = view.as_dict()["history"]
        assert [h["change"] for h in history] == ["changed", "issued"]
        assert history[0]["snapshot"]["subject"]["dob"] == "1980-03-21"
        assert history[1]["snapshot"]["subject"]["dob"] == "1980-03-12"
        assert "history" not in service.read(s, world.actor(world.officer_b), alert.id).as_dict()


def test_a_change_is_validated_like_an_issue(world: World) -> None:
    alert = world.issue(arrest())
    with world.db.session() as s:
        actor = world.actor(world.manager_a)
        with pytest.raises(ValidationFailed) as caught:
            service.change(s, actor, alert.id, {"subject": {"warrant_reference": None}})
        assert "subject.warrant_reference" in caught.value.extra["errors"]
        with pytest.raises(ValidationFailed, match="category"):
            service.change(s, actor, alert.id, {"category": "notice_red"})
    with world.db.session() as s:
        assert s.get(Alert, alert.id).version == 1  # type: ignore[union-attr]


def test_delete_by_the_issuer_only_keeps_the_history(world: World) -> None:
    alert = world.issue(stolen_car())
    with world.db.session() as s, pytest.raises(PermissionDenied):
        service.remove(s, world.actor(world.manager_b), alert.id)
    with world.db.session() as s:
        service.remove(s, world.actor(world.manager_a), alert.id, reason="found and returned")
    with world.db.session() as s:
        row = s.get(Alert, alert.id)
        assert row is not None
        assert row.status == "deleted"
        assert (
            s.scalars(select(AlertIdentifier).where(AlertIdentifier.alert_id == alert.id)).all()
            == []
        )
        with pytest.raises(NotFound):
            service.read(s, world.actor(world.officer_b), alert.id)
    with world.db.session() as s:
        history = service.read(s, world.actor(world.manager_a), alert.id).versions
        assert next(v.note for v in history) == "found and returned"
    assert world.check_object(world.officer_b, kind="plate", value="B-AB 1234").outcome == "no_hit"


def test_links_to_related_alerts_and_records(world: World) -> None:
    first = world.issue(arrest())
    with world.db.session() as s:
        entity, _ = contribute(
            s,
            world.actor(world.officer_a),
            parse_contribution(
                {
                    "type": "Person",
                    "subject_category": "suspect",
                    "properties": {"full_name": "Aleksandr Ivanov"},
                }
            ),
        )
    second = world.issue(stolen_car() | {"related_alerts": [first.id], "entities": [entity.id]})
    with world.db.session() as s:
        view = service.read(s, world.actor(world.manager_a), second.id).as_dict()
    assert view["related_alerts"] == [first.id]
    assert view["entities"] == [entity.id]
    with pytest.raises(ValidationFailed, match="no alert"):
        world.issue(stolen_car("M-XY 1") | {"related_alerts": ["0" * 26]})
    with pytest.raises(ValidationFailed, match="no record"):
        world.issue(stolen_car("M-XY 2") | {"entities": ["0" * 26]})


def test_flags_by_other_member_state_agencies(world: World) -> None:
    alert = world.issue(arrest())
    with world.db.session() as s:
        with pytest.raises(PermissionDenied, match="changes or deletes its own"):
            service.flag(s, world.actor(world.manager_a), alert.id, reason="no")
        with pytest.raises(ValidationFailed, match="reason"):
            service.flag(s, world.actor(world.manager_b), alert.id, reason="  ")
        row = service.flag(s, world.actor(world.manager_b), alert.id, reason="time-barred here")
        assert row.active
    with world.db.session() as s:
        service.unflag(s, world.actor(world.manager_b), alert.id)
        with pytest.raises(NotFound):
            service.unflag(s, world.actor(world.manager_b), alert.id)


def test_review_extends_within_the_period_with_a_justification(world: World) -> None:
    with frozen(T0):
        alert = world.issue(arrest())
        assert alert.review_date == dt.date(2029, 3, 1)
    with frozen(T0 + dt.timedelta(days=700)), world.db.session() as s:
        actor = world.actor(world.manager_a)
        with pytest.raises(ValidationFailed, match="justification"):
            service.review(s, actor, alert.id, justification="")
        with pytest.raises(ValidationFailed, match="at the latest"):
            service.review(s, actor, alert.id, justification="ok", until=dt.date(2031, 1, 31))
        reviewed = service.review(s, actor, alert.id, justification="warrant still in force")
        assert reviewed.review_date == dt.date(2031, 1, 30)
        with pytest.raises(PermissionDenied):
            service.review(s, world.actor(world.manager_b), alert.id, justification="x")
    with world.db.session() as s:
        version = s.scalars(
            select(AlertVersion).where(AlertVersion.alert_id == alert.id, AlertVersion.version == 2)
        ).one()
        assert (version.change, version.note) == ("reviewed", "warrant still in force")


def test_reminders_list_alerts_due_for_review(world: World) -> None:
    with frozen(T0):
        soon = world.issue(arrest() | {"review_date": "2026-04-15"})
        later = world.issue(stolen_car())
        world.issue(stolen_car("M-AB 9") | {"review_date": "2026-04-01"}, who=world.manager_b)
    with frozen(T0 + dt.timedelta(days=30)), world.db.session() as s:
        due = service.reminders(s, world.actor(world.manager_a), days=30)
        assert [a.id for a in due] == [soon.id]
        assert later.id not in [a.id for a in service.due_for_review(s, days=365)]
        assert len(service.due_for_review(s, days=60)) == 2  # every agency's, for the CLI


def test_automatic_expiry_at_validity_or_unreviewed_review_date(world: World) -> None:
    with frozen(T0):
        valid = world.issue(stolen_car() | {"valid_until": "2026-06-30"})
        unreviewed = world.issue(arrest() | {"review_date": "2026-05-01"})
        lasting = world.issue(stolen_car("M-XY 77"))
    with frozen(dt.datetime(2026, 6, 30, 23, 0, tzinfo=dt.UTC)), world.db.session() as s:
        assert [a.id for a in service.expire_due(s)] == [unreviewed.id]
    with frozen(dt.datetime(2026, 7, 1, 0, 1, tzinfo=dt.UTC)), world.db.session() as s:
        assert [a.id for a in service.expire_due(s)] == [valid.id]
    with world.db.session() as s:
        statuses = {a.id: a.status for a in s.scalars(select(Alert))}
        assert statuses == {valid.id: "expired", unreviewed.id: "expired", lasting.id: "active"}
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "alert.status")).all()
        assert {e.object_id for e in entries} == {valid.id, unreviewed.id}
        assert all(e.actor_username == "system:alerts" for e in entries)
        with pytest.raises(Conflict, match="expired"):
            service.change(s, world.actor(world.manager_a), valid.id, {"reason": "again"})
    assert world.check_object(world.officer_b, kind="plate", value="B-AB 1234").outcome == "no_hit"


def test_lists_show_the_agencys_own_alerts_with_the_same_rules_and_pages(world: World) -> None:
    ids = [world.issue(stolen_car(f"B-AB {n}")).id for n in range(1, 6)]
    diffusion = world.issue(example("diffusion", diffusion_countries=["FR"])).id
    vehicles = service.AlertFilters(category="vehicle")
    with world.db.session() as s:
        own = world.actor(world.manager_a)
        first = service.list_alerts(s, own, vehicles, limit=3)
        assert [v.alert.id for v in first.items] == ids[::-1][:3]
        rest = service.list_alerts(s, own, vehicles, cursor=first.next_cursor)
        assert [v.alert.id for v in rest.items] == ids[::-1][3:]
        assert rest.next_cursor is None
        everything = service.list_alerts(s, own, service.AlertFilters())
        assert diffusion in [v.alert.id for v in everything.items]
        # Other agencies find these alerts by checks; they do not browse them.
        other = world.actor(world.manager_b)
        assert service.list_alerts(s, other, service.AlertFilters()).items == []
        with pytest.raises(PermissionDenied, match="found by checks"):
            service.list_alerts(s, other, service.AlertFilters(issuer_agency_id=world.a.id))
        hub = replace(other, framework=PartnerFramework.EU_BODY)
        listed = [v.alert.id for v in service.list_alerts(s, hub, service.AlertFilters()).items]
        assert set(ids) <= set(listed)
        assert diffusion not in listed  # a diffusion reaches its selected countries only
        with pytest.raises(ValidationFailed):
            service.AlertFilters(status="sleeping")
    assert AlertStatus.HIT_PENDING.label == "hit pending"
