"""``liaison keys``: master-key rotation, status and signing-key rotation from a shell."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import pytest
from click.testing import Result
from sqlalchemy import select
from tests.support.factories import agency
from typer.testing import CliRunner

from liaison.cli import app
from liaison.core.crypto import DataKey, forget_cached_keys, master_key_id, open_sealed, seal
from liaison.core.settings import get_settings
from liaison.core.signing import public_keys
from liaison.db.engine import Database

K1, K2, K3 = (bytes([n]) * 32 for n in (1, 2, 3))
AAD = b"message-body:M1"
UseKeys = Callable[..., None]


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


@pytest.fixture
def use_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[UseKeys]:
    """Point the process settings at a master key and, optionally, previous ones."""

    def configure(current: bytes, *previous: bytes) -> None:
        monkeypatch.setenv("LIAISON_DATA_KEY", _b64(current))
        monkeypatch.setenv("LIAISON_DATA_KEY_PREVIOUS", ",".join(_b64(p) for p in previous))
        get_settings.cache_clear()

    yield configure
    get_settings.cache_clear()


@pytest.fixture
def cli_db(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("LIAISON_DATABASE_URL", sqlite_db.url)
    get_settings.cache_clear()
    yield sqlite_db
    get_settings.cache_clear()


def keys(*args: str) -> Result:
    return CliRunner().invoke(app, ["keys", *args])


def test_status_of_a_fresh_node(cli_db: Database, use_keys: UseKeys) -> None:
    use_keys(K1)
    result = keys("status")
    assert result.exit_code == 0, result.output
    assert f"current master key: {master_key_id(K1)}" in result.output
    assert "created on first use" in result.output


def test_master_key_rotation_step_by_step(cli_db: Database, use_keys: UseKeys) -> None:
    use_keys(K1)
    with cli_db.session() as s:
        blob = seal(s, b"statement of the witness", aad=AAD)
    # The operator sets the new key and lists the old one as previous.
    use_keys(K2, K1)
    before = keys("status")
    assert before.exit_code == 0, before.output
    assert "1 data key still to re-wrap" in before.output
    rotated = keys("rotate", "--batch", "1")
    assert rotated.exit_code == 0, rotated.output
    assert "new data key" in rotated.output
    assert (
        f"re-wrapped 1 data key under master key {master_key_id(K2)} in 1 batch" in rotated.output
    )
    after = keys("status")
    assert after.exit_code == 0, after.output
    assert "every data key is wrapped by the current master key" in after.output
    assert "LIAISON_DATA_KEY_PREVIOUS are no longer needed" in after.output
    again = keys("rotate")
    assert again.exit_code == 0, again.output
    assert "already wrapped" in again.output
    # The previous key is removed: the old data still opens.
    use_keys(K2)
    forget_cached_keys()
    with cli_db.session() as s:
        assert open_sealed(s, blob, aad=AAD) == b"statement of the witness"
        assert set(s.scalars(select(DataKey.master_key_id))) == {master_key_id(K2)}
    assert keys("status").exit_code == 0


def test_status_and_rotate_fail_when_a_master_key_is_missing(
    cli_db: Database, use_keys: UseKeys
) -> None:
    use_keys(K3)
    with cli_db.session() as s:
        seal(s, b"sealed under a key later lost", aad=AAD)
    use_keys(K1)
    status = keys("status")
    assert status.exit_code == 1, status.output
    assert f"{master_key_id(K3)}  UNKNOWN" in status.output
    assert "1 data key wrapped by a master key this node does not hold" in status.output
    rotated = keys("rotate")
    assert rotated.exit_code == 1, rotated.output
    assert "could not be re-wrapped" in rotated.output
    assert master_key_id(K3) in rotated.output


def test_malformed_previous_key_exits_2(cli_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIAISON_DATA_KEY_PREVIOUS", "c2hvcnQ=")
    get_settings.cache_clear()
    for command in ("status", "rotate"):
        result = keys(command)
        assert result.exit_code == 2, result.output
        assert "LIAISON_DATA_KEY_PREVIOUS entry 1 must be base64 of exactly 32 bytes" in (
            result.output
        )
        assert "Traceback" not in result.output


def test_rotate_signing(cli_db: Database, use_keys: UseKeys) -> None:
    use_keys(K1)
    with cli_db.session() as s:
        de = agency(s, "DE-BKA")
    first = keys("rotate-signing", "DE-BKA")
    assert first.exit_code == 0, first.output
    assert "new signing key" in first.output
    assert keys("rotate-signing", "DE-BKA").exit_code == 0
    with cli_db.session() as s:
        stored = public_keys(s, de.id)
    assert [k.retired_at is None for k in stored] == [False, True]
    assert stored[0].id in first.output
    unknown = keys("rotate-signing", "XX-NONE")
    assert unknown.exit_code == 2
    assert "no agency with code 'XX-NONE'" in unknown.output
