"""The alerts benchmark, end to end at a tiny size on SQLite; its bulk rows are the service's."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, select, update

from benchmarks import alerts as bench
from liaison.alerts import checks, demo, service
from liaison.alerts.drafts import parse_alert
from liaison.alerts.model import Alert, AlertIdentifier, AlertSequence, AlertVersion
from liaison.core.clock import utcnow
from liaison.db.engine import Database
from liaison.identity.model import User
from liaison.identity.service import actor_for
from liaison.synth.world import iter_world

# Columns that differ between two issues of the same alert by nature.
PER_ISSUE = {"id", "alert_id", "change_seq", "created_at", "updated_at", "changed_at"}


def _without(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in PER_ISSUE}


def test_bulk_rows_are_those_service_issue_writes(sqlite_db: Database) -> None:
    members = bench.network()
    with sqlite_db.session() as session:
        session.add_all(bench.network_rows(members, "-"))
    rng = random.Random(3)
    raws = [
        bench.object_raw(rng, n, "DE-BKA", "DE", category)
        for n, (category, _, _) in enumerate(bench.OBJECT_MIX * 3)
    ]
    document = next(r for r in raws if r["subject_type"] == "IdentityDocument")
    document["subject"]["holder_name"] = "Müller"  # a name property, normalised by the draft
    for unit in itertools.islice(iter_world(30, 5), 12):
        raw = demo._person_alert(rng, unit, unit.records[0])
        assert raw is not None
        raws.append(raw)
    for raw in raws:
        with sqlite_db.session() as session:
            manager = session.scalar(select(User).where(User.id == members["DE-BKA"].manager_id))
            assert manager is not None
            actor = actor_for(manager)
            issued = service.issue(session, actor, parse_alert(raw))
            alert_row, key_rows, version_row = bench.alert_rows(
                parse_alert(raw), actor, 1, utcnow()
            )
            stored_keys = [
                bench._columns(k)
                for k in session.scalars(
                    select(AlertIdentifier).where(AlertIdentifier.alert_id == issued.id)
                )
            ]
            [stored_version] = session.scalars(
                select(AlertVersion).where(AlertVersion.alert_id == issued.id)
            )
            stored = bench._columns(session.get(Alert, issued.id))
        assert _without(alert_row) == _without(stored), raw["category"]
        assert sorted(map(_without, key_rows), key=str) == sorted(
            map(_without, stored_keys), key=str
        )
        if alert_row["subject_kind"] == "object":
            assert key_rows, raw["category"]  # every object alert is found by an identifier
        assert _without(version_row) == _without(bench._columns(stored_version))
        assert isinstance(alert_row["created_at"], dt.datetime)


def test_a_batch_loads_its_hits_by_primary_key(sqlite_db: Database) -> None:
    """Found at scale: a chunk's hits read with their status in the statement made SQLite walk
    the status index, i.e. every alert in force, for a few dozen hits."""
    members = bench.network()
    with sqlite_db.session() as session:
        session.add_all(bench.network_rows(members, "-"))
        users = {u.id: u for u in session.scalars(select(User))}
        manager = actor_for(users[members["DE-BKA"].manager_id])
        officer = actor_for(users[members[bench.CHECKER].officer_id], bench.PURPOSE)
    rng = random.Random(9)
    units = list(itertools.islice(iter_world(200, 9), 80))
    raws = [demo._person_alert(rng, unit, unit.records[0]) for unit in units]
    rows = [
        bench.alert_rows(parse_alert(raw), manager, n, utcnow())
        for n, raw in enumerate(raws, start=1)
        if raw is not None
    ]
    with sqlite_db.engine.begin() as conn:
        conn.execute(insert(Alert.__table__), [a for a, _, _ in rows])
        conn.execute(update(AlertSequence).values(value=len(rows)))
    statements: list[tuple[str, Any]] = []

    def seen(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM alerts" in statement and "alerts.id IN" in statement:
            statements.append((statement, parameters))

    queries = [checks.person_query(bench.record_fields(u.records[0])) for u in units]
    event.listen(sqlite_db.engine, "before_cursor_execute", seen)
    try:
        with sqlite_db.session() as session:
            results = list(checks.check_batch(session, officer, queries))
    finally:
        event.remove(sqlite_db.engine, "before_cursor_execute", seen)
    assert sum(bool(r.hits) for r in results) >= 60
    [(statement, parameters)] = statements
    with sqlite_db.engine.connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    assert "status" not in str(plan), plan
    assert "(id=?)" in str(plan), plan


def test_alerts_benchmark_small(tmp_path: Path) -> None:
    out = tmp_path / "alerts.json"
    returned = bench.main(
        [
            "--alerts",
            "400",
            "--backend",
            "sqlite",
            "--object-queries",
            "60",
            "--person-queries",
            "30",
            "--batch-objects",
            "120",
            "--recall-persons",
            "30",
            "--negatives",
            "20",
            "--sample",
            "20",
            "--out",
            str(out),
            "--workdir",
            str(tmp_path),
        ]
    )
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document == json.loads(json.dumps(returned))
    assert {"machine", "alerts", "persons_share", "build", "probes", "targets", "backends"} <= set(
        document
    )
    assert {"platform", "cpus", "python"} <= set(document["machine"])
    assert document["alerts"] == 400
    assert list(document["backends"]) == ["sqlite"]

    build = document["build"]
    assert build["alerts"] == 400
    assert build["person_alerts"] == 80
    assert build["object_alerts"] == 320
    assert build["service_sample"] == 20
    assert build["bulk_rows_built"] == 380
    assert not build["rejected"]

    result = document["backends"]["sqlite"]
    assert "error" not in result, result.get("error")
    assert result["fill"]["alerts"] == 380
    assert result["fill"]["audit_entries"] == 0
    assert result["service_issue"]["issued"] == 20
    assert not result["service_issue"]["refused"]
    assert result["store"]["active_alerts"] == 400
    assert result["store"]["active_by_kind"] == {"person": 80, "object": 320}
    assert result["person_index"]["persons"] == 80

    objects = result["object_check"]
    assert objects["queries"] == 60
    assert 0 < objects["p50_ms"] <= objects["p95_ms"] <= objects["p99_ms"]
    assert objects["hit_queries"] == 30
    assert objects["hit_queries_found"] == 30
    assert objects["no_hit_queries_with_a_hit"] == 0
    assert objects["reference"]["queries"] == 60
    assert objects["ratio_p95"] > 0

    persons = result["person_check"]
    assert persons["queries"] == 30
    assert 0 < persons["p50_ms"] <= persons["p95_ms"] <= persons["p99_ms"]
    assert persons["reference"]["queries"] == 30

    assert result["object_batch"]["items"] == 120
    assert result["object_batch"]["hit_queries_found"] == result["object_batch"]["hit_queries"]
    assert result["object_batch"]["checks_per_s"] > 0
    assert result["person_batch"]["items"] == document["probes"]["persons"]
    assert result["person_batch"]["checks_per_s"] > 0
    # Every check is audited: one entry per single check, one per batch chunk.
    assert result["audit"]["entries_written_by_checks"] == result["audit"]["expected"]

    assert set(result["recall"]) == {"record", "spoken", "all_forms"}
    for form, recall in result["recall"].items():
        assert recall["all"]["probes"] > 0, form
        assert 0.5 < recall["all"]["recall"] <= 1.0, form
        assert recall["all_findable"]["recall"] >= recall["all"]["recall"], form
        assert 0.0 <= recall["false_hits"]["rate_any_band"] <= 1.0, form
    assert result["recall"]["record"]["false_hits"]["persons_without_alert"] > 0
    assert result["recall"]["spoken"]["false_hits"]["persons_without_alert"] == 0
    all_forms = result["recall"]["all_forms"]["all"]["probes"]
    assert all_forms == sum(result["recall"][f]["all"]["probes"] for f in ("record", "spoken"))

    targets = result["targets"]
    assert set(targets) == {
        "object_check_p95_ms",
        "person_check_p95_ms",
        "batch_objects_per_s",
        "batch_persons_per_s",
        "recall",
    }
    for name in ("object_check_p95_ms", "person_check_p95_ms"):
        assert targets[name]["met"] == (targets[name]["measured"] <= targets[name]["target"])
    for name in ("batch_objects_per_s", "batch_persons_per_s"):
        assert targets[name]["met"] == (targets[name]["measured"] >= targets[name]["target"])
    assert isinstance(targets["recall"]["met"], bool)
    assert result["peak_rss_mb"] > 0
