"""The in-memory candidate index: blocking keys → record positions, with bounded candidate sets."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator

import numpy as np

from liaison.matching.record import Prepared, candidate_keys
from liaison.matching.scoring import PRESETS, MatchModel, MatchResult, Thresholds, default_model

# A key shared by more records than this tells nothing (a common name with a common year);
# it is skipped for candidates, the other keys of the record still find its matches.
MAX_POSTINGS = 2000
# Deduplication pairs up records within a key only when few records share it.
MAX_BLOCK = 50


class Index:
    """Prepared records by candidate key. ``search`` finds, scores and explains matches."""

    def __init__(
        self, model: MatchModel | None = None, *, max_postings: int = MAX_POSTINGS
    ) -> None:
        self.model = model or default_model()
        self.max_postings = max_postings
        self.records: list[Prepared] = []
        self.postings: defaultdict[str, list[int]] = defaultdict(list)
        self.positions: dict[str, int] = {}
        self.removed: set[int] = set()
        self._symbols: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self.records) - len(self.removed)

    def add(self, record: Prepared) -> None:
        """Add or replace a record (by its ref)."""
        if record.ref in self.positions:
            self.remove(record.ref)
        position = len(self.records)
        self.records.append(record)
        self.positions[record.ref] = position
        for key in candidate_keys(record):
            self.postings[key].append(position)
        self._symbols.update(record.symbols)

    def add_all(self, records: Iterable[Prepared]) -> None:
        for record in records:
            self.add(record)
        self.refresh_frequencies()

    def remove(self, ref: str) -> None:
        position = self.positions.pop(ref, None)
        if position is not None:
            self.removed.add(position)
            self._symbols.subtract(self.records[position].symbols)

    def refresh_frequencies(self) -> None:
        """Recompute name frequencies for the model from what the index holds."""
        total = sum(v for v in self._symbols.values() if v > 0)
        if total:
            self.model.token_frequency = {k: v / total for k, v in self._symbols.items() if v > 0}
            self.model.default_frequency = 1.0 / total

    def candidates(self, query: Prepared, *, limit: int = 5000) -> list[int]:
        """Positions sharing a selective key with the query, most shared keys first."""
        counts: Counter[int] = Counter()
        for key in candidate_keys(query, query=True):
            posting = self.postings.get(key)
            if posting and len(posting) <= self.max_postings:
                counts.update(posting)
        ranked = [p for p, _ in counts.most_common(limit) if p not in self.removed]
        return ranked

    def search(
        self,
        query: Prepared,
        *,
        thresholds: Thresholds = PRESETS["search"],
        limit: int = 20,
        include_possible: bool = True,
    ) -> list[MatchResult]:
        """Scored matches of ``query``, best first, down to the *possible* threshold."""
        floor = thresholds.possible if include_possible else thresholds.match
        results = []
        for position in self.candidates(query):
            candidate = self.records[position]
            if candidate.ref == query.ref and query.ref:
                continue
            result = self.model.score(query, candidate, thresholds)
            if result.probability >= floor:
                results.append(result)
        results.sort(key=lambda r: (-r.probability, r.right))
        return results[:limit]

    def sample_pairs(
        self, prefix: str, *, limit: int, seed: int = 1
    ) -> list[tuple[Prepared, Prepared]]:
        """Up to ``limit`` distinct pairs sharing a key starting with ``prefix`` (for training)."""
        import random

        rng = random.Random(seed)
        codes: set[tuple[int, int]] = set()
        keys = sorted(k for k in self.postings if k.startswith(prefix))
        rng.shuffle(keys)
        for key in keys:
            posting = self.postings[key]
            if len(posting) < 2 or len(posting) > self.max_postings:
                continue
            for a_index, i in enumerate(posting[:50]):
                for j in posting[a_index + 1 : 50]:
                    if i not in self.removed and j not in self.removed:
                        codes.add((min(i, j), max(i, j)))
            if len(codes) >= limit:
                break
        return [(self.records[i], self.records[j]) for i, j in sorted(codes)[:limit]]

    def pairs(self, *, max_block: int = MAX_BLOCK) -> Iterator[tuple[int, int]]:
        """Every candidate pair within the index once (i < j), for deduplication.

        A key shared by more than ``max_block`` records generates no pairs: its records still
        meet through their other keys, and the quadratic blow-up of a common key is avoided.
        Pairs are collected as integer codes in numpy and de-duplicated there, not in a set.
        """
        size = len(self.records)
        chunks: list[np.ndarray] = []
        for posting in self.postings.values():
            n = len(posting)
            if n < 2 or n > max_block:
                continue
            members = np.array(sorted(posting), dtype=np.int64)
            left, right = np.triu_indices(n, k=1)
            chunks.append(members[left] * size + members[right])
            if len(chunks) > 4096:
                chunks = [np.unique(np.concatenate(chunks))]
        if not chunks:
            return
        codes = np.unique(np.concatenate(chunks))
        removed = self.removed
        for code in codes.tolist():
            i, j = divmod(code, size)
            if i not in removed and j not in removed:
                yield i, j
