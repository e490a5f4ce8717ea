"""The shared information system at scale: ingestion, cross-check, its quality, unified search.

``python -m benchmarks.entities [--persons N] [--backend sqlite|postgresql|both] [--queries Q]``

1. The synthetic world of N persons becomes one Person contribution per agency record, written
   per holding agency; one agency and one officer per synthetic agency.
2. Each agency's records go through ``ingest_rows`` (the upload path, one batch per agency),
   then ``run_pending`` runs until no record is pending: records/s of both, and the wall time
   until every cross-match exists.
3. Active person cross-matches are compared with the truth: every pair of records of one person
   held by different agencies. Precision, recall and F1 overall, for the ``match`` band alone,
   and for cross-script pairs.
4. Q searches with another agency's spelling of a person (its Latin spelling, or the name in the
   person's own script) and that record's date of birth: latency percentiles, queries/s and
   recall@10 of the person's other records.

With several backends each runs in its own process, so peak resident memory is per backend
(the PostgreSQL server's own memory is not included). Prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
import traceback
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from benchmarks.metrics import pair_key, percentile
from liaison.core.actor import Role
from liaison.core.agencies import Agency
from liaison.core.markings import Classification
from liaison.db.engine import Database
from liaison.db.migrate import upgrade
from liaison.entities.crosscheck import pending_count, run_pending
from liaison.entities.ingest import ingest_rows
from liaison.entities.model import CrossMatch, Entity, IdentityConflict, IngestRow
from liaison.entities.search import search
from liaison.entities.synthetic import person_contribution
from liaison.identity.model import User
from liaison.identity.passwords import hash_password
from liaison.identity.service import actor_for
from liaison.synth import iter_world
from liaison.synth.agencies import AGENCIES

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "entities.json"
DEFAULT_PERSONS = 20_000
DEFAULT_QUERIES = 300
BACKENDS = ("sqlite", "postgresql")
PURPOSE = "benchmark of the shared information system"
TOP_K = 10

Pair = tuple[str, str]


# ── The synthetic world as contributions ──────────────────────────────────────────────────────


def non_latin(text: str) -> bool:
    """Does the text hold letters of a script other than Latin?"""
    return any(c.isalpha() and not unicodedata.name(c, "").startswith("LATIN") for c in text)


def contribution_of(record: dict[str, Any], accreditation: int) -> tuple[dict[str, Any], bool]:
    """The raw contribution (``parse_contribution``'s input) of one synthetic agency record, and
    whether its classification was lowered to the agency's accreditation."""
    clearance = Classification(accreditation)
    capped = Classification.parse(record["classification"]) > clearance
    return person_contribution(record, accreditation=clearance), capped


@dataclass(frozen=True, slots=True)
class Truth:
    """What the world knows of one record."""

    person: str
    agency: str
    script: str  # the person's script at home: latin, cyrillic, greek, arabic, han
    native: bool  # the record carries the name in a non-Latin script


@dataclass(frozen=True, slots=True)
class Probe:
    """One search: the text, the record its spelling comes from, the person's other records."""

    text: str
    source: str
    targets: frozenset[str]
    script: str
    form: str  # "latin" (the other agency's spelling) or "native" (the person's own script)


@dataclass(slots=True)
class World:
    persons: int
    files: dict[str, Path] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    truth: dict[str, Truth] = field(default_factory=dict)
    probes: list[Probe] = field(default_factory=list)
    capped: int = 0
    seconds: float = 0.0

    @property
    def records(self) -> int:
        return sum(self.counts.values())


def _probe(unit: Any, rng: random.Random) -> Probe:
    """A search for ``unit``'s person as one of its records spells it (never that record)."""
    person, records = unit.person, unit.records
    source = rng.choice(records)
    name = person.name
    if name.script != "latin" and rng.random() < 0.5:
        text = (
            name.family_native + name.given_native
            if name.script == "han"
            else f"{name.given_native} {name.family_native}"
        )
        form = "native"
    else:
        text = source["full_name"] or f"{source['given_name']} {source['family_name']}"
        form = "latin"
    if source["dob"]:
        text = f"{text} {source['dob']}"
    targets = frozenset(r["record_id"] for r in records if r is not source)
    return Probe(" ".join(text.split()), source["record_id"], targets, name.script, form)


def build_world(persons: int, seed: int, queries: int, workdir: Path) -> World:
    """Generate the world once: per-agency contribution files, the truth and the probes."""
    started = time.perf_counter()
    accreditation = {a.code: int(Classification.parse(a.accreditation)) for a in AGENCIES}
    world = World(persons)
    handles: dict[str, Any] = {}
    rng = random.Random(seed * 7919 + 17)
    eligible = 0
    try:
        for unit in iter_world(persons, seed):
            for record in unit.records:
                code = record["owner_agency"]
                if code not in handles:
                    world.files[code] = workdir / f"{code}.jsonl"
                    handles[code] = world.files[code].open("w", encoding="utf-8")
                raw, capped = contribution_of(record, accreditation[code])
                world.capped += capped
                handles[code].write(json.dumps(raw, ensure_ascii=False) + "\n")
                world.counts[code] += 1
                world.truth[record["record_id"]] = Truth(
                    unit.person.person_id,
                    code,
                    unit.person.name.script,
                    non_latin(record["name_original"]),
                )
            if len(unit.records) < 2 or not queries:
                continue
            # Reservoir sampling: every person held twice or more is equally likely a probe.
            eligible += 1
            if len(world.probes) < queries:
                world.probes.append(_probe(unit, rng))
            elif (slot := rng.randrange(eligible)) < queries:
                world.probes[slot] = _probe(unit, rng)
    finally:
        for handle in handles.values():
            handle.close()
    world.seconds = time.perf_counter() - started
    return world


def truth_pairs(truth: dict[str, Truth], stored: set[str]) -> set[Pair]:
    """Every pair of stored records of one person held by different agencies."""
    by_person: dict[str, list[str]] = defaultdict(list)
    for record_id, t in truth.items():
        if record_id in stored:
            by_person[t.person].append(record_id)
    return {
        pair_key(a, b)
        for members in by_person.values()
        for a, b in itertools.combinations(members, 2)
        if truth[a].agency != truth[b].agency
    }


def quality(predicted: set[Pair], truth: set[Pair]) -> dict[str, Any]:
    true_positives = len(predicted & truth)
    precision = true_positives / len(predicted) if predicted else 0.0
    recall = true_positives / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "predicted": len(predicted),
        "truth": len(truth),
        "true_positives": true_positives,
    }


# ── One backend ──────────────────────────────────────────────────────────────────────────────


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any], None]]:
    with path.open(encoding="utf-8") as f:
        for line_number, line in enumerate(f, start=1):
            yield line_number, json.loads(line), None


def bench_officer(session: Any, spec: Any, password_hash: str, purpose: str) -> Any:
    """An agency from its spec and one officer who never signs in; its Actor with ``purpose``."""
    agency = Agency(
        code=spec.code,
        name=spec.name,
        country=spec.country,
        framework=spec.framework,
        accreditation=int(Classification.parse(spec.accreditation)),
        personal_data_basis=spec.personal_data_basis,
        active=True,
    )
    session.add(agency)
    session.flush()
    user = User(
        agency_id=agency.id,
        username=f"bench.{spec.code.lower()}",
        display_name=f"{spec.code} officer",
        password_hash=password_hash,  # a random password nobody knows: never signs in
        roles_csv=Role.OFFICER.value,
        active=True,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    session.refresh(user)
    return actor_for(user, purpose)


def _setup_agencies(database: Any) -> dict[str, Any]:
    """Every synthetic agency and one officer each; agency code → Actor (with a purpose)."""
    unusable = hash_password(secrets.token_urlsafe(32))
    with database.session() as session:
        return {spec.code: bench_officer(session, spec, unusable, PURPOSE) for spec in AGENCIES}


def _database_url(backend: str, workdir: Path) -> tuple[str, Any]:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'entities.db'}", None
    from tests.support.postgres import start_cluster

    cluster = start_cluster()
    engine = create_engine(cluster.admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE DATABASE liaison_bench"))
    engine.dispose()
    return cluster.url("liaison_bench"), cluster


def run_backend(backend: str, world: World, workdir: Path) -> dict[str, Any]:
    """Ingest, cross-check, score and search the world on one backend."""
    url, cluster = _database_url(backend, workdir)
    database = None
    try:
        upgrade(url)
        database = Database(url)
        actors = _setup_agencies(database)

        # Ingestion, agency by agency, through the upload path.
        started = time.perf_counter()
        accepted = rejected = 0
        for code, path in sorted(world.files.items()):
            report = ingest_rows(
                database, actors[code], _rows(path), source_format="json", filename=path.name
            )
            accepted += report.batch.accepted
            rejected += report.batch.rejected
        ingest_s = time.perf_counter() - started

        # The cross-check, until nothing is pending.
        started = time.perf_counter()
        checked = passes = 0
        while True:
            checked += run_pending(database)
            passes += 1
            with database.session() as session:
                if not pending_count(session):
                    break
        crosscheck_s = time.perf_counter() - started

        with database.session() as session:
            ref_of = dict(
                session.execute(
                    select(Entity.id, Entity.source_ref).where(
                        Entity.entity_type == "Person", Entity.deleted.is_(False)
                    )
                ).all()
            )
            matches = session.execute(
                select(CrossMatch.left_id, CrossMatch.right_id, CrossMatch.band).where(
                    CrossMatch.status == "active", CrossMatch.entity_type == "Person"
                )
            ).all()
            conflicts = int(session.scalar(select(func.count()).select_from(IdentityConflict)))
            reasons = Counter(
                message.split(":")[0][:120]
                for (message,) in session.execute(
                    select(IngestRow.message).where(IngestRow.outcome == "rejected")
                )
            )
        result: dict[str, Any] = {
            "backend": backend,
            "records": world.records,
            "stored": accepted,
            "rejected": rejected,
            "rejection_reasons": dict(reasons.most_common(5)),
            "ingest": {
                "seconds": round(ingest_s, 2),
                "records_per_s": round(world.records / ingest_s, 1),
            },
            "crosscheck": {
                "seconds": round(crosscheck_s, 2),
                "checked": checked,
                "passes": passes,
                "records_per_s": round(checked / crosscheck_s, 1) if crosscheck_s else None,
            },
            "all_crossmatches_s": round(ingest_s + crosscheck_s, 2),
            "crossmatches": {
                "active": len(matches),
                "by_band": dict(Counter(band for _, _, band in matches)),
                "identity_conflicts": conflicts,
            },
        }
        result["quality"] = _quality(world, set(ref_of.values()), ref_of, matches)
        result["search"] = _search(database, actors["EU-HUB"], world.probes)
        result["peak_rss_mb"] = _peak_rss_mb()
        return result
    finally:
        if database is not None:
            database.dispose()
        if cluster is not None:
            cluster.stop()


def _quality(
    world: World,
    stored: set[str],
    ref_of: dict[str, str],
    matches: Sequence[Any],
) -> dict[str, Any]:
    truth = truth_pairs(world.truth, stored)
    predicted = {pair_key(ref_of[left], ref_of[right]): band for left, right, band in matches}
    everything = set(predicted)
    strong = {p for p, band in predicted.items() if band == "match"}

    def native(p: Pair) -> bool:  # one of the records carries a non-Latin name
        return world.truth[p[0]].native or world.truth[p[1]].native

    def non_latin_person(p: Pair) -> bool:  # a person whose name is not Latin at home
        return world.truth[p[0]].script != "latin" or world.truth[p[1]].script != "latin"

    out = {
        "all": quality(everything, truth),
        "match_band": quality(strong, truth),
        "cross_script": quality(
            {p for p in everything if native(p)}, {p for p in truth if native(p)}
        ),
        "non_latin_persons": quality(
            {p for p in everything if non_latin_person(p)},
            {p for p in truth if non_latin_person(p)},
        ),
    }
    by_script = {}
    for script in sorted({t.script for t in world.truth.values()}):
        subset = {p for p in truth if world.truth[p[0]].script == script}
        found = len(subset & everything)
        by_script[script] = {
            "truth": len(subset),
            "recall": round(found / len(subset), 4) if subset else None,
        }
    out["recall_by_script"] = by_script
    return out


def _search(database: Any, actor: Any, probes: Sequence[Probe]) -> dict[str, Any]:
    """Each probe through ``search`` in its own unit of work (the audit entry is committed)."""
    latencies: list[float] = []
    found = Counter[str]()
    asked = Counter[str]()
    hidden = 0
    for probe in probes:
        started = time.perf_counter()
        with database.session() as session:
            results = search(session, actor, probe.text)
            refs = [hit.entity.source_ref for hit in results.hits]
        latencies.append((time.perf_counter() - started) * 1000)
        hidden += results.hidden
        top = [ref for ref in refs if ref != probe.source][:TOP_K]
        hit = bool(probe.targets.intersection(top))
        for group in ("all", probe.form):
            asked[group] += 1
            found[group] += hit
    total = sum(latencies) / 1000
    return {
        "queries": len(probes),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "queries_per_s": round(len(probes) / total, 1) if total else None,
        f"recall_at_{TOP_K}": round(found["all"] / asked["all"], 4) if asked["all"] else None,
        f"recall_at_{TOP_K}_by_form": {
            form: {"queries": asked[form], "recall": round(found[form] / asked[form], 4)}
            for form in ("latin", "native")
            if asked[form]
        },
        "hidden_hits": hidden,
    }


# ── Running, printing, writing ───────────────────────────────────────────────────────────────


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def revision() -> str | None:
    """The checked-out commit (``+`` when the tree has changes), or None outside a checkout."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "src"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    except OSError:
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+" if dirty.stdout.strip() else "")


def _in_this_process(args: argparse.Namespace, backend: str) -> dict[str, Any]:
    code_revision = revision()  # the product code this process imported
    with tempfile.TemporaryDirectory(prefix="liaison-bench-", dir=args.workdir) as tmp:
        workdir = Path(tmp)
        world = build_world(args.persons, args.seed, args.queries, workdir)
        print(
            f"world: {args.persons:,} persons, {world.records:,} records in "
            f"{len(world.files)} agencies ({world.seconds:.1f} s)",
            flush=True,
        )
        try:
            result = run_backend(backend, world, workdir)
        except Exception as exc:
            traceback.print_exc()
            result = {"backend": backend, "error": f"{type(exc).__name__}: {exc}"[-2000:]}
        result["revision"] = code_revision
        result["world"] = {
            "records": world.records,
            "records_per_agency": dict(sorted(world.counts.items())),
            "classification_lowered": world.capped,
            "generation_s": round(world.seconds, 2),
        }
        return result


def _in_a_child(args: argparse.Namespace, backend: str, out: Path) -> dict[str, Any]:
    """Run one backend in its own interpreter, so its peak memory is its own."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.entities",
        "--backend",
        backend,
        "--persons",
        str(args.persons),
        "--queries",
        str(args.queries),
        "--seed",
        str(args.seed),
        "--out",
        str(out),
        *(["--workdir", args.workdir] if args.workdir else []),
    ]
    process = subprocess.run(command, cwd=ROOT, check=False)
    if process.returncode != 0 or not out.exists():
        return {"backend": backend, "error": f"exit status {process.returncode}"}
    return dict(json.loads(out.read_text(encoding="utf-8"))["backends"][backend])


def _row(label: str, results: Sequence[dict[str, Any]], path: str, fmt: str = "{}") -> str:
    cells = []
    for result in results:
        value: Any = result
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        cells.append("—" if value is None else fmt.format(value))
    return f"{label:38}" + "".join(f"{cell:>16}" for cell in cells)


def table(results: Sequence[dict[str, Any]]) -> str:
    lines = [f"{'':38}" + "".join(f"{r['backend']:>16}" for r in results)]
    for result in results:
        if "error" in result:
            lines.append(f"{result['backend']}: {result['error']}")
    ok = [r for r in results if "error" not in r]
    if not ok:
        return "\n".join(lines)
    k = f"recall_at_{TOP_K}"
    rows = [
        ("records stored / rejected", None, None),
        ("ingest records/s", "ingest.records_per_s", "{:,.0f}"),
        ("ingest s", "ingest.seconds", "{:,.1f}"),
        ("cross-check records/s", "crosscheck.records_per_s", "{:,.0f}"),
        ("cross-check s", "crosscheck.seconds", "{:,.1f}"),
        ("until all cross-matches exist s", "all_crossmatches_s", "{:,.1f}"),
        ("active cross-matches", "crossmatches.active", "{:,}"),
        ("precision (all bands)", "quality.all.precision", "{:.4f}"),
        ("recall (all bands)", "quality.all.recall", "{:.4f}"),
        ("F1 (all bands)", "quality.all.f1", "{:.4f}"),
        ("precision (match band)", "quality.match_band.precision", "{:.4f}"),
        ("recall (match band)", "quality.match_band.recall", "{:.4f}"),
        ("F1 (match band)", "quality.match_band.f1", "{:.4f}"),
        ("precision (cross-script)", "quality.cross_script.precision", "{:.4f}"),
        ("recall (cross-script)", "quality.cross_script.recall", "{:.4f}"),
        ("F1 (cross-script)", "quality.cross_script.f1", "{:.4f}"),
        ("search p50 ms", "search.p50_ms", "{:.1f}"),
        ("search p95 ms", "search.p95_ms", "{:.1f}"),
        ("search p99 ms", "search.p99_ms", "{:.1f}"),
        ("search queries/s", "search.queries_per_s", "{:,.1f}"),
        (f"search recall@{TOP_K}", f"search.{k}", "{:.4f}"),
        ("peak RSS MB", "peak_rss_mb", "{:,.0f}"),
    ]
    for label, path, fmt in rows:
        if path is None:
            cells = "".join(f"{r['stored']:,} / {r['rejected']:,}".rjust(16) for r in ok)
            lines.append(f"{label:38}{cells}")
        else:
            lines.append(_row(label, ok, path, fmt or "{}"))
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.entities", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--persons", type=int, default=DEFAULT_PERSONS)
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument("--queries", type=int, default=DEFAULT_QUERIES)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="JSON results file")
    parser.add_argument("--workdir", default=None, help="for the SQLite file and world files")
    args = parser.parse_args(argv)
    if args.persons < 1:
        parser.error("--persons must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    # Settings refuse their default secrets only in production mode; nothing here is one.
    os.environ.setdefault("LIAISON_MODE", "test")
    backends = list(BACKENDS) if args.backend == "both" else [args.backend]
    out = Path(args.out)
    results: list[dict[str, Any]] = []
    if len(backends) == 1:
        results.append(_in_this_process(args, backends[0]))
    else:
        with tempfile.TemporaryDirectory(prefix="liaison-bench-out-") as tmp:
            for backend in backends:
                print(f"── {backend}", flush=True)
                results.append(_in_a_child(args, backend, Path(tmp) / f"{backend}.json"))
    world = next((r["world"] for r in results if "world" in r), {})
    document = {
        "benchmark": "entities",
        "command": "python -m benchmarks.entities "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine(),
        "persons": args.persons,
        "seed": args.seed,
        "records": world.get("records"),
        "queries": args.queries,
        "backends": {r["backend"]: r for r in results},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(results), flush=True)
    print(f"results written to {out}", flush=True)
    return document


if __name__ == "__main__":
    main()
