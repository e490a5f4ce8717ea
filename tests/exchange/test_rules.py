"""Every exchange rule, each with a test: deadlines at receipt, replies close requests, refusals
state a ground, H2 consent, H1/H3 travel, frameworks and accreditation refuse recipients (and
nothing is sent), only sender/recipients/hub read, every action audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from liaison.core.audit import AuditEntry
from liaison.core.clock import frozen
from liaison.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from liaison.core.markings import Classification, HandlingCode
from liaison.exchange import service
from liaison.exchange.model import (
    Accessibility,
    CaseStatus,
    ConsentRequest,
    Message,
    MessageRecipient,
    MessageType,
    Priority,
)
from liaison.exchange.service import Draft
from tests.exchange.conftest import Net, draft

PERSON = {
    "ref": "p1",
    "type": "Person",
    "evaluation": "B2",
    "properties": {"given_name": "Jan", "family_name": "de Vries", "dob": "1984-03-07"},
}
MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def audit_actions(net: Net, object_id: str) -> list[str]:
    with net.db.session() as s:
        return list(
            s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_id == object_id)
                .order_by(AuditEntry.seq)
            )
        )


def message_count(net: Net) -> int:
    with net.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Message)) or 0)


# ── Requests and deadlines ──────────────────────────────────────────────────────────────────


def test_urgent_direct_request_gets_eight_hours_at_receipt(net: Net) -> None:
    with frozen(MONDAY):
        m = net.send(net.de_officer, draft(cc=("FR-PN",)))
    with net.db.session() as s:
        to = s.get(MessageRecipient, (m.id, net.nl.id))
        cc = s.get(MessageRecipient, (m.id, net.fr.id))
    assert to is not None
    assert cc is not None
    assert to.deadline_at == MONDAY + dt.timedelta(hours=8)
    assert to.closed is False
    assert "8 hours" in (to.deadline_rule or "")
    assert cc.deadline_at is None
    assert cc.closed is True


def test_non_urgent_request_is_seven_days_on_the_recipients_calendar(net: Net) -> None:
    with frozen(dt.datetime(2026, 10, 20, 8, 0, tzinfo=dt.UTC)):  # 10:00 in Amsterdam (CEST)
        m = net.send(net.de_officer, draft(priority=Priority.NORMAL))
    with net.db.session() as s:
        row = s.get(MessageRecipient, (m.id, net.nl.id))
    assert row is not None
    assert row.deadline_at is not None
    # Clocks go back on 25 October: 10:00 CET on 27 October is 09:00 UTC.
    assert row.deadline_at == dt.datetime(2026, 10, 27, 9, 0, tzinfo=dt.UTC)


def test_overdue_and_due_soon_lists(net: Net) -> None:
    with frozen(MONDAY):
        urgent = net.send(net.de_officer, draft())
        slow = net.send(net.de_officer, draft(priority=Priority.NORMAL))
    nl = net.actor(net.nl_officer)
    with frozen(MONDAY + dt.timedelta(hours=7)), net.db.session() as s:
        soon = service.inbox(s, nl, due_soon=True, settings=net.settings).rows
        assert [r.message.id for r in soon] == [urgent.id]
        assert service.counts(s, nl).due_soon == 1
    with frozen(MONDAY + dt.timedelta(hours=9)), net.db.session() as s:
        late = service.inbox(s, nl, overdue=True, settings=net.settings).rows
        assert [r.message.id for r in late] == [urgent.id]
        assert late[0].overdue
        c = service.counts(s, nl)
        assert (c.overdue, c.open_requests) == (1, 2)
        sent = service.inbox(
            s, net.actor(net.de_officer), folder="sent", overdue=True, settings=net.settings
        ).rows
        assert [r.message.id for r in sent] == [urgent.id]
    assert slow.id != urgent.id


def test_a_reply_closes_the_request(net: Net) -> None:
    with frozen(MONDAY):
        m = net.send(net.de_officer, draft())
    with frozen(MONDAY + dt.timedelta(hours=2)), net.db.session() as s:
        answer = service.reply(
            s,
            net.actor(net.nl_officer),
            m.id,
            Draft(
                to=(),
                subject="Re: keeper",
                body="The keeper is registered in Utrecht.",
                legal_basis="Directive (EU) 2023/977 Art. 5",
                purpose="answer to request",
                classification=Classification.RESTRICTED,
            ),
            settings=net.settings,
        )
    with net.db.session() as s:
        row = s.get(MessageRecipient, (m.id, net.nl.id))
        back = s.get(MessageRecipient, (answer.id, net.de.id))
        assert row is not None
        assert back is not None
        assert row.closed
        assert row.status == "answered"
        assert row.answer_id == answer.id
        assert answer.thread_id == m.thread_id
        assert answer.case_id == m.case_id
        assert answer.message_type == MessageType.REPLY.value
        with frozen(MONDAY + dt.timedelta(hours=9)):
            assert service.counts(s, net.actor(net.nl_officer)).overdue == 0
    assert "message.reply" in audit_actions(net, answer.id)


def reply_draft(**changes: object) -> Draft:
    base = Draft(
        to=(),
        subject="Refusal",
        body="We cannot provide this.",
        legal_basis="Directive (EU) 2023/977 Art. 6",
        purpose="answer to request",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_refusal_must_state_a_configured_ground(net: Net) -> None:
    m = net.send(net.de_officer, draft())
    nl = net.actor(net.nl_officer)
    with net.db.session() as s, pytest.raises(PermissionDenied, match="unknown refusal ground"):
        service.reply(s, nl, m.id, reply_draft(refusal_ground="because"), settings=net.settings)
    with net.db.session() as s, pytest.raises(PermissionDenied, match="must state its ground"):
        service.reply(s, nl, m.id, reply_draft(refusal_ground=""), settings=net.settings)
    with net.db.session() as s:
        refusal = service.reply(
            s, nl, m.id, reply_draft(refusal_ground="not_available"), settings=net.settings
        )
    with net.db.session() as s:
        view = service.read(s, net.actor(net.de_officer), refusal.id, settings=net.settings)
        assert view.message.refusal_ground == "not_available"
        assert view.refusal_text is not None
        assert "Art. 6(1)(a)" in view.refusal_text
        row = s.get(MessageRecipient, (m.id, net.nl.id))
        assert row is not None
        assert row.closed
    assert "message.refuse" in audit_actions(net, refusal.id)


def test_only_the_requested_agency_refuses(net: Net) -> None:
    m = net.send(net.de_officer, draft(cc=("FR-PN",)))
    with net.db.session() as s, pytest.raises(ValidationFailed, match="requested agency"):
        service.reply(
            s,
            net.actor(net.fr_officer),
            m.id,
            reply_draft(refusal_ground="not_available"),
            settings=net.settings,
        )


def test_a_request_needs_accessibility(net: Net) -> None:
    with pytest.raises(ValidationFailed, match="directly or indirectly"):
        net.send(net.de_officer, draft(accessibility=None))
    assert message_count(net) == 0


# ── Frameworks and accreditation ────────────────────────────────────────────────────────────


def test_personal_data_to_a_working_arrangement_is_refused_naming_the_rule(net: Net) -> None:
    with pytest.raises(PermissionDenied) as refused:
        net.send(net.de_officer, draft(to=("NL-NP", "XA-POL"), items=(PERSON,)))
    assert "XA-POL" in refused.value.detail
    assert "working arrangement allows no personal data" in refused.value.detail
    assert message_count(net) == 0  # nothing sent, not even to NL


def test_non_personal_information_reaches_a_working_arrangement(net: Net) -> None:
    m = net.send(
        net.de_officer,
        draft(
            to=("XA-POL",),
            message_type=MessageType.INFORMATION,
            accessibility=None,
            body="Modus operandi: ATM skimming devices hidden behind the card slot.",
            personal_data=False,
        ),
    )
    assert m.personal_data is False


def test_items_of_persons_always_count_as_personal_data(net: Net) -> None:
    with pytest.raises(PermissionDenied, match="XA-POL"):
        net.send(net.de_officer, draft(to=("XA-POL",), personal_data=False, items=(PERSON,)))


def test_nothing_above_a_recipients_accreditation(net: Net) -> None:
    with pytest.raises(PermissionDenied) as refused:
        net.send(net.de_officer, draft(classification=Classification.CONFIDENTIAL))
    assert "NL-NP" in refused.value.detail
    assert "accredited only up to RESTRICTED" in refused.value.detail
    assert message_count(net) == 0


def test_a_working_arrangement_agency_cannot_send_personal_data(net: Net) -> None:
    with pytest.raises(PermissionDenied, match="excludes personal data"):
        net.send(net.wa_officer, draft(to=("DE-BKA",), items=(PERSON,)))


def test_unknown_recipient_and_own_agency_refused(net: Net) -> None:
    with pytest.raises(ValidationFailed, match="no agency 'XX-NOPE'"):
        net.send(net.de_officer, draft(to=("XX-NOPE",)))
    with pytest.raises(ValidationFailed, match="own agency"):
        net.send(net.de_officer, draft(to=("DE-BKA",)))


def test_roles_without_exchange_cannot_send(net: Net) -> None:
    with pytest.raises(PermissionDenied, match="exchange"):
        net.send(net.de_dpo, draft())


# ── Who reads ───────────────────────────────────────────────────────────────────────────────


def test_only_sender_and_recipients_read_and_refusals_are_audited(net: Net) -> None:
    m = net.send(net.de_officer, draft())
    for who in (net.de_officer, net.nl_officer):
        with net.db.session() as s:
            view = service.read(s, net.actor(who), m.id, settings=net.settings)
            assert view.opened.body.startswith("Please provide")
            assert view.opened.verdict.valid, view.opened.verdict.reason
    for who in (net.fr_officer, net.hub_analyst):
        with net.db.session() as s, pytest.raises(NotFound):
            service.read(s, net.actor(who), m.id, settings=net.settings)
    with net.db.session() as s:
        outcomes = s.execute(
            select(AuditEntry.actor_username, AuditEntry.outcome)
            .where(AuditEntry.object_id == m.id, AuditEntry.action == "message.read")
            .order_by(AuditEntry.seq)
        ).all()
    assert outcomes == [
        ("de.officer", "success"),
        ("nl.officer", "success"),
        ("fr.officer", "denied"),
        ("hub.analyst", "denied"),
    ]


def test_hub_copy_when_configured(net: Net) -> None:
    settings = net.settings.model_copy(update={"hub_copy": True})
    with net.db.session() as s:
        m = service.send(s, net.actor(net.de_officer), draft(), settings=settings)
    with net.db.session() as s:
        view = service.read(s, net.actor(net.hub_analyst), m.id, settings=settings)
        assert view.own is not None
        assert view.own.kind == "hub"
        # Recipients see the addressees, not the hub's copy.
        nl_view = service.read(s, net.actor(net.nl_officer), m.id, settings=settings)
        assert [r.code for r in nl_view.recipients] == ["NL-NP"]


def test_reading_marks_read_and_acknowledge_is_for_recipients(net: Net) -> None:
    m = net.send(net.de_officer, draft())
    nl = net.actor(net.nl_officer)
    with net.db.session() as s:
        assert service.counts(s, nl).unread == 1
        service.read(s, nl, m.id, settings=net.settings)
    with net.db.session() as s:
        assert service.counts(s, nl).unread == 0
        row = service.acknowledge(s, nl, m.id, settings=net.settings)
        assert row.acknowledged_by == "nl.officer"
    with net.db.session() as s, pytest.raises(PermissionDenied, match="only a recipient"):
        service.acknowledge(s, net.actor(net.de_officer), m.id, settings=net.settings)
    with net.db.session() as s:
        view = service.read(s, net.actor(net.de_officer), m.id, settings=net.settings)
        statuses = {r.code: r.row.status for r in view.recipients if r.row}
        assert statuses == {"NL-NP": "read"}


# ── Handling codes ──────────────────────────────────────────────────────────────────────────


def h2_message(net: Net) -> Message:
    return net.send(
        net.de_officer,
        draft(
            message_type=MessageType.INFORMATION,
            accessibility=None,
            handling=HandlingCode.H2,
            to=("NL-NP",),
        ),
    )


def test_h2_forward_waits_for_the_providers_consent(net: Net) -> None:
    m = h2_message(net)
    before = message_count(net)
    with net.db.session() as s:
        result = service.forward(
            s,
            net.actor(net.nl_officer),
            m.id,
            to=("FR-PN",),
            note="joint case",
            settings=net.settings,
        )
    assert result.message is None
    assert result.consent is not None
    consent_id = result.consent.id
    with net.db.session() as s:
        # Only the consent request went out, to the provider; nothing to FR.
        assert message_count(net) == before + 1
        fr_inbox = service.inbox(s, net.actor(net.fr_officer), settings=net.settings).rows
        assert fr_inbox == []
        de_inbox = service.inbox(s, net.actor(net.de_officer), settings=net.settings).rows
        assert [r.message.message_type for r in de_inbox] == ["consent_request"]
        assert service.counts(s, net.actor(net.de_officer)).consents_pending == 1
    with net.db.session() as s, pytest.raises(NotFound):
        service.decide_consent(
            s, net.actor(net.nl_officer), consent_id, grant=True, settings=net.settings
        )
    with net.db.session() as s:
        decided = service.decide_consent(
            s,
            net.actor(net.de_officer),
            consent_id,
            grant=True,
            note="agreed",
            settings=net.settings,
        )
        assert decided.status == "granted"
        assert decided.result_message_id
    with net.db.session() as s:
        rows = service.inbox(s, net.actor(net.fr_officer), settings=net.settings).rows
        assert len(rows) == 1
        forwarded = rows[0].message
        assert forwarded.forwarded_from_id == m.id
        assert forwarded.handling == "H2"
        assert forwarded.provider_agency_id == net.de.id
        assert rows[0].sender_code == "NL-NP"
        view = service.read(s, net.actor(net.fr_officer), forwarded.id, settings=net.settings)
        assert view.opened.verdict.valid
        # The requester is told, in the consent thread.
        replies = service.inbox(
            s, net.actor(net.nl_officer), message_type=MessageType.REPLY, settings=net.settings
        ).rows
        assert [r.subject for r in replies] == [f"Permission granted: passing on message {m.id}"]
    with net.db.session() as s, pytest.raises(Conflict, match="already granted"):
        service.decide_consent(
            s, net.actor(net.de_officer), consent_id, grant=False, settings=net.settings
        )


def test_a_refused_consent_sends_nothing(net: Net) -> None:
    m = h2_message(net)
    with net.db.session() as s:
        consent = service.forward(
            s, net.actor(net.nl_officer), m.id, to=("FR-PN",), settings=net.settings
        ).consent
    assert consent is not None
    with net.db.session() as s:
        service.decide_consent(
            s, net.actor(net.de_officer), consent.id, grant=False, settings=net.settings
        )
    with net.db.session() as s:
        assert service.inbox(s, net.actor(net.fr_officer), settings=net.settings).rows == []
        stored = s.get(ConsentRequest, consent.id)
        assert stored is not None
        assert stored.status == "refused"
        assert stored.result_message_id is None


def test_the_provider_forwards_its_own_h2_without_asking(net: Net) -> None:
    m = h2_message(net)
    with net.db.session() as s:
        result = service.forward(
            s, net.actor(net.de_officer), m.id, to=("FR-PN",), settings=net.settings
        )
    assert result.message is not None
    assert result.consent is None


def test_h3_conditions_and_item_evaluations_travel_with_a_forward(net: Net) -> None:
    m = net.send(
        net.de_officer,
        draft(
            message_type=MessageType.INFORMATION,
            accessibility=None,
            handling=HandlingCode.H3,
            h3_conditions="Not to be shared with customs authorities.",
            items=(PERSON,),
        ),
    )
    with net.db.session() as s:
        result = service.forward(
            s, net.actor(net.nl_officer), m.id, to=("FR-PN",), settings=net.settings
        )
    assert result.message is not None
    with net.db.session() as s:
        view = service.read(s, net.actor(net.fr_officer), result.message.id, settings=net.settings)
        assert view.markings.handling is HandlingCode.H3
        assert view.markings.h3_conditions == "Not to be shared with customs authorities."
        assert [i["evaluation"] for i in view.opened.items] == ["B2"]
        assert view.opened.subject.startswith("Fwd: ")
    assert "message.forward" in audit_actions(net, result.message.id)


def test_h1_warning_on_the_view(net: Net) -> None:
    m = net.send(net.de_officer, draft(handling=HandlingCode.H1))
    with net.db.session() as s:
        view = service.read(s, net.actor(net.nl_officer), m.id, settings=net.settings)
    assert view.markings.judicial_use_warning is not None
    assert "judicial proceedings" in view.markings.judicial_use_warning


def test_h3_without_conditions_refused(net: Net) -> None:
    with pytest.raises(ValidationFailed, match="H3 needs its conditions"):
        net.send(net.de_officer, draft(handling=HandlingCode.H3))


# ── Idempotency, pagination, cases ──────────────────────────────────────────────────────────


def test_idempotency_key(net: Net) -> None:
    first = net.send(net.de_officer, draft(), idempotency_key="req-1")
    again = net.send(net.de_officer, draft(), idempotency_key="req-1")
    assert again.id == first.id
    assert message_count(net) == 1
    with pytest.raises(Conflict, match="idempotency key"):
        net.send(net.de_officer, draft(subject="Another"), idempotency_key="req-1")


def test_cursor_pagination_covers_everything_once(net: Net) -> None:
    sent = []
    for i in range(7):
        with frozen(MONDAY + dt.timedelta(minutes=i // 2)):  # ties in time, too
            sent.append(net.send(net.de_officer, draft(subject=f"Request {i}")).id)
    nl = net.actor(net.nl_officer)
    seen: list[str] = []
    cursor = None
    with net.db.session() as s:
        while True:
            page = service.inbox(s, nl, cursor=cursor, limit=3, settings=net.settings)
            seen += [r.message.id for r in page.rows]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert sorted(seen) == sorted(sent)
        assert len(seen) == 7
        with pytest.raises(ValidationFailed, match="cursor"):
            service.inbox(s, nl, cursor="not-a-cursor", settings=net.settings)


def test_case_participants_see_only_what_was_addressed_to_them(net: Net) -> None:
    first = net.send(net.de_officer, draft(case_title="Operation Harbour"))
    net.send(net.de_officer, draft(to=("FR-PN",), case_id=first.case_id, subject="For FR only"))
    with net.db.session() as s:
        nl_view = service.case_timeline(
            s, net.actor(net.nl_officer), first.case_id, settings=net.settings
        )
        fr_view = service.case_timeline(
            s, net.actor(net.fr_officer), first.case_id, settings=net.settings
        )
        de_view = service.case_timeline(
            s, net.actor(net.de_officer), first.case_id, settings=net.settings
        )
    assert nl_view.title == "Operation Harbour"
    assert [r.subject for r in nl_view.timeline] == [first_subject := draft().subject]
    assert [r.subject for r in fr_view.timeline] == ["For FR only"]
    assert [r.subject for r in de_view.timeline] == [first_subject, "For FR only"]
    assert {a.code for a in de_view.participants} == {"DE-BKA", "NL-NP", "FR-PN"}
    with net.db.session() as s, pytest.raises(NotFound):
        service.case_timeline(s, net.actor(net.hub_analyst), first.case_id, settings=net.settings)
    with net.db.session() as s, pytest.raises(PermissionDenied, match="owns the case"):
        service.set_case_status(s, net.actor(net.nl_officer), first.case_id, CaseStatus.CLOSED)
    with net.db.session() as s:
        service.set_case_status(s, net.actor(net.de_officer), first.case_id, CaseStatus.CLOSED)
    with pytest.raises(Conflict, match="closed"):
        net.send(net.de_officer, draft(case_id=first.case_id))


def test_sent_folder_shows_delivery_progress(net: Net) -> None:
    m = net.send(net.de_officer, draft(cc=("FR-PN",), accessibility=Accessibility.INDIRECT))
    with net.db.session() as s:
        service.read(s, net.actor(net.fr_officer), m.id, settings=net.settings)
    with net.db.session() as s:
        rows = service.inbox(
            s, net.actor(net.de_officer), folder="sent", settings=net.settings
        ).rows
    assert [(r.recipients, r.read, r.answered) for r in rows] == [(2, 1, 0)]
