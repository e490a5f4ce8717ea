"""A request for details behind a hit in the shared information system becomes a request
message to the data owner, with the legal deadline, naming the records and never their data."""

from __future__ import annotations

from liaison.entities import inbox
from liaison.entities.model import DetailsRequest
from liaison.entities.service import contribute, parse_contribution
from liaison.exchange import service
from liaison.exchange.model import MessageRecipient
from tests.exchange.conftest import Net


def person(ref: str) -> dict[str, object]:
    return {
        "type": "Person",
        "id": ref,
        "subject_category": "suspect",
        "properties": {"given_name": "Aleksandr", "family_name": "Ivanov", "dob": "1980-03-12"},
    }


def test_request_for_details_is_a_request_message_to_the_owner(net: Net) -> None:
    with net.db.session() as s:
        record, _ = contribute(s, net.actor(net.de_officer), parse_contribution(person("DE-1")))
    with net.db.session() as s:
        request = inbox.request_details(
            s,
            net.actor(net.nl_officer),
            entity_id=record.id,
            justification="Our suspect in case NL-2026-88 may be the same person.",
        )
        assert request.message_id is not None
        message_id = request.message_id
    with net.db.session() as s:
        rows = service.inbox(s, net.actor(net.de_officer), settings=net.settings).rows
        assert [r.message.id for r in rows] == [message_id]
        view = service.read(s, net.actor(net.de_officer), message_id, settings=net.settings)
        assert view.message.message_type == "request"
        assert view.message.reference_type == "details_request"
        assert record.id in view.opened.body
        assert "NL-2026-88" in view.opened.body
        assert "Ivanov" not in view.opened.body  # the record's data never travel in the request
        assert view.opened.verdict.valid
        own = s.get(MessageRecipient, (message_id, net.de.id))
        assert own is not None
        assert own.deadline_at is not None
        assert not own.closed
        stored = s.get(DetailsRequest, request.id)
        assert stored is not None
        assert stored.message_id == message_id
