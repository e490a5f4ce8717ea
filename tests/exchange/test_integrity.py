"""Signatures are verified when shown and a tampered message is flagged; bodies, subjects, items
and attachments are encrypted at rest; attachments are checked on the way in."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from liaison.core.crypto import seal
from liaison.core.errors import Conflict, PayloadTooLarge, UnsupportedType, ValidationFailed
from liaison.db.metadata import metadata
from liaison.exchange import service
from liaison.exchange.model import Attachment, Message, MessageRecipient
from liaison.exchange.service import AttachmentUpload
from tests.exchange.conftest import Net, draft

SECRET_BODY = "Informant Zebulon Quixotic-Marchetti meets the courier at pier 7"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + bytes(64)


def test_a_sent_message_verifies(net: Net) -> None:
    m = net.send(net.de_officer, draft(attachments=(AttachmentUpload("scan.png", PNG),)))
    with net.db.session() as s:
        view = service.read(s, net.actor(net.nl_officer), m.id, settings=net.settings)
    assert view.opened.verdict.valid
    assert "DE-BKA" in view.opened.verdict.reason or "valid" in view.opened.verdict.reason


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("priority", "normal"),
        ("handling", "H2"),
        ("legal_basis", "something else"),
        ("classification", 0),
        ("sender_username", "someone.else"),
        ("h3_conditions", "no conditions"),
    ],
)
def test_tampering_with_a_stored_column_is_flagged(net: Net, column: str, value: object) -> None:
    m = net.send(net.de_officer, draft())
    with net.db.session() as s:
        s.execute(update(Message).where(Message.id == m.id).values({column: value}))
    with net.db.session() as s:
        view = service.read(s, net.actor(net.de_officer), m.id, settings=net.settings)
    assert not view.opened.verdict.valid
    assert "altered" in view.opened.verdict.reason


def test_a_resealed_body_is_flagged(net: Net) -> None:
    """Someone with the data key re-encrypts a different body: the signature still catches it."""
    m = net.send(net.de_officer, draft())
    with net.db.session() as s:
        forged = seal(
            s,
            b'{"body": "Nothing to see here.", "items": [], "links": []}',
            aad=f"exchange-content:{m.id}".encode(),
            settings=net.settings,
        )
        s.execute(update(Message).where(Message.id == m.id).values(content_sealed=forged))
    with net.db.session() as s:
        view = service.read(s, net.actor(net.nl_officer), m.id, settings=net.settings)
    assert view.opened.body == "Nothing to see here."
    assert not view.opened.verdict.valid


def test_a_corrupted_ciphertext_is_withheld_and_flagged(net: Net) -> None:
    m = net.send(net.de_officer, draft())
    with net.db.session() as s:
        blob = bytearray(s.scalars(select(Message.content_sealed).where(Message.id == m.id)).one())
        blob[-1] ^= 1
        s.execute(update(Message).where(Message.id == m.id).values(content_sealed=bytes(blob)))
    with net.db.session() as s:
        view = service.read(s, net.actor(net.nl_officer), m.id, settings=net.settings)
    assert not view.opened.verdict.valid
    assert view.opened.body == ""


def test_a_recipient_added_afterwards_is_flagged(net: Net) -> None:
    m = net.send(net.de_officer, draft())
    with net.db.session() as s:
        row = s.get(MessageRecipient, (m.id, net.nl.id))
        assert row is not None
        s.add(
            MessageRecipient(
                message_id=m.id,
                agency_id=net.fr.id,
                kind="cc",
                status="delivered",
                sent_at=row.sent_at,
                priority=row.priority,
                message_type=row.message_type,
                delivered_at=row.delivered_at,
                closed=True,
            )
        )
    with net.db.session() as s:
        view = service.read(s, net.actor(net.fr_officer), m.id, settings=net.settings)
    assert not view.opened.verdict.valid


def test_a_swapped_attachment_is_refused(net: Net) -> None:
    m = net.send(net.de_officer, draft(attachments=(AttachmentUpload("scan.png", PNG),)))
    with net.db.session() as s:
        att = s.scalars(select(Attachment).where(Attachment.message_id == m.id)).one()
        forged = seal(
            s, b"other bytes", aad=f"exchange-attachment:{att.id}".encode(), settings=net.settings
        )
        s.execute(update(Attachment).where(Attachment.id == att.id).values(sealed=forged))
        att_id = att.id
    with net.db.session() as s, pytest.raises(Conflict, match="altered"):
        service.attachment(s, net.actor(net.nl_officer), m.id, att_id, settings=net.settings)


def test_nothing_is_stored_in_plaintext(net: Net) -> None:
    marker = b"ATTACHMENT-MARKER-7f3a9c" * 4
    person = {
        "ref": "p1",
        "type": "Person",
        "evaluation": "A1",
        "properties": {"given_name": "Zebulon", "family_name": "Quixotic-Marchetti"},
    }
    net.send(
        net.de_officer,
        draft(
            subject="Pier 7 meeting of Quixotic-Marchetti",
            body=SECRET_BODY,
            items=(person,),
            attachments=(AttachmentUpload("notes.txt", marker),),
        ),
    )
    secrets = (b"Zebulon", b"Quixotic-Marchetti", b"pier 7", b"Pier 7", marker[:24])
    # Every value of every row of every table, on either backend.
    with net.db.session() as s:
        for table in metadata.sorted_tables:
            for row in s.execute(select(table)).all():
                for value in row:
                    raw = value if isinstance(value, bytes) else str(value).encode()
                    for secret in secrets:
                        assert secret not in raw, (table.name, secret)
    if net.db.dialect == "sqlite":  # and the file itself, write-ahead log included
        net.db.dispose()
        path = Path(str(net.db.engine.url.database))
        wal = Path(f"{path}-wal")
        raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        for secret in secrets:
            assert secret not in raw, secret


def test_attachments_are_checked_and_typed_from_their_bytes(net: Net) -> None:
    m = net.send(
        net.de_officer,
        draft(
            attachments=(
                AttachmentUpload("photo.txt", PNG),
                AttachmentUpload("a.csv", b"a,b\n1,2\n"),
            )
        ),
    )
    with net.db.session() as s:
        rows = s.scalars(
            select(Attachment).where(Attachment.message_id == m.id).order_by(Attachment.position)
        ).all()
        assert [(r.filename, r.content_type) for r in rows] == [
            ("photo.txt", "image/png"),
            ("a.csv", "text/plain"),
        ]
        assert rows[0].sha256 == hashlib.sha256(PNG).hexdigest()
        _row, data = service.attachment(
            s, net.actor(net.nl_officer), m.id, rows[0].id, settings=net.settings
        )
        assert data == PNG


def count(net: Net) -> int:
    with net.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Message)) or 0)


def test_oversized_attachment_refused_and_nothing_stored(net: Net) -> None:
    small = net.settings.model_copy(update={"attachment_max_bytes": 1000})
    with net.db.session() as s, pytest.raises(PayloadTooLarge, match="limit is 1,000 bytes"):
        service.send(
            s,
            net.actor(net.de_officer),
            draft(attachments=(AttachmentUpload("big.bin", bytes(1001)),)),
            settings=small,
        )
    assert count(net) == 0


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("invoice.pdf", b"MZ\x90\x00" + bytes(200)),  # a Windows executable, whatever its name
        ("tool", b"\x7fELF\x02\x01\x01" + bytes(200)),
        ("run.bat", b"@echo off\r\n"),
        ("x.js", b"alert(1)"),
    ],
)
def test_blocked_attachment_types_refused(net: Net, name: str, data: bytes) -> None:
    with pytest.raises(UnsupportedType, match="blocked"):
        net.send(net.de_officer, draft(attachments=(AttachmentUpload(name, data),)))
    assert count(net) == 0


@pytest.mark.parametrize("name", ["", "../", "a\x00b", "x" * 300])
def test_unusable_attachment_names_refused(net: Net, name: str) -> None:
    with pytest.raises(ValidationFailed, match="file name"):
        net.send(net.de_officer, draft(attachments=(AttachmentUpload(name, b"data"),)))


def test_invalid_items_refused_with_every_problem_and_nothing_stored(net: Net) -> None:
    items = (
        {"ref": "p1", "type": "Person", "evaluation": "Q9", "properties": {"given_name": "A"}},
        {"ref": "v1", "type": "Spaceship", "evaluation": "B2", "properties": {}},
        {"ref": "p2", "type": "Person", "evaluation": "B2", "properties": {"dob": "31/02/1980"}},
    )
    with pytest.raises(ValidationFailed) as refused:
        net.send(net.de_officer, draft(items=items))
    errors = refused.value.extra["errors"]
    assert any("items/0/evaluation" in k for k in errors), errors
    assert any("items/1/type" in k for k in errors), errors
    assert any("items/2/properties" in k for k in errors), errors
    assert count(net) == 0


def test_links_must_join_items_of_the_right_types(net: Net) -> None:
    person = {"ref": "p1", "type": "Person", "evaluation": "B2", "properties": {"given_name": "A"}}
    event = {
        "ref": "e1",
        "type": "Event",
        "evaluation": "B2",
        "properties": {"crime_area": "robbery_aggravated_theft", "date": "2026-11-01"},
    }
    for links, where in (
        (({"source": "p1", "target": "zz", "type": "associate"},), "links/0/target"),
        (({"source": "e1", "target": "p1", "type": "family"},), "links/0/type"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            net.send(net.de_officer, draft(items=(person, event), links=links))
        assert any(where in k for k in refused.value.extra["errors"]), refused.value.extra
    assert count(net) == 0
