"""The in-memory candidate index: prepared records as columns, candidate keys as postings.

``search`` finds a query's candidates by its keys, scores them all at once and explains the
hits; ``search_many`` does the same for a batch of queries (screening); ``pair_arrays`` gives
every candidate pair inside the index once (deduplication).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import overload

import numpy as np
from numpy.typing import NDArray

from liaison.matching.batch import explained, results, score_pairs
from liaison.matching.columns import Columns, Vocabulary
from liaison.matching.estimate import sample
from liaison.matching.keys import candidate_keys
from liaison.matching.parallel import default_workers
from liaison.matching.postings import KIND_CODES, Postings, key_hash, within_pairs
from liaison.matching.record import Prepared
from liaison.matching.scoring import (
    MIN_RECORDS_FOR_TF,
    PRESETS,
    Frequencies,
    MatchModel,
    MatchResult,
    Thresholds,
    default_model,
)

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

# A key shared by more records than this tells nothing (a common name with a common year);
# it is skipped for candidates, the other keys of the record still find its matches.
MAX_POSTINGS = 2000
# Deduplication pairs up records within a key only when few records share it.
MAX_BLOCK = 150
# Training pairs come from smaller blocks: large ones are mostly strangers.
TRAINING_BLOCK = 50
# A query scores at most this many candidates, those sharing the most keys first.
MAX_CANDIDATES = 2000
# A batch search scores at most about this many pairs at once (bounded arrays, warm caches).
PAIRS_PER_CALL = 100_000


class _SymbolCounts(Mapping[str, int]):
    """Name-symbol counts by text, over the index's counts by part number."""

    def __init__(self, vocabulary: Vocabulary, counts: NDArray[np.int64]) -> None:
        self.vocabulary = vocabulary
        self.counts = counts

    def __getitem__(self, symbol: str) -> int:
        number = self.vocabulary.index.get(symbol)
        if number is None or number >= len(self.counts):
            raise KeyError(symbol)
        return int(self.counts[number])

    def __iter__(self) -> Iterator[str]:
        return (t for t, c in zip(self.vocabulary.tokens, self.counts, strict=False) if c)

    def __len__(self) -> int:
        return int(np.count_nonzero(self.counts))


class RecordView(Sequence[Prepared]):
    """The index's records by row, rebuilt from the columns on access."""

    def __init__(self, columns: Columns) -> None:
        self.columns = columns

    def __len__(self) -> int:
        return self.columns.size

    @overload
    def __getitem__(self, row: int) -> Prepared: ...

    @overload
    def __getitem__(self, row: slice) -> Sequence[Prepared]: ...

    def __getitem__(self, row: int | slice) -> Prepared | Sequence[Prepared]:
        if isinstance(row, slice):
            return [self.columns.prepared(i) for i in range(*row.indices(self.columns.size))]
        if not -self.columns.size <= row < self.columns.size:
            raise IndexError(row)
        return self.columns.prepared(row % self.columns.size)


class Index:
    """Prepared records by candidate key; ``search`` finds, scores and explains matches."""

    def __init__(
        self,
        model: MatchModel | None = None,
        *,
        max_postings: int = MAX_POSTINGS,
        vocabulary: Vocabulary | None = None,
    ) -> None:
        self.model = model or default_model()
        self.max_postings = max_postings
        self.columns = Columns(vocabulary)
        self.postings = Postings()
        self.positions: dict[str, int] = {}
        self._removed = np.zeros(0, dtype=bool)
        self._symbol_counts = np.zeros(0, dtype=np.int64)
        self._log2p: tuple[int, int, F64 | None] | None = None
        self._version = 0

    # ── contents ───────────────────────────────────────────────────────────────────────────

    def __len__(self) -> int:
        return len(self.positions)

    def __contains__(self, ref: object) -> bool:
        return ref in self.positions

    @property
    def vocabulary(self) -> Vocabulary:
        return self.columns.vocabulary

    @property
    def records(self) -> RecordView:
        """Every row ever added (removed ones included), as prepared records."""
        return RecordView(self.columns)

    @property
    def removed(self) -> NDArray[np.bool_]:
        if len(self._removed) < self.columns.size:
            self._removed = np.concatenate(
                [self._removed, np.zeros(self.columns.size - len(self._removed), dtype=bool)]
            )
        return self._removed

    def get(self, ref: str) -> Prepared | None:
        row = self.positions.get(ref)
        return None if row is None else self.columns.prepared(row)

    def add(self, record: Prepared) -> None:
        """Add or replace a record (by its ref)."""
        if record.ref in self.positions:
            self.remove(record.ref)
        row = self.columns.append(record)
        self.positions[record.ref] = row
        self.postings.add(row, candidate_keys(record))
        self._count_symbols(np.array([row], dtype=np.int64), 1)

    def add_all(self, records: Iterable[Prepared]) -> None:
        """Add many records at once (much faster than ``add`` one by one)."""
        batch = list(records)
        replaced = [r.ref for r in batch if r.ref in self.positions]
        for ref in replaced:
            self.remove(ref)
        if len({r.ref for r in batch}) != len(batch):
            # A ref given twice: the last one stands, as with repeated ``add``.
            last = {r.ref: i for i, r in enumerate(batch)}
            batch = [r for i, r in enumerate(batch) if last[r.ref] == i]
        first = self.columns.size
        self.columns.extend(batch)
        hashes: list[int] = []
        kinds: list[int] = []
        rows: list[int] = []
        for row, record in enumerate(batch, start=first):
            self.positions[record.ref] = row
            for key in candidate_keys(record):
                hashes.append(key_hash(key))
                kinds.append(KIND_CODES[key[:2]])
                rows.append(row)
        self.postings.add_arrays(
            np.array(hashes, dtype=np.int64),
            np.array(kinds, dtype=np.int8),
            np.array(rows, dtype=np.int64),
        )
        self._count_symbols(np.arange(first, self.columns.size, dtype=np.int64), 1)

    def remove(self, ref: str) -> None:
        """Remove a record; its row stays as a tombstone, never returned again."""
        row = self.positions.pop(ref, None)
        if row is not None:
            self.removed[row] = True
            self._count_symbols(np.array([row], dtype=np.int64), -1)

    # ── name frequencies ───────────────────────────────────────────────────────────────────

    def _count_symbols(self, rows: I64, sign: int) -> None:
        size = len(self.vocabulary)
        if len(self._symbol_counts) < size:
            grown = np.zeros(max(size, 2 * len(self._symbol_counts)), dtype=np.int64)
            grown[: len(self._symbol_counts)] = self._symbol_counts
            self._symbol_counts = grown
        if len(rows) == 0:
            return
        self._version += 1
        if len(rows) == 1:
            # One record: its distinct symbols, without touching the whole vocabulary.
            names = self.columns.names[int(rows[0])].ravel().tolist()
            symbols = {self.vocabulary.symbol_of(t) for t in names if t >= 0}
            for symbol in symbols:
                self._symbol_counts[symbol] += sign
            return
        table = self.vocabulary.table()
        names = self.columns.names[rows].reshape(len(rows), -1)
        valid = names >= 0
        symbols_array = table.symbol[np.maximum(names, 0)].astype(np.int64)
        owner = np.repeat(rows, names.shape[1]).reshape(names.shape)
        codes = np.unique(owner[valid] * (size + 1) + symbols_array[valid])
        np.add.at(self._symbol_counts, codes % (size + 1), sign)

    def refresh_frequencies(self) -> None:
        """Name frequencies follow the index's contents on their own; kept for callers."""

    def frequencies(self) -> Frequencies:
        """How many of the indexed records hold each name symbol."""
        return Frequencies(_SymbolCounts(self.vocabulary, self._symbol_counts), len(self))

    def log2p(self) -> F64 | None:
        """log2 frequency of each name symbol by part number, or None below the minimum size."""
        size = len(self.vocabulary)
        if self._log2p is not None and self._log2p[:2] == (self._version, size):
            return self._log2p[2]
        value: F64 | None = None
        if len(self) >= MIN_RECORDS_FOR_TF:
            counts = np.zeros(size, dtype=np.float64)
            known = min(size, len(self._symbol_counts))
            counts[:known] = self._symbol_counts[:known]
            value = np.log2(np.maximum(counts, 1.0) / len(self))
        self._log2p = (self._version, size, value)
        return value

    # ── candidates and search ──────────────────────────────────────────────────────────────

    def candidates(self, query: Prepared, *, limit: int = MAX_CANDIDATES) -> I64:
        """Rows sharing a selective key with the query, in row order; at most ``limit``, those
        sharing the most keys when there are more."""
        return self.candidates_many([query], limit=limit)[0]

    def candidates_many(
        self, queries: Sequence[Prepared], *, limit: int = MAX_CANDIDATES
    ) -> list[I64]:
        """``candidates`` of each query, found for all of them at once."""
        owners: list[int] = []
        hashes: list[int] = []
        for number, query in enumerate(queries):
            for key in candidate_keys(query, query=True):
                owners.append(number)
                hashes.append(key_hash(key))
        owner, row = self.postings.lookup_many(
            np.array(owners, dtype=np.int64),
            np.array(hashes, dtype=np.int64),
            max_postings=self.max_postings,
        )
        size = max(self.columns.size, 1)
        codes, counts = np.unique(owner * size + row, return_counts=True)
        owner, row = np.divmod(codes, size)
        keep = ~self.removed[row]
        # A stored record is not its own candidate.
        own = np.array([self.positions.get(q.ref, -1) for q in queries], dtype=np.int64)
        keep &= row != own[owner]
        owner, row, counts = owner[keep], row[keep], counts[keep]
        # At most ``limit`` per query: where there are more, those sharing the most keys (ties:
        # the lower rows). Only those queries' candidates are ranked.
        starts = np.searchsorted(owner, np.arange(len(queries) + 1))
        crowded = (np.diff(starts) > limit)[owner]
        if crowded.any():
            entries = np.flatnonzero(crowded)
            entries = entries[np.lexsort((row[entries], -counts[entries], owner[entries]))]
            ranked = owner[entries]
            rank = np.arange(len(entries)) - np.searchsorted(ranked, ranked)
            keep = ~crowded
            keep[entries[rank < limit]] = True
            owner, row = owner[keep], row[keep]
            starts = np.searchsorted(owner, np.arange(len(queries) + 1))
        return [row[starts[q] : starts[q + 1]] for q in range(len(queries))]

    def _query_columns(self, queries: Sequence[Prepared]) -> Columns:
        columns = Columns(self.vocabulary, capacity=len(queries))
        columns.extend(queries)
        return columns

    def search(
        self,
        query: Prepared,
        *,
        thresholds: Thresholds = PRESETS["search"],
        limit: int = 20,
        threshold: float | None = None,
        include_possible: bool = True,
    ) -> list[MatchResult]:
        """Scored matches of ``query``, best first, down to the *possible* threshold (or
        ``threshold``), each with its explanation."""
        return self.search_many(
            [query],
            thresholds=thresholds,
            limit=limit,
            threshold=threshold,
            include_possible=include_possible,
        )[0]

    def search_many(
        self,
        queries: Sequence[Prepared],
        *,
        thresholds: Thresholds = PRESETS["search"],
        limit: int = 20,
        threshold: float | None = None,
        include_possible: bool = True,
        explain: bool = True,
        accept: Callable[[int, str], bool] | None = None,
        workers: int | None = None,
    ) -> list[list[MatchResult]]:
        """``search`` for a batch of queries (screening): one vectorised scoring for all.

        ``accept(query number, ref)`` leaves out the hits it refuses before the ``limit``
        counts them and before they are explained (the caller's own records, say).

        The candidates are scored in groups of at most ``PAIRS_PER_CALL`` pairs, on up to
        ``workers`` threads (default: one per core) when there are several groups: the array
        work of one group runs while another's is assembled. The index must not change during
        the call (callers that update it concurrently hold their lock around both)."""
        floor = (
            threshold
            if threshold is not None
            else thresholds.possible
            if include_possible
            else thresholds.match
        )
        candidate_rows = self.candidates_many(queries)
        # Scored in groups of a bounded number of pairs: arrays that stay in the caches.
        bounds: list[tuple[int, int]] = []
        start = total = 0
        for end, rows in enumerate(candidate_rows):
            if total and total + len(rows) > PAIRS_PER_CALL:
                bounds.append((start, end))
                start, total = end, 0
            total += len(rows)
        bounds.append((start, len(queries)))
        # What the groups share is made here, before any thread starts: the queries' columns
        # add their name parts to the vocabulary, and the name frequencies are cached.
        columns = [self._query_columns(queries[a:b]) for a, b in bounds]
        self.log2p()

        def group(k: int) -> list[list[MatchResult]]:
            a, b = bounds[k]
            return self._search_group(
                queries, candidate_rows, a, b, columns[k], thresholds, limit, floor, explain, accept
            )

        threads = min(default_workers() if workers is None else workers, len(bounds))
        if threads <= 1:
            parts = [group(k) for k in range(len(bounds))]
        else:
            with ThreadPoolExecutor(threads) as pool:
                parts = list(pool.map(group, range(len(bounds))))
        return [hits for part in parts for hits in part]

    def _search_group(
        self,
        all_queries: Sequence[Prepared],
        all_rows: Sequence[I64],
        start: int,
        end: int,
        query_columns: Columns,
        thresholds: Thresholds,
        limit: int,
        floor: float,
        explain: bool,
        accept: Callable[[int, str], bool] | None,
    ) -> list[list[MatchResult]]:
        """``search_many`` of queries ``start:end`` given their candidate rows."""
        queries = all_queries[start:end]
        candidate_rows = all_rows[start:end]
        counts = [len(rows) for rows in candidate_rows]
        out: list[list[MatchResult]] = [[] for _ in queries]
        if not sum(counts):
            return out
        left = np.repeat(np.arange(len(queries), dtype=np.int64), counts)
        right = np.concatenate(candidate_rows)
        population = max(len(self), 1)
        scores = score_pairs(
            self.model,
            query_columns,
            left,
            self.columns,
            right,
            population=population,
            log2p=self.log2p(),
            # Pairs that cannot reach the floor whatever their names are not compared by name.
            floor_bits=math.log2(floor / (1.0 - floor)) - 1e-6 if 0.0 < floor < 1.0 else None,
        )
        probability = scores.probability
        kept = np.flatnonzero(probability >= floor)
        for k in kept[np.lexsort((right[kept], -probability[kept], left[kept]))].tolist():
            q = int(left[k])
            if len(out[q]) >= limit:
                continue
            row = int(right[k])
            if accept is not None and not accept(start + q, self.columns.ref(row)):
                continue
            if explain:
                result = explained(
                    self.model,
                    scores,
                    k,
                    queries[q],
                    self.columns.prepared(row),
                    thresholds,
                    float(probability[k]),
                )
            else:
                p = float(probability[k])
                result = MatchResult(
                    queries[q].ref,
                    self.columns.ref(row),
                    p,
                    float(scores.bits[k]),
                    thresholds.band(p),
                    (),
                )
            out[q].append(result)
        for hits in out:
            hits.sort(key=lambda r: (-r.probability, r.right))
        return out

    def score_refs(
        self, pairs: Sequence[tuple[str, str]], thresholds: Thresholds = PRESETS["search"]
    ) -> list[MatchResult | None]:
        """Pairs of indexed records scored at once, each with the level and weight of every
        feature (None where a ref is not in the index); the bits are those of
        ``MatchModel.score`` with the index's frequencies."""
        found = [(self.positions.get(a), self.positions.get(b)) for a, b in pairs]
        known = [k for k, (a, b) in enumerate(found) if a is not None and b is not None]
        out: list[MatchResult | None] = [None] * len(pairs)
        if not known:
            return out
        left = np.array([found[k][0] for k in known], dtype=np.int64)
        right = np.array([found[k][1] for k in known], dtype=np.int64)
        scores = score_pairs(
            self.model,
            self.columns,
            left,
            self.columns,
            right,
            population=max(len(self), 1),
            log2p=self.log2p(),
        )
        everything = np.arange(len(known), dtype=np.int64)
        for k, result in zip(
            known,
            results(self.model, scores, everything, self.columns, self.columns, thresholds),
            strict=True,
        ):
            out[k] = result
        return out

    # ── pairs for deduplication and training ───────────────────────────────────────────────

    def pair_arrays(
        self, *, max_block: int = MAX_BLOCK, kinds: Iterable[str] | None = None
    ) -> tuple[I64, I64]:
        """Every candidate pair within the index once (left row < right row); see
        ``postings.within_pairs``."""
        selected = tuple(kinds) if kinds is not None else tuple(KIND_CODES)
        left, right = within_pairs(
            self.postings, self.columns.size, max_block=max_block, kinds=selected
        )
        removed = self.removed
        alive = ~removed[left] & ~removed[right]
        return left[alive], right[alive]

    def pairs(self, *, max_block: int = MAX_BLOCK) -> Iterator[tuple[int, int]]:
        """``pair_arrays`` as (row, row) tuples."""
        left, right = self.pair_arrays(max_block=max_block)
        yield from zip(left.tolist(), right.tolist(), strict=True)

    def sample_pairs(self, kind: str, *, limit: int, seed: int = 1) -> tuple[I64, I64]:
        """Up to ``limit`` distinct pairs sharing a key of ``kind`` (for training), sampled."""
        left, right = self.pair_arrays(kinds=(kind.rstrip(":"),), max_block=TRAINING_BLOCK)
        return sample(left, right, limit, seed)
