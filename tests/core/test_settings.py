"""Settings refuse insecure defaults outside demo and test modes."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from pydantic import ValidationError

from liaison.core.settings import Mode, Settings

GOOD_KEY = base64.b64encode(b"k" * 32).decode()
GOOD_SESSION = "s" * 40


def test_production_refuses_default_secrets() -> None:
    with pytest.raises(ValidationError, match="LIAISON_SESSION_KEY") as info:
        Settings(mode=Mode.PRODUCTION)
    assert "LIAISON_DATA_KEY" in str(info.value)


def test_production_refuses_short_session_key() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(mode=Mode.PRODUCTION, session_key="short", data_key=GOOD_KEY)


def test_production_refuses_malformed_data_key() -> None:
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(
            mode=Mode.PRODUCTION, session_key=GOOD_SESSION, data_key=base64.b64encode(b"x").decode()
        )


def test_production_accepts_real_secrets() -> None:
    s = Settings(mode=Mode.PRODUCTION, session_key=GOOD_SESSION, data_key=GOOD_KEY)
    assert s.master_key() == b"k" * 32


def test_key_file_overrides(tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    key_file.write_text(GOOD_KEY + "\n")
    s = Settings(mode=Mode.PRODUCTION, session_key=GOOD_SESSION, data_key_file=key_file)
    assert s.master_key() == b"k" * 32


@pytest.mark.parametrize("mode", [Mode.DEMO, Mode.TEST])
def test_demo_and_test_modes_accept_defaults(mode: Mode) -> None:
    assert Settings(mode=mode).mode is mode


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIAISON_MODE", "demo")
    monkeypatch.setenv("LIAISON_PORT", "8123")
    assert Settings().port == 8123
