"""Hit follow-up: a confirmed hit is a hit report (and a hit follow-up message) answered within
12 hours (configurable); overdue reports are listed; the alert follows; false hits become
notes shown on the next check."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from liaison.alerts import hits, service
from liaison.alerts.model import Alert, AlertNote, HitReport
from liaison.core.clock import frozen
from liaison.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from liaison.core.settings import Mode, Settings
from liaison.exchange.model import Message, MessageRecipient
from tests.alerts.conftest import World, arrest

T0 = dt.datetime(2026, 3, 1, 22, 0, tzinfo=dt.UTC)
QUERY = {"full_name": "Aleksandr Ivanov", "dob": "1980-03-12"}


def confirm(world: World, alert_id: str, **kw: Any) -> HitReport:
    with world.db.session() as s:
        return hits.confirm_hit(
            s,
            world.actor(world.officer_b),
            alert_id,
            check_details={"place": "Schiphol, passport control", "document": "RU 75 1234567"},
            circumstances="arriving from Istanbul",
            action_taken="held at the border",
            **kw,
        )


def status_of(world: World, alert_id: str) -> str:
    with world.db.session() as s:
        alert = s.get(Alert, alert_id)
        assert alert is not None
        return alert.status


def test_a_confirmed_hit_is_reported_with_a_12_hour_deadline(world: World) -> None:
    alert = world.issue(arrest())
    with frozen(T0):
        report = confirm(world, alert.id)
    assert report.deadline == T0 + dt.timedelta(hours=12)
    assert status_of(world, alert.id) == "hit_pending"
    with frozen(T0 + dt.timedelta(hours=1)), world.db.session() as s:
        message = s.get(Message, report.message_id)
        assert message is not None
        assert message.message_type == "hit_follow_up"
        assert (message.reference_type, message.reference_id) == ("hit_report", report.id)
        to_issuer = s.get(MessageRecipient, (message.id, world.a.id))
        assert to_issuer is not None
        assert to_issuer.deadline_at == report.deadline
        queue = hits.hit_report_queue(s, world.actor(world.manager_a))
        assert [v.report.id for v in queue] == [report.id]
        shown = queue[0].as_dict()
        assert shown["checking_agency"] == "NL-NP"
        assert shown["overdue"] is False
    # A hit-pending alert still answers checks.
    assert world.check_person(world.officer_fr, **QUERY).hits[0].view.alert.status == "hit_pending"


def test_the_deadline_is_configurable(world: World) -> None:
    alert = world.issue(arrest())
    settings = Settings(mode=Mode.TEST, hit_report_deadline_hours=4)
    with frozen(T0):
        report = confirm(world, alert.id, settings=settings)
    assert report.deadline == T0 + dt.timedelta(hours=4)


def test_overdue_hit_reports_are_listed(world: World) -> None:
    alert = world.issue(arrest())
    other = world.issue(arrest(given_name="Pyotr", dob="1979-01-01"))
    with frozen(T0):
        late = confirm(world, alert.id)
    with frozen(T0 + dt.timedelta(hours=6)):
        confirm(world, other.id)
    with frozen(T0 + dt.timedelta(hours=12, minutes=1)), world.db.session() as s:
        assert [r.id for r in hits.overdue_hit_reports(s)] == [late.id]
        queue = hits.hit_report_queue(s, world.actor(world.manager_a), overdue_only=True)
        assert [(v.report.id, v.overdue) for v in queue] == [(late.id, True)]
        assert hits.overdue_hit_reports(s, agency_id=world.b.id) == []


def test_the_issuer_answers_executed_and_the_alert_leaves_the_checks(world: World) -> None:
    alert = world.issue(arrest())
    report = confirm(world, alert.id)
    with world.db.session() as s, pytest.raises(PermissionDenied, match="issuing agency"):
        hits.answer_hit_report(
            s, world.actor(world.manager_b), report.id, answer="executed", text="x"
        )
    with world.db.session() as s:
        hits.answer_hit_report(
            s, world.actor(world.manager_a), report.id, answer="executed", text="surrender on 3/3"
        )
    assert status_of(world, alert.id) == "executed"
    assert world.check_person(world.officer_b, **QUERY).outcome == "no_hit"
    with world.db.session() as s:
        with pytest.raises(Conflict, match="answered"):
            hits.answer_hit_report(
                s, world.actor(world.manager_a), report.id, answer="keep_active", text="no"
            )
        replies = s.scalars(select(Message).where(Message.in_reply_to_id == report.message_id))
        assert [m.sender_agency_id for m in replies] == [world.a.id]


def test_keep_active_returns_the_alert_when_no_other_report_is_open(world: World) -> None:
    alert = world.issue(arrest())
    first = confirm(world, alert.id)
    second = confirm(world, alert.id)
    with world.db.session() as s:
        hits.answer_hit_report(
            s, world.actor(world.manager_a), first.id, answer="keep_active", text="not yet"
        )
    assert status_of(world, alert.id) == "hit_pending"
    with world.db.session() as s:
        hits.answer_hit_report(
            s, world.actor(world.manager_a), second.id, answer="keep_active", text="keep it"
        )
    assert status_of(world, alert.id) == "active"
    with world.db.session() as s, pytest.raises(ValidationFailed, match="answer must be"):
        hits.answer_hit_report(s, world.actor(world.manager_a), first.id, answer="maybe", text="?")


def test_a_false_hit_is_documented_and_shown_on_the_next_check(world: World) -> None:
    alert = world.issue(arrest())
    report = confirm(world, alert.id)
    with world.db.session() as s:
        with pytest.raises(ValidationFailed, match="distinguishing details"):
            hits.record_outcome(s, world.actor(world.officer_b), report.id, outcome="false_hit")
        with pytest.raises(PermissionDenied, match="reported the hit"):
            hits.record_outcome(s, world.actor(world.manager_a), report.id, outcome="action_taken")
    with world.db.session() as s:
        hits.record_outcome(
            s,
            world.actor(world.officer_b),
            report.id,
            outcome="false_hit",
            distinguishing_details="NL passport NX1234567, born in Utrecht, 1.62 m",
            note_kind="misused_identity",
        )
    assert status_of(world, alert.id) == "active"
    [hit] = world.check_person(world.officer_fr, **QUERY).hits
    [note] = hit.as_dict()["notes"]
    assert note["kind"] == "misused_identity"
    assert "confirmed NOT to be the subject" in note["text"]
    assert "NX1234567" in note["details"]
    with world.db.session() as s:
        assert s.scalars(select(AlertNote)).one().hit_report_id == report.id
        assert hits.read_report(s, world.actor(world.manager_a), report.id).report.status == (
            "false_hit"
        )
        with pytest.raises(Conflict, match="already recorded"):
            hits.record_outcome(s, world.actor(world.officer_b), report.id, outcome="action_taken")
        assert hits.hit_report_queue(s, world.actor(world.manager_a)) == []


def test_not_taken_because_of_a_flag_needs_the_flag(world: World) -> None:
    alert = world.issue(arrest())
    report = confirm(world, alert.id)
    with world.db.session() as s, pytest.raises(ValidationFailed, match="not flagged"):
        hits.record_outcome(s, world.actor(world.officer_b), report.id, outcome="not_taken_flag")
    with world.db.session() as s:
        service.flag(s, world.actor(world.manager_b), alert.id, reason="time-barred here")
    flagged = confirm(world, alert.id)
    assert flagged.flagged_here
    with world.db.session() as s:
        done = hits.record_outcome(
            s, world.actor(world.officer_b), flagged.id, outcome="not_taken_flag", note="released"
        )
        assert done.outcome == "not_taken_flag"


def test_hit_reports_are_seen_by_the_two_agencies_only(world: World) -> None:
    alert = world.issue(arrest())
    report = confirm(world, alert.id)
    with world.db.session() as s:
        assert hits.read_report(s, world.actor(world.officer_b), report.id)
        with pytest.raises(NotFound):
            hits.read_report(s, world.actor(world.officer_fr), report.id)
        sent = hits.hit_report_queue(s, world.actor(world.officer_b), sent=True, status=None)
        assert [v.report.id for v in sent] == [report.id]
        with pytest.raises(PermissionDenied):
            hits.hit_report_queue(s, world.actor(world.officer_b))


def test_confirming_needs_a_visible_alert_in_force_and_the_text(world: World) -> None:
    alert = world.issue(arrest())
    with pytest.raises(ValidationFailed, match="circumstances"), world.db.session() as s:
        hits.confirm_hit(
            s,
            world.actor(world.officer_b),
            alert.id,
            check_details={},
            circumstances=" ",
            action_taken="held",
        )
    with pytest.raises(NotFound):
        confirm_as(world, world.officer_wa, alert.id)
    with world.db.session() as s:
        service.remove(s, world.actor(world.manager_a), alert.id)
    with pytest.raises(NotFound):
        confirm(world, alert.id)
    with world.db.session() as s:
        assert s.scalars(select(HitReport)).all() == []


def confirm_as(world: World, who: Any, alert_id: str) -> HitReport:
    with world.db.session() as s:
        return hits.confirm_hit(
            s,
            world.actor(who),
            alert_id,
            check_details={},
            circumstances="seen",
            action_taken="none",
        )
