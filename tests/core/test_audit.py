"""The audit log is append-only in the database and tamper-evident in its hash chain."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from tests.support.factories import actor_of, agency, user
from typer.testing import CliRunner

from liaison.core import audit
from liaison.core.actor import Role
from liaison.db.engine import Database


def _seed_entries(db: Database, n: int = 5) -> None:
    with db.session() as s:
        actor = actor_of(user(s, agency(s, "NL-NP"), Role.OFFICER))
        for i in range(n):
            audit.record(s, actor, "record.read", object_type="person", object_id=f"P{i}")


def _drop_guards(db: Database) -> None:
    with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update_delete ON audit_log"))


def test_chain_verifies_when_untouched(db: Database) -> None:
    _seed_entries(db)
    with db.session() as s:
        result = audit.verify(s)
    assert result.ok
    assert result.checked == 5


def test_entries_carry_actor_agency_purpose_and_outcome(db: Database) -> None:
    with db.session() as s:
        actor = actor_of(user(s, agency(s, "DE-BKA"), Role.ANALYST), purpose="case 17/2026")
        entry = audit.record(s, actor, "search", object_type="person", object_id="X1")
    assert entry.actor_username == actor.username
    assert entry.agency_id == actor.agency_id
    assert entry.purpose == "case 17/2026"
    assert entry.outcome == "success"


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"]
)
def test_database_refuses_update_and_delete(db: Database, statement: str) -> None:
    _seed_entries(db, 2)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(statement))
    with db.session() as s:
        assert audit.verify(s).ok


def test_altered_row_is_named(db: Database) -> None:
    _seed_entries(db)
    _drop_guards(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET object_id = 'P-forged' WHERE seq = 3"))
    with db.session() as s:
        result = audit.verify(s)
    assert not result.ok
    assert result.broken_seq == 3
    assert "hash" in (result.reason or "")


def test_removed_row_is_named(db: Database) -> None:
    _seed_entries(db)
    _drop_guards(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    with db.session() as s:
        result = audit.verify(s)
    assert not result.ok
    assert result.broken_seq == 2


def test_removed_tail_is_detected(db: Database) -> None:
    _seed_entries(db)
    _drop_guards(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 5"))
    with db.session() as s:
        result = audit.verify(s)
    assert not result.ok
    assert result.broken_seq == 5


def test_rewritten_chain_is_detected_by_recomputation(db: Database) -> None:
    """Changing a row and its stored hash still breaks the next entry's link."""
    _seed_entries(db)
    _drop_guards(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET hash = :h WHERE seq = 2"), {"h": "f" * 64})
    with db.session() as s:
        result = audit.verify(s)
    assert not result.ok
    assert result.broken_seq == 2


def test_cli_verify_exit_codes(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from liaison.cli import app
    from liaison.core.settings import get_settings

    _seed_entries(db)
    monkeypatch.setenv("LIAISON_DATABASE_URL", db.url)
    monkeypatch.setenv("LIAISON_MODE", "test")
    get_settings.cache_clear()
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output
    _drop_guards(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET purpose = 'changed' WHERE seq = 4"))
    broken = runner.invoke(app, ["audit", "verify"])
    get_settings.cache_clear()
    assert broken.exit_code == 1
    assert "entry 4" in broken.output


def test_concurrent_writers_keep_one_chain(db: Database) -> None:
    """Appends from several connections at once serialise on the chain head: no fork, no gap."""
    import threading

    with db.session() as s:
        actor = actor_of(user(s, agency(s, "FR-PN"), Role.OFFICER))
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                with db.session() as s:
                    audit.record(s, actor, "record.read", object_id=f"{n}-{i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session() as s:
        result = audit.verify(s)
    assert result.ok, result.describe()
    assert result.checked == 60
