"""Envelope encryption: sealing, tamper detection, master-key rotation without downtime."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from liaison.core.audit import AuditEntry
from liaison.core.crypto import (
    BLOB_VERSION,
    DataKey,
    DecryptionFailed,
    KeyConfigurationError,
    _create_active,
    forget_cached_keys,
    key_status,
    master_key_id,
    master_keys,
    open_sealed,
    rewrap_data_keys,
    seal,
    start_new_data_key,
)
from liaison.core.settings import Mode, Settings
from liaison.db.engine import Database

K1, K2, K3 = (bytes([n]) * 32 for n in (1, 2, 3))
AAD = b"message-body:01HZX0000000000000000000AA"


def keyed(current: bytes, *previous: bytes) -> Settings:
    """Settings holding ``current`` as LIAISON_DATA_KEY and ``previous`` as the replaced ones."""
    return Settings(
        mode=Mode.TEST,
        data_key=SecretStr(base64.b64encode(current).decode()),
        data_key_previous=SecretStr(",".join(base64.b64encode(p).decode() for p in previous)),
    )


def flip(blob: bytes, index: int, bit: int = 0) -> bytes:
    changed = bytearray(blob)
    changed[index] ^= 1 << bit
    return bytes(changed)


def test_round_trip_and_blob_format(db: Database) -> None:
    with db.session() as s:
        blob = seal(s, "Zeugenaussage — Ιωάννης".encode(), aad=AAD, settings=keyed(K1))
        active = s.scalars(select(DataKey).where(DataKey.active.is_(True))).one()
    assert blob[0] == BLOB_VERSION
    assert blob[1:27] == active.id.encode("ascii")
    assert active.master_key_id == master_key_id(K1)
    with db.session() as s:
        assert (
            open_sealed(s, blob, aad=AAD, settings=keyed(K1)) == "Zeugenaussage — Ιωάννης".encode()
        )


def test_each_seal_uses_a_fresh_nonce(db: Database) -> None:
    with db.session() as s:
        first = seal(s, b"same", aad=AAD, settings=keyed(K1))
        second = seal(s, b"same", aad=AAD, settings=keyed(K1))
    assert first != second
    assert first[:27] == second[:27]


def test_wrong_aad_fails(db: Database) -> None:
    with db.session() as s:
        blob = seal(s, b"body", aad=AAD, settings=keyed(K1))
        with pytest.raises(DecryptionFailed, match="integrity check"):
            open_sealed(s, blob, aad=AAD + b"x", settings=keyed(K1))


def test_blob_moved_to_another_row_fails(db: Database) -> None:
    with db.session() as s:
        blob = seal(s, b"body of message A", aad=b"message-body:A", settings=keyed(K1))
        with pytest.raises(DecryptionFailed, match="belongs to another record"):
            open_sealed(s, blob, aad=b"message-body:B", settings=keyed(K1))


@pytest.mark.parametrize(
    ("where", "index", "bit"),
    [
        ("version byte", 0, 1),
        ("data-key id", 5, 0),
        ("data-key id, high bit", 20, 7),
        ("nonce", 30, 3),
        ("ciphertext", 40, 0),
        ("tag", -1, 7),
    ],
)
def test_any_flipped_bit_fails(db: Database, where: str, index: int, bit: int) -> None:
    with db.session() as s:
        blob = seal(s, b"a body long enough to have ciphertext", aad=AAD, settings=keyed(K1))
        with pytest.raises(DecryptionFailed) as info:
            open_sealed(s, flip(blob, index, bit), aad=AAD, settings=keyed(K1))
    assert "cryptography" not in info.value.detail
    assert info.value.__cause__ is None


@pytest.mark.parametrize("blob", [b"", b"\x01short", b"\x02" + b"0" * 60])
def test_garbage_is_not_a_sealed_value(db: Database, blob: bytes) -> None:
    with db.session() as s, pytest.raises(DecryptionFailed, match="not a sealed value"):
        open_sealed(s, blob, aad=AAD, settings=keyed(K1))


def test_unknown_data_key_is_named(db: Database) -> None:
    with db.session() as s:
        blob = seal(s, b"body", aad=AAD, settings=keyed(K1))
    forged = blob[:1] + b"0" * 26 + blob[27:]
    with db.session() as s, pytest.raises(DecryptionFailed, match=r"unknown data key 0{26}"):
        open_sealed(s, forged, aad=AAD, settings=keyed(K1))


def test_data_key_under_unknown_master_is_refused_even_when_cached(db: Database) -> None:
    with db.session() as s:
        blob = seal(s, b"body", aad=AAD, settings=keyed(K1))  # the data key is now cached
    with db.session() as s, pytest.raises(DecryptionFailed) as info:
        open_sealed(s, blob, aad=AAD, settings=keyed(K2))
    assert master_key_id(K1) in info.value.detail
    assert "neither LIAISON_DATA_KEY nor listed in LIAISON_DATA_KEY_PREVIOUS" in info.value.detail


def test_altered_wrapped_key_fails_clearly(db: Database) -> None:
    with db.session() as s:
        blob = seal(s, b"body", aad=AAD, settings=keyed(K1))
        row = s.scalars(select(DataKey)).one()
        row.wrapped = flip(row.wrapped, 20)
    forget_cached_keys()
    with db.session() as s, pytest.raises(DecryptionFailed, match="could not be unwrapped"):
        open_sealed(s, blob, aad=AAD, settings=keyed(K1))


def test_wrapped_key_copied_to_another_data_key_fails(db: Database) -> None:
    with db.session() as s:
        blob = seal(s, b"body", aad=AAD, settings=keyed(K1))
        old = s.scalars(select(DataKey)).one()
        new = start_new_data_key(s, keyed(K1))
        old.wrapped = new.wrapped
    forget_cached_keys()
    with db.session() as s, pytest.raises(DecryptionFailed, match="could not be unwrapped"):
        open_sealed(s, blob, aad=AAD, settings=keyed(K1))


def test_start_new_data_key_keeps_old_data_readable(db: Database) -> None:
    with db.session() as s:
        old_blob = seal(s, b"old", aad=AAD, settings=keyed(K1))
        fresh = start_new_data_key(s, keyed(K1))
        new_blob = seal(s, b"new", aad=AAD, settings=keyed(K1))
    assert new_blob[1:27] == fresh.id.encode()
    assert old_blob[1:27] != fresh.id.encode()
    with db.session() as s:
        keys = s.scalars(select(DataKey).order_by(DataKey.id)).all()
        assert [k.active for k in keys] == [False, True]
        assert keys[0].retired_at is not None
        assert open_sealed(s, old_blob, aad=AAD, settings=keyed(K1)) == b"old"
        assert open_sealed(s, new_blob, aad=AAD, settings=keyed(K1)) == b"new"
        actions = s.scalars(select(AuditEntry.action)).all()
    assert "keys.new_data_key" in actions


def test_master_key_rotation_without_downtime(db: Database) -> None:
    blobs = {}
    with db.session() as s:
        blobs[b"one"] = seal(s, b"one", aad=AAD, settings=keyed(K1))
        start_new_data_key(s, keyed(K1))
        blobs[b"two"] = seal(s, b"two", aad=AAD, settings=keyed(K1))
    # Step 1: the node restarts with K2 as the master key and K1 listed as previous.
    during = keyed(K2, K1)
    with db.session() as s:
        for plain, blob in blobs.items():
            assert open_sealed(s, blob, aad=AAD, settings=during) == plain
        assert key_status(s, during).needs_rewrap == 2
    # Step 2: re-wrap, one data key per transaction.
    report = rewrap_data_keys(db, during, batch=1)
    assert (report.rewrapped, report.batches, report.ok) == (2, 2, True)
    assert rewrap_data_keys(db, during).rewrapped == 0
    # Step 3: K1 is removed; everything still opens with K2 alone.
    forget_cached_keys()
    with db.session() as s:
        assert set(s.scalars(select(DataKey.master_key_id))) == {master_key_id(K2)}
        for plain, blob in blobs.items():
            assert open_sealed(s, blob, aad=AAD, settings=keyed(K2)) == plain
        status = key_status(s, keyed(K2))
        assert (status.needs_rewrap, status.ok) == (0, True)
        rewraps = s.scalars(select(AuditEntry).where(AuditEntry.action == "keys.rewrap")).all()
    assert len(rewraps) == 2
    assert all(e.actor_user_id is None for e in rewraps)
    forget_cached_keys()
    with db.session() as s, pytest.raises(DecryptionFailed, match=master_key_id(K2)):
        open_sealed(s, blobs[b"one"], aad=AAD, settings=keyed(K1))


def test_rewrap_reports_keys_under_an_unknown_master(db: Database) -> None:
    with db.session() as s:
        seal(s, b"under K3", aad=AAD, settings=keyed(K3))
        start_new_data_key(s, keyed(K1))
        seal(s, b"under K1", aad=AAD, settings=keyed(K1))
    report = rewrap_data_keys(db, keyed(K2, K1))
    assert report.rewrapped == 1
    assert not report.ok
    assert master_key_id(K3) in report.problems[0]
    with db.session() as s:
        status = key_status(s, keyed(K2, K1))
    roles = {u.master_key_id: (u.role, u.data_keys) for u in status.usage}
    assert roles == {
        master_key_id(K2): ("current", 1),
        master_key_id(K1): ("previous", 0),
        master_key_id(K3): ("unknown", 1),
    }
    assert (status.needs_rewrap, status.unreadable, status.ok) == (1, 1, False)


def test_malformed_previous_key_is_a_clear_error(db: Database) -> None:
    broken = Settings(mode=Mode.TEST, data_key_previous=SecretStr("not-base64!"))
    with db.session() as s, pytest.raises(KeyConfigurationError, match="entry 1"):
        seal(s, b"x", aad=AAD, settings=broken)


def test_database_file_holds_no_plaintext(sqlite_db: Database) -> None:
    secret = "Geheimnis: Kowalska, Anna, geb. 1984 — Łódź".encode()
    with sqlite_db.session() as s:
        s.execute(text("CREATE TABLE sealed_values (id INTEGER PRIMARY KEY, body BLOB)"))
        blob = seal(s, secret, aad=AAD, settings=keyed(K1))
        s.execute(text("INSERT INTO sealed_values (body) VALUES (:b)"), {"b": blob})
        row = s.scalars(select(DataKey)).one()
    data_key = AESGCM(K1).decrypt(
        row.wrapped[:12], row.wrapped[12:], b"data-key:" + row.id.encode()
    )
    with sqlite_db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    path = Path(sqlite_db.engine.url.database or "")
    stored = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert blob in stored
    assert secret not in stored
    assert data_key not in stored
    assert K1 not in stored


def test_round_trip_property(db: Database) -> None:
    keys = keyed(K1)
    with db.session() as s:

        @hypothesis_settings(max_examples=40, deadline=None)
        @given(plaintext=st.binary(max_size=2048), aad=st.binary(max_size=64), other=st.binary())
        def check(plaintext: bytes, aad: bytes, other: bytes) -> None:
            blob = seal(s, plaintext, aad=aad, settings=keys)
            assert open_sealed(s, blob, aad=aad, settings=keys) == plaintext
            if other != aad:
                with pytest.raises(DecryptionFailed):
                    open_sealed(s, blob, aad=other, settings=keys)

        check()


def test_previous_master_keys_are_listed_in_order() -> None:
    listed = Settings(
        mode=Mode.TEST,
        data_key_previous=SecretStr(
            f" {base64.b64encode(K2).decode()} ,,{base64.b64encode(K3).decode()}"
        ),
    )
    assert listed.previous_master_keys() == [K2, K3]
    assert Settings(mode=Mode.TEST).previous_master_keys() == []
    assert "AgICAgIC" not in repr(listed)


def test_only_one_active_data_key_even_under_a_race(db: Database) -> None:
    with db.session() as s:
        seal(s, b"x", aad=AAD, settings=keyed(K1))
        first = s.scalars(select(DataKey)).one()
        # A second writer that missed the first key: the unique index sends it to the winner.
        assert _create_active(s, master_keys(keyed(K1))).id == first.id
        with pytest.raises(IntegrityError), s.begin_nested():
            s.add(DataKey(wrapped=b"", master_key_id="0" * 16, active=True))
        assert s.scalars(select(DataKey)).all() == [first]
