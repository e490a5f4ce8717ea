"""``liaison ingest`` and ``liaison crosscheck`` on a real database."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from liaison.cli import app
from liaison.core.actor import Role
from liaison.core.settings import get_settings
from liaison.db.engine import Database
from liaison.entities.model import CrossMatch, Entity
from tests.support.factories import agency, user


@pytest.fixture
def cli_db(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("LIAISON_DATABASE_URL", sqlite_db.url)
    get_settings.cache_clear()
    with sqlite_db.session() as s:
        user(s, agency(s, "DE-BKA"), Role.OFFICER, username="de.officer")
        user(s, agency(s, "NL-NP"), Role.OFFICER, username="nl.officer")
    yield sqlite_db
    get_settings.cache_clear()


def test_ingest_reports_rows_and_crosschecks(cli_db: Database, tmp_path: Path) -> None:
    de = tmp_path / "de.csv"
    de.write_text("ref,first_name,last_name,birth_date\nD1,Mehmet,Yilmaz,1979-10-10\nD2,,,\n")
    nl = tmp_path / "nl.csv"
    nl.write_text("ref,first_name,last_name,birth_date\nN1,Mehmet,Yılmaz,10.10.1979\n")
    report = tmp_path / "report.csv"
    runner = CliRunner()
    first = runner.invoke(
        app,
        [
            "ingest",
            str(de),
            "--as",
            "de.officer",
            "--defaults",
            "subject_category=suspect,handling=H1",
            "--report",
            str(report),
        ],
    )
    assert first.exit_code == 0, first.output
    assert "1 accepted" in first.output
    assert "1 rejected" in first.output
    assert "line 3:" in first.output
    with report.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["line"], r["outcome"]) for r in rows] == [("2", "accepted"), ("3", "rejected")]
    second = runner.invoke(
        app, ["ingest", str(nl), "--as", "nl.officer", "--defaults", "subject_category=contact"]
    )
    assert second.exit_code == 0, second.output
    assert "cross-checked 1 records" in second.output
    with cli_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Entity)) == 2
        assert s.scalar(select(func.count()).select_from(CrossMatch)) == 1
    again = runner.invoke(app, ["crosscheck"])
    assert again.exit_code == 0, again.output
    assert "0 records pending" in again.output


def test_ingest_refuses_unknown_user_and_bad_options(cli_db: Database, tmp_path: Path) -> None:
    data = tmp_path / "x.csv"
    data.write_text("first_name\nAnna\n")
    unknown = CliRunner().invoke(app, ["ingest", str(data), "--as", "nobody"])
    assert unknown.exit_code != 0
    bad = CliRunner().invoke(app, ["ingest", str(data), "--as", "de.officer", "--format", "pdf"])
    assert bad.exit_code != 0
