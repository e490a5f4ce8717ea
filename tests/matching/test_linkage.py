"""Index search, deduplication and linkage on real and synthetic data (quick smoke figures;
the full measurements live in benchmarks/)."""

from __future__ import annotations

import csv
from pathlib import Path

from liaison.matching.index import Index
from liaison.matching.linkage import dedupe, link
from liaison.matching.record import prepare
from liaison.matching.scoring import MatchModel
from liaison.synth import iter_world

FEBRL = Path("/work/shared/data/linkage")
SHARED = FEBRL if FEBRL.exists() else Path(__file__).parents[3] / "shared" / "data" / "linkage"


def load_febrl(name: str) -> list:
    with (SHARED / name).open() as f:
        rows = [
            {k.strip(): v.strip() for k, v in r.items()}
            for r in csv.DictReader(f, skipinitialspace=True)
        ]
    return [
        prepare(
            {
                "given_name": r["given_name"],
                "family_name": r["surname"],
                "street_number": r["street_number"],
                "street": r["address_1"],
                "address": r["address_2"],
                "suburb": r["suburb"],
                "postcode": r["postcode"],
                "state": r["state"],
                "dob": r["date_of_birth"],
                "national_id": r["soc_sec_id"],
            },
            r["rec_id"],
        )
        for r in rows
    ]


def test_febrl4_link_f1() -> None:
    left, right = load_febrl("febrl_dataset4a.csv"), load_febrl("febrl_dataset4b.csv")
    result = link(left, right)
    true_positive = sum(p.left.split("-")[1] == p.right.split("-")[1] for p in result.pairs)
    precision = true_positive / len(result.pairs)
    recall = true_positive / 5000
    assert 2 * precision * recall / (precision + recall) >= 0.99


def test_search_finds_cross_script_records_of_the_synthetic_world() -> None:
    units = list(iter_world(3000, seed=11))
    index = Index(MatchModel())
    by_person: dict[str, list[str]] = {}
    records = []
    for unit in units:
        for record in unit.records:
            raw = {k: v for k, v in record.items() if isinstance(v, str)}
            raw["vin"], raw["plate"] = record["vehicle_vin"], record["vehicle_plate"]
            records.append(prepare(raw, record["record_id"]))
            by_person.setdefault(unit.person.person_id, []).append(record["record_id"])
    index.add_all(records)
    found = total = 0
    for unit in units[:400]:
        native = f"{unit.person.name.given_native} {unit.person.name.family_native}"
        if unit.person.name.script == "latin":
            continue
        query = prepare({"full_name": native, "dob": unit.person.born.isoformat()}, "q")
        hits = {r.right for r in index.search(query)}
        total += 1
        found += bool(hits & set(by_person[unit.person.person_id]))
    assert total > 50
    assert found / total >= 0.9, f"found {found} of {total}"


def test_dedupe_clusters_cover_every_record() -> None:
    records = [
        prepare({"full_name": n, "dob": "1980-01-01"}, str(i))
        for i, n in enumerate(["Anna Nowak", "Anna Nowak", "Jan Kowalski", "Ян Ковальски"])
    ]
    result = dedupe(records, estimate=False)
    assert set(result.clusters) == {"0", "1", "2", "3"}
    assert result.clusters["0"] == result.clusters["1"]
    assert result.clusters["2"] == result.clusters["3"]  # one name in two scripts
    assert result.clusters["0"] != result.clusters["2"]
