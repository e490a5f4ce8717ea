"""``make bench``: Liaison beside Splink on the same data and machine, in one run.

Each system runs in its own process (Splink in the separate benchmark environment), so wall time
and peak memory are measured per system. Prints a table and writes results/latest.json.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import platform
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.metrics import best_over_thresholds, pair_key, percentile, scores

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("LIAISON_SHARED_DATA", ROOT.parent / "shared" / "data")) / "linkage"
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
RESULTS = ROOT / "benchmarks" / "results"

FEBRL_FIELDS = {"first_name": "given_name", "surname": "surname", "dob": "date_of_birth"}
DATASETS: dict[str, dict[str, Any]] = {
    "febrl4": {
        "files": [str(SHARED / "febrl_dataset4a.csv"), str(SHARED / "febrl_dataset4b.csv")],
        "id": "rec_id",
        "fields": FEBRL_FIELDS,
        "dob_format": "%Y%m%d",
        "exact": ["postcode", "suburb"],
        "levenshtein": ["soc_sec_id", "address_1"],
        "blocking": [["given_name"], ["surname"], ["date_of_birth"], ["postcode"], ["soc_sec_id"]],
        "training": [["date_of_birth"], ["surname"]],
    },
    "febrl3": {
        "files": [str(SHARED / "febrl_dataset3.csv")],
        "id": "rec_id",
        "fields": FEBRL_FIELDS,
        "dob_format": "%Y%m%d",
        "exact": ["postcode", "suburb"],
        "levenshtein": ["soc_sec_id", "address_1"],
        "blocking": [["given_name"], ["surname"], ["date_of_birth"], ["postcode"], ["soc_sec_id"]],
        "training": [["date_of_birth"], ["surname"]],
    },
    "fake_1000": {
        "files": [str(SHARED / "fake_1000.csv")],
        "id": "unique_id",
        "fields": {
            "first_name": "first_name",
            "surname": "surname",
            "dob": "dob",
            "email": "email",
        },
        "exact": ["city"],
        "levenshtein": [],
        "blocking": [["first_name"], ["surname"], ["dob"], ["email"]],
        "training": [["dob"], ["first_name", "surname"]],
    },
}


def synthetic_dataset(persons: int, seed: int = 1) -> str:
    """Write (once, cached) the synthetic world of ``persons`` and register it as a dataset."""
    from liaison.synth import write_world

    name = f"synth{persons}"
    out = ROOT / "benchmarks" / ".data" / f"{name}-seed{seed}"
    if not (out / "manifest.json").exists():
        write_world(out, persons=persons, seed=seed)
    DATASETS[name] = {
        "files": [str(out / "records.csv")],
        "id": "record_id",
        "truth": str(out / "truth.csv"),
        "persons": str(out / "persons.csv"),
        "fields": {"first_name": "given_name", "surname": "family_name", "dob": "dob"},
        "exact": ["document_number", "phone", "email", "vehicle_vin", "iban"],
        "levenshtein": [],
        "blocking": [
            ["given_name", "family_name"],
            ["dob"],
            ["document_number"],
            ["phone"],
            ["email"],
        ],
        "training": [["dob"], ["given_name", "family_name"]],
    }
    return name


def non_latin_records(name: str) -> set[str]:
    """Records of persons whose names are not written in Latin script at home."""
    spec = DATASETS[name]
    with open(spec["persons"], encoding="utf-8") as f:
        non_latin = {
            r["person_id"] for r in csv.DictReader(f) if r["given_native"] != r["given_latin"]
        }
    with open(spec["truth"], encoding="utf-8") as f:
        return {r["record_id"] for r in csv.DictReader(f) if r["person_id"] in non_latin}


def cross_script_scores(
    pairs: Sequence[tuple[str, str, float]], truth: set[tuple[str, str]], records: set[str]
) -> dict[str, Any]:
    """Precision and recall on the pairs touching a non-Latin-named person's records, at 0.9,
    and the best recall at a precision of at least 0.99 over thresholds."""
    touching = [(a, b, p) for a, b, p in pairs if a in records or b in records]
    cross = {pair for pair in truth if pair[0] in records}
    at = scores(touching, cross, 0.9)
    best_recall, best_threshold = 0.0, None
    for threshold in (0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999):
        s = scores(touching, cross, threshold)
        if s.precision >= 0.99 and s.recall > best_recall:
            best_recall, best_threshold = s.recall, threshold
    return {
        "cross_script_pairs": len(cross),
        "cross_script_precision": round(at.precision, 4),
        "cross_script_recall": round(at.recall, 4),
        "cross_script_recall_at_p99": round(best_recall, 4),
        "cross_script_threshold_at_p99": best_threshold,
    }


def truth_pairs(name: str) -> set[tuple[str, str]]:
    spec = DATASETS[name]
    if "truth" in spec:
        groups_by_person: dict[str, list[str]] = defaultdict(list)
        with open(spec["truth"], encoding="utf-8") as f:
            for row in csv.DictReader(f):
                groups_by_person[row["person_id"]].append(row["record_id"])
        return {
            pair_key(a, b)
            for members in groups_by_person.values()
            for a, b in itertools.combinations(members, 2)
        }
    if name == "fake_1000":
        with open(spec["files"][0], encoding="utf-8") as f:
            groups: dict[str, list[str]] = defaultdict(list)
            for row in csv.DictReader(f):
                groups[row["cluster"]].append(row["unique_id"])
    else:
        groups = defaultdict(list)
        for path in spec["files"]:
            with open(path, encoding="utf-8") as f:
                for row in csv.DictReader(f, skipinitialspace=True):
                    rec = row["rec_id"].strip()
                    groups[rec.split("-")[1]].append(rec)
    pairs = set()
    for members in groups.values():
        for a, b in itertools.combinations(members, 2):
            if name == "febrl4" and a.endswith("org") == b.endswith("org"):
                continue  # a link task: only pairs across the two files
            pairs.add(pair_key(a, b))
    return pairs


def candidates_file(name: str) -> Path:
    """Candidate pairs from Liaison's blocking, shared by the matchers that do not block."""
    from liaison.matching.csvio import read_records
    from liaison.matching.index import Index
    from liaison.matching.record import prepare
    from liaison.matching.scoring import MatchModel

    spec = DATASETS[name]
    path = ROOT / "benchmarks" / ".data" / f"candidates-{name}.jsonl"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    sets = [
        [prepare(r, r["id"]) for r in read_records(Path(f), id_column=spec["id"])[0]]
        for f in spec["files"]
    ]
    index = Index(MatchModel())
    index.add_all(sets[-1])
    with path.open("w", encoding="utf-8") as out:
        if len(sets) == 2:
            for record in sets[0]:
                for position in index.candidates(record):
                    out.write(json.dumps([record.ref, index.records[position].ref]) + "\n")
        else:
            for i, j in index.pairs():
                out.write(json.dumps([index.records[i].ref, index.records[j].ref]) + "\n")
    return path


def run_system(
    system: str, spec: dict[str, Any], dataset: str = ""
) -> tuple[list[tuple[str, str, float]], float, float]:
    """Run one system in a subprocess: (scored pairs, wall seconds, peak resident MB)."""
    if system.startswith("nomenklatura"):
        algorithm = "logic-v1" if system.endswith("v1") else "logic-v2"
        command = [
            str(BENCH_PYTHON),
            str(ROOT / "benchmarks" / "systems" / "nomenklatura_run.py"),
            json.dumps(spec),
            algorithm,
            str(candidates_file(dataset)),
        ]
    elif system == "splink":
        command = [
            str(BENCH_PYTHON),
            str(ROOT / "benchmarks" / "systems" / "splink_run.py"),
            json.dumps(spec),
        ]
    else:
        command = [sys.executable, "-m", "benchmarks.systems.liaison_run", json.dumps(spec)]
    # GNU time reports the child's own peak resident set (kB) on the last line of stderr.
    command = ["/usr/bin/time", "-f", "peak_kb=%M", *command]
    start = time.perf_counter()
    process = subprocess.run(command, capture_output=True, cwd=ROOT, text=True, check=False)
    wall = time.perf_counter() - start
    out, err = process.stdout, process.stderr
    if process.returncode != 0:
        raise RuntimeError(f"{system} failed: {err[-2000:]}")
    peak_lines = [line for line in err.splitlines() if line.startswith("peak_kb=")]
    peak = int(peak_lines[-1].split("=")[1]) / 1024 if peak_lines else float("nan")
    pairs = [tuple(json.loads(line)) for line in out.splitlines() if line.startswith("[")]
    return pairs, wall, peak  # type: ignore[return-value]


def search_benchmark(persons: int, queries: int, batch: int = 1000) -> dict[str, Any]:
    """Single-record search latency and batch screening throughput against an index of the
    synthetic world. Queries: one per person (in the world's order) until ``queries``, the
    person's name in its own script for non-Latin names (the cross-script case), else as
    written in Latin, with the date of birth; a query is found when any of the person's
    records is among its hits."""
    from liaison.matching.index import Index
    from liaison.matching.parallel import prepare_stream
    from liaison.matching.record import prepare
    from liaison.matching.scoring import MatchModel
    from liaison.synth import iter_world

    index = Index(MatchModel())
    probes: list[tuple[Any, set[str], bool]] = []

    def items() -> Any:
        for unit in iter_world(persons, seed=5):
            name = unit.person.name
            if len(probes) < queries and unit.records:
                native = name.script != "latin"
                spelled = (
                    f"{name.given_native} {name.family_native}"
                    if native
                    else f"{name.given_latin} {name.family_latin}"
                )
                raw = {"full_name": spelled, "dob": unit.person.born.isoformat()}
                ids = {r["record_id"] for r in unit.records}
                probes.append((prepare(raw, f"q{len(probes)}"), ids, native))
            for record in unit.records:
                yield {k: v for k, v in record.items() if isinstance(v, str)}, record["record_id"]

    started = time.perf_counter()
    pending = []
    for chunk in prepare_stream(items()):
        pending.extend(chunk)
        if len(pending) >= 100_000:
            index.add_all(pending)
            pending = []
    index.add_all(pending)
    build = time.perf_counter() - started
    latencies = []
    found = {True: 0, False: 0}
    asked = {True: 0, False: 0}
    for query, expected, native in probes:
        t = time.perf_counter()
        hits = index.search(query)
        latencies.append((time.perf_counter() - t) * 1000)
        asked[native] += 1
        found[native] += bool({h.right for h in hits} & expected)
    total = sum(latencies) / 1000
    t = time.perf_counter()
    screened = 0
    for start in range(0, len(probes), batch):
        chunk = [q for q, _, _ in probes[start : start + batch]]
        screened += len(index.search_many(chunk))
    batch_seconds = time.perf_counter() - t
    return {
        "persons": persons,
        "records": len(index),
        "build_seconds": round(build, 1),
        "queries": len(probes),
        "cross_script_queries": asked[True],
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "single_per_s": round(len(probes) / total, 1) if total else None,
        "batch_size": batch,
        "batch_per_s": round(screened / batch_seconds, 1) if batch_seconds else None,
        "cross_script_recall": round(found[True] / asked[True], 4) if asked[True] else None,
        "latin_recall": round(found[False] / asked[False], 4) if asked[False] else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--datasets", default="febrl4,febrl3,fake_1000")
    parser.add_argument("--systems", default="liaison,splink,nomenklatura-v1,nomenklatura-v2")
    parser.add_argument("--synth-persons", type=int, default=100_000, help="0 to skip")
    parser.add_argument("--search-persons", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--out", default=str(RESULTS / "latest.json"), help="JSON results file")
    args = parser.parse_args()
    systems = [s for s in args.systems.split(",") if s]
    if not BENCH_PYTHON.exists():
        print("reference systems skipped: .venv-bench is missing (make bench creates it)")
        systems = [s for s in systems if s == "liaison"]
    results: dict[str, Any] = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "linkage": [],
        "search": None,
    }
    rows = []
    datasets = [d for d in args.datasets.split(",") if d]
    if args.synth_persons:
        datasets.append(synthetic_dataset(args.synth_persons))
    for dataset in datasets:
        truth = truth_pairs(dataset)
        non_latin = non_latin_records(dataset) if "persons" in DATASETS[dataset] else set()
        for system in systems:
            try:
                pairs, wall, peak = run_system(system, DATASETS[dataset], dataset)
            except RuntimeError as exc:
                print(f"{dataset:10} {system:8} failed: {str(exc)[-300:]}", flush=True)
                results["linkage"].append(
                    {"dataset": dataset, "system": system, "error": str(exc)[-1000:]}
                )
                continue
            at = scores(pairs, truth, 0.9)
            best = best_over_thresholds(pairs, truth)
            row = {
                "dataset": dataset,
                "system": system,
                "precision": round(at.precision, 4),
                "recall": round(at.recall, 4),
                "f1": round(at.f1, 4),
                "best_f1": round(best.f1, 4),
                "best_threshold": best.threshold,
                "wall_s": round(wall, 1),
                "peak_mb": round(peak),
            }
            if non_latin:
                row.update(cross_script_scores(pairs, truth, non_latin))
            results["linkage"].append(row)
            rows.append(row)
            line = (
                f"{dataset:10} {system:8} P {row['precision']:.4f} R {row['recall']:.4f} "
                f"F1@0.9 {row['f1']:.4f} best F1 {row['best_f1']:.4f} (t={row['best_threshold']}) "
                f"{row['wall_s']}s {row['peak_mb']} MB"
                + (
                    f" cross-script P {row['cross_script_precision']} R "
                    f"{row['cross_script_recall']}, R at P≥0.99 {row['cross_script_recall_at_p99']}"
                    f" (t={row['cross_script_threshold_at_p99']})"
                    if non_latin
                    else ""
                )
            )
            print(line, flush=True)
    if args.search_persons:
        results["search"] = search_benchmark(args.search_persons, args.queries)
        print("search", json.dumps(results["search"]), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
