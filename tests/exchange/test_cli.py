"""``liaison exchange send|export|due`` on a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liaison.cli import app
from liaison.core.actor import Role
from liaison.core.settings import get_settings
from liaison.db.engine import Database
from tests.support.factories import agency, user

DOCUMENT = {
    "format": "liaison-message/1",
    "sender": {"agency": "DE-BKA"},
    "recipients": [{"agency": "NL-NP", "kind": "to"}],
    "subject": "Owner of a boat seen at Den Helder",
    "body": "Please identify the owner.",
    "message_type": "request",
    "priority": "urgent",
    "accessibility": "direct",
    "legal_basis": "Directive (EU) 2023/977 Art. 4",
    "purpose": "smuggling investigation",
    "markings": {"handling": "H1", "classification": "RESTRICTED"},
}


@pytest.fixture
def cli_db(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("LIAISON_DATABASE_URL", sqlite_db.url)
    get_settings.cache_clear()
    with sqlite_db.session() as s:
        user(s, agency(s, "DE-BKA", country="DE"), Role.OFFICER, username="de.officer")
        user(s, agency(s, "NL-NP", country="NL"), Role.OFFICER, username="nl.officer")
    yield sqlite_db
    get_settings.cache_clear()


def test_send_export_and_due(cli_db: Database, tmp_path: Path) -> None:
    doc = tmp_path / "request.json"
    doc.write_text(json.dumps(DOCUMENT))
    runner = CliRunner()
    sent = runner.invoke(app, ["exchange", "send", str(doc), "--as", "de.officer"])
    assert sent.exit_code == 0, sent.output
    message_id = sent.stdout.strip().splitlines()[-1]
    due = runner.invoke(app, ["exchange", "due", "--as", "nl.officer"])
    assert due.exit_code == 0, due.output
    assert message_id in due.stdout
    assert "open" in due.stdout
    exported = runner.invoke(
        app, ["exchange", "export", message_id, "--as", "nl.officer", "--format", "xml"]
    )
    assert exported.exit_code == 0, exported.output
    assert "Owner of a boat seen at Den Helder" in exported.stdout
    assert "judicial proceedings" in exported.stdout  # the H1 warning travels with the export


def test_send_reports_every_problem_readably(cli_db: Database, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(DOCUMENT | {"markings": {"handling": "H3", "classification": "X"}}))
    result = CliRunner().invoke(app, ["exchange", "send", str(bad), "--as", "de.officer"])
    assert result.exit_code == 2
    assert "error:" in result.output
    assert "classification" in result.output
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(DOCUMENT))
    result = CliRunner().invoke(app, ["exchange", "send", str(foreign), "--as", "nl.officer"])
    assert result.exit_code == 2
    assert "you send for NL-NP" in result.output
