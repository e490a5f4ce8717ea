"""Candidates of the in-memory index, checked against a plain reading of the keys."""

from __future__ import annotations

from collections import Counter

import pytest

from liaison.matching import index as index_module
from liaison.matching.index import Index
from liaison.matching.keys import candidate_keys
from liaison.matching.record import Prepared, prepare
from liaison.matching.scoring import default_model
from liaison.synth import iter_world


def _records() -> tuple[list[Prepared], list[Prepared]]:
    stored, queries = [], []
    for n, unit in enumerate(iter_world(1200, seed=41)):
        for record in unit.records:
            raw = {k: v for k, v in record.items() if isinstance(v, str)}
            stored.append(prepare(raw, record["record_id"]))
        name = unit.person.name
        queries.append(
            prepare(
                {
                    "full_name": f"{name.given_native} {name.family_native}",
                    "dob": unit.person.born.isoformat(),
                },
                f"q{n}",
            )
        )
    return stored, queries


def _posted(stored: list[Prepared]) -> dict[str, list[int]]:
    posted: dict[str, list[int]] = {}
    for row, record in enumerate(stored):
        for key in candidate_keys(record):
            posted.setdefault(key, []).append(row)
    return posted


def _expected(index: Index, posted: dict[str, list[int]], query: Prepared, limit: int) -> list[int]:
    """Rows sharing keys posted by at most ``max_postings`` rows: the ``limit`` sharing the
    most (ties: lower rows), in row order."""
    shared: Counter[int] = Counter()
    for key in candidate_keys(query, query=True):
        rows = posted.get(key, [])
        if 0 < len(rows) <= index.max_postings:
            shared.update(rows)
    own = index.positions.get(query.ref)
    alive = [(row, n) for row, n in shared.items() if not index.removed[row] and row != own]
    return sorted(row for row, _ in sorted(alive, key=lambda item: (-item[1], item[0]))[:limit])


@pytest.mark.parametrize("recent", [False, True])
def test_candidates_are_the_rows_sharing_selective_keys(recent: bool) -> None:
    stored, queries = _records()
    index = Index(default_model(), max_postings=30)
    if recent:  # one by one: the postings stay partly in the recent dictionary
        index.add_all(stored[:1000])
        for record in stored[1000:]:
            index.add(record)
        assert index.postings.recent
    else:
        index.add_all(stored)
    index.remove(stored[5].ref)
    probes = [*queries[:300], stored[7], stored[5]]  # stored records too: not their own
    found = index.candidates_many(probes, limit=25)
    assert sum(len(rows) for rows in found) > 500
    posted = _posted(stored)
    for query, rows in zip(probes, found, strict=True):
        assert rows.tolist() == _expected(index, posted, query, 25)
        assert index.candidates(query, limit=25).tolist() == rows.tolist()


def test_no_queries_and_empty_index() -> None:
    index = Index(default_model())
    assert index.candidates_many([]) == []
    query = prepare({"full_name": "Ana Lima", "dob": "1990-01-02"}, "q")
    assert index.candidates(query).tolist() == []
    assert index.search(query) == []


def test_accept_leaves_hits_out_before_the_limit_counts_them() -> None:
    stored, queries = _records()
    index = Index(default_model())
    index.add_all(stored)
    probes = queries[:200]
    plain = index.search_many(probes, limit=50)
    assert sum(len(h) for h in plain) > 100
    refused = {h.right for hits in plain for h in hits[:1]}  # each query's best hit
    filtered = index.search_many(probes, limit=1, accept=lambda q, ref: ref not in refused)
    for all_hits, kept in zip(plain, filtered, strict=True):
        allowed = [h.right for h in all_hits if h.right not in refused]
        # The refused best hit does not use up the single place: the next one takes it.
        assert [h.right for h in kept] == allowed[:1]


def test_score_refs_gives_the_bits_of_the_pure_model() -> None:
    stored, _ = _records()
    index = Index(default_model())
    index.add_all(stored)
    left, right = index.pair_arrays()
    refs = [(stored[a].ref, stored[b].ref) for a, b in zip(left[:400], right[:400], strict=True)]
    scored = index.score_refs([*refs, ("nobody", stored[0].ref)])
    assert scored[-1] is None
    frequencies = index.frequencies()
    for (a, b), result in zip(refs, scored, strict=False):
        assert result is not None
        pure = index.model.score(
            index.get(a), index.get(b), population=len(index), frequencies=frequencies
        )
        assert result.bits == pytest.approx(pure.bits, abs=1e-6)
        assert result.band == pure.band
        assert [(c.feature, c.level) for c in result.contributions] == [
            (c.feature, c.level) for c in pure.contributions
        ]


@pytest.mark.parametrize("workers", [1, 3])
def test_search_in_bounded_groups_finds_what_one_group_finds(
    monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    stored, queries = _records()
    index = Index(default_model())
    index.add_all(stored)
    probes = queries[:150]
    refused = {h.right for hits in index.search_many(probes[::7]) for h in hits[:1]}

    def accept(q: int, ref: str) -> bool:
        return not (q % 2 and ref in refused)  # depends on the query's number in the batch

    def run(workers: int) -> list[list[tuple[str, float, str]]]:
        found = index.search_many(probes, accept=accept, workers=workers)
        return [
            [(h.right, round(h.probability, 9), h.explanation()) for h in hits] for hits in found
        ]

    whole = run(1)
    monkeypatch.setattr(index_module, "PAIRS_PER_CALL", 40)  # many small groups
    assert run(workers) == whole  # on several threads when workers > 1
    assert sum(len(hits) for hits in whole) > 100
