"""The secure exchange benchmark, end to end at a tiny size on SQLite."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.exchange import KINDS, main


def test_exchange_benchmark_small(tmp_path: Path) -> None:
    out = tmp_path / "exchange.json"
    returned = main(
        [
            "--messages",
            "50",
            "--small",
            "20",
            "--sends",
            "30",
            "--queries",
            "3",
            "--verify",
            "10",
            "--backend",
            "sqlite",
            "--out",
            str(out),
            "--workdir",
            str(tmp_path),
        ]
    )
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document == json.loads(json.dumps(returned))
    assert {"machine", "messages", "small_store", "sends", "queries_per_kind", "backends"} <= set(
        document
    )
    assert {"platform", "cpus", "python"} <= set(document["machine"])
    assert document["messages"] == 50
    assert document["network"]["agencies"] >= 30
    assert list(document["backends"]) == ["sqlite"]

    result = document["backends"]["sqlite"]
    assert "error" not in result, result.get("error")
    assert result["peak_rss_mb"] > 0
    assert any("audit" in note for note in result["notes"])
    for name, size in (("large", 50), ("small", 20)):
        store = result["stores"][name]
        fill = store["fill"]
        assert fill["messages"] == size
        assert sum(fill["by_type"].values()) == size
        assert fill["recipient_rows"] >= size
        assert fill["messages_per_s"] > 0
        assert fill["audited"] is False

        # Every sampled bulk-filled message opened with a valid signature.
        verification = store["verification"]
        assert verification["sampled"] > 0
        assert verification["valid"] == verification["sampled"]

        send = store["send"]
        assert send["sends"] == 30
        assert send["audited"] == 30
        assert sum(send["by_type"].values()) == 30
        assert send["messages_per_s"] > 0
        assert 0 < send["p50_ms"] <= send["p95_ms"] <= send["p99_ms"]

        assert set(store["agencies"]) == {"busy", "typical"}
        for agency in store["agencies"].values():
            assert agency["received"] > 0
            assert set(agency["queries"]) == set(KINDS)
            for kind in ("inbox", "sent", "counts", "read"):
                q = agency["queries"][kind]
                assert q["queries"] == 3
                assert 0 < q["p50_ms"] <= q["p95_ms"] <= q["p99_ms"]
    large = result["stores"]["large"]
    assert large["seal_sign_cost"]["seal_us"] > 0
    statements = large["agencies"]["busy"]["queries"]["inbox"]["statements"]
    assert statements["statements"] >= 2
    assert statements["select_sql"].startswith("SELECT")
    assert statements["plan"]
    assert result["ratios"]["busy_p95"]["inbox"] > 0
