"""The demo and synth commands: seed, print logins, and a demo user can sign in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from liaison.cli import app
from liaison.core.settings import get_settings
from liaison.db.engine import Database
from liaison.entities.model import CrossMatch, Entity
from liaison.synth.agencies import DEMO_PASSWORD
from liaison.web.app import create_app
from tests.support.web import csrf_of

DEMO_VARIABLES = ("LIAISON_MODE", "LIAISON_DATABASE_URL", "LIAISON_COOKIE_SECURE")


@pytest.fixture
def clean_settings() -> Iterator[None]:
    """The demo command sets its variables in os.environ; put them back afterwards."""
    saved = {name: os.environ.pop(name, None) for name in DEMO_VARIABLES}
    get_settings.cache_clear()
    yield
    for name, value in saved.items():
        os.environ.pop(name, None)
        if value is not None:
            os.environ[name] = value
    get_settings.cache_clear()


def test_demo_seeds_and_demo_users_sign_in(tmp_path: Path, clean_settings: None) -> None:
    database = tmp_path / "demo.db"
    result = CliRunner().invoke(
        app, ["demo", "--no-serve", "--persons", "200", "--database", str(database)]
    )
    assert result.exit_code == 0, result.output
    assert "de.officer" in result.output
    assert DEMO_PASSWORD in result.output
    assert (tmp_path / "demo-world" / "records.csv").exists()
    settings = get_settings()
    assert settings.mode.value == "demo"
    db = Database(f"sqlite:///{database}")
    client = TestClient(create_app(settings, db), follow_redirects=False)
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "de.officer",
            "password": DEMO_PASSWORD,
            "csrf_token": csrf_of(page.text),
        },
    )
    assert response.status_code == 303
    assert "Bundeskriminalamt" in client.get("/").text
    with db.session() as session:  # the demo starts with records and their cross-matches
        assert session.scalar(select(func.count()).select_from(Entity))
        assert session.scalar(select(func.count()).select_from(CrossMatch))
    db.dispose()


def test_synth_command_writes_world(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["synth", "--persons", "150", "--seed", "3", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "truth.csv").exists()
    assert (tmp_path / "manifest.json").exists()


def test_production_mode_refuses_default_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIAISON_MODE", "production")
    monkeypatch.delenv("LIAISON_SESSION_KEY", raising=False)
    monkeypatch.delenv("LIAISON_DATA_KEY", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["db", "upgrade"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code != 0
