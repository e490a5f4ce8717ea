"""The shared information system benchmark, end to end at a tiny size on SQLite."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.entities import main


def test_entities_benchmark_small(tmp_path: Path) -> None:
    out = tmp_path / "entities.json"
    returned = main(
        [
            "--persons",
            "300",
            "--queries",
            "20",
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
    assert {"machine", "persons", "records", "queries", "backends"} <= set(document)
    assert {"platform", "cpus", "python"} <= set(document["machine"])
    assert document["persons"] == 300
    assert list(document["backends"]) == ["sqlite"]

    result = document["backends"]["sqlite"]
    assert "error" not in result
    records = document["records"]
    assert records >= 300
    assert sum(result["world"]["records_per_agency"].values()) == records
    assert result["stored"] + result["rejected"] == records
    assert result["rejected"] == 0
    assert result["crosscheck"]["checked"] >= result["stored"]
    assert result["ingest"]["records_per_s"] > 0
    assert result["crosscheck"]["records_per_s"] > 0
    assert result["all_crossmatches_s"] >= result["ingest"]["seconds"]
    assert result["peak_rss_mb"] > 0

    quality = result["quality"]
    assert quality["all"]["predicted"] == result["crossmatches"]["active"]
    assert quality["match_band"]["predicted"] == result["crossmatches"]["by_band"].get("match", 0)
    for name in ("all", "match_band", "cross_script", "non_latin_persons"):
        q = quality[name]
        assert 0.0 <= q["precision"] <= 1.0
        assert 0.0 <= q["recall"] <= 1.0
        assert 0.0 <= q["f1"] <= 1.0
        assert q["true_positives"] <= min(q["predicted"], q["truth"])
    assert quality["all"]["truth"] > 0
    assert quality["all"]["recall"] > 0.5
    assert quality["all"]["precision"] > 0.5
    assert quality["cross_script"]["truth"] <= quality["all"]["truth"]
    assert quality["match_band"]["predicted"] <= quality["all"]["predicted"]

    search = result["search"]
    assert search["queries"] == 20
    assert 0 < search["p50_ms"] <= search["p95_ms"] <= search["p99_ms"]
    assert search["queries_per_s"] > 0
    assert 0.5 < search["recall_at_10"] <= 1.0
