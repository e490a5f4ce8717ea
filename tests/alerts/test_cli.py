"""``liaison alerts import|expire|reminders|overdue`` and ``liaison check person|object``."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liaison.cli import app
from liaison.core.actor import Role
from liaison.core.clock import frozen
from liaison.core.settings import get_settings
from liaison.db.engine import Database
from tests.support.factories import agency, user

CSV = (
    "id,category,reason,plate,plate_country,review_date\n"
    "V1,vehicle,stolen,B-AB 1234,DE,\n"
    "V2,vehicle,stolen,X,DE,\n"
    "V3,number_plate,lost,M-XY 77,DE,2026-03-20\n"
)


@pytest.fixture
def cli_db(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("LIAISON_DATABASE_URL", sqlite_db.url)
    get_settings.cache_clear()
    with sqlite_db.session() as s:
        user(s, agency(s, "DE-BKA", country="DE"), Role.ALERT_MANAGER, username="de.manager")
        user(s, agency(s, "NL-NP", country="NL"), Role.OFFICER, username="nl.officer")
    yield sqlite_db
    get_settings.cache_clear()


def test_import_reminders_expire_and_checks(cli_db: Database, tmp_path: Path) -> None:
    source = tmp_path / "alerts.csv"
    source.write_text(CSV)
    report = tmp_path / "report.csv"
    runner = CliRunner()
    with frozen(dt.datetime(2026, 3, 1, tzinfo=dt.UTC)):
        result = runner.invoke(
            app, ["alerts", "import", str(source), "--as", "de.manager", "--report", str(report)]
        )
        assert result.exit_code == 0, result.output
        assert "2 accepted" in result.output
        assert "1 rejected" in result.output
        with report.open() as handle:
            rows = list(csv.DictReader(handle))
        assert [r["outcome"] for r in rows] == ["accepted", "rejected", "accepted"]
        due = runner.invoke(app, ["alerts", "reminders", "--days", "30", "--agency", "DE-BKA"])
        assert due.exit_code == 0, due.output
        assert "number_plate\t2026-03-20" in due.stdout
        assert "1 alerts due" in due.output
    hit = runner.invoke(
        app,
        [
            "check",
            "object",
            "--as",
            "nl.officer",
            "--purpose",
            "patrol",
            "--kind",
            "plate",
            "--value",
            "bab1234",
        ],
    )
    assert hit.exit_code == 1  # a hit
    assert json.loads(hit.stdout)["hits"][0]["category"] == "vehicle"
    nobody = runner.invoke(
        app,
        ["check", "person", "--as", "nl.officer", "--purpose", "patrol", "--name", "Jan Jansen"],
    )
    assert nobody.exit_code == 0, nobody.output
    assert json.loads(nobody.stdout)["outcome"] == "no_hit"
    with frozen(dt.datetime(2026, 3, 21, tzinfo=dt.UTC)):
        expired = runner.invoke(app, ["alerts", "expire"])
        assert expired.exit_code == 0, expired.output
        assert "1 alerts expired" in expired.output
    overdue = runner.invoke(app, ["alerts", "overdue"])
    assert "0 hit reports overdue" in overdue.output


def test_cli_errors_are_readable(cli_db: Database, tmp_path: Path) -> None:
    source = tmp_path / "alerts.ndjson"
    source.write_text("{}\n")
    result = CliRunner().invoke(app, ["alerts", "import", str(source), "--as", "nl.officer"])
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception)
