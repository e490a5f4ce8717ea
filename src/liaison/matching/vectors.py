"""The comparison features for many pairs at once, on ``Columns``: numpy and rapidfuzz's batch
scorers instead of a Python call per pair.

Every kernel returns, per pair, the index of the level in ``features.LEVELS`` (-1 when a side
lacks the field) and must agree with the pure function of the same feature in ``features``:
the tests compare the two on thousands of pairs. Work that does not depend on the pair (token
properties, hashes) was done when the row was written.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein
from rapidfuzz.process import cpdist

from liaison.matching.columns import IDENTIFIER_KINDS, Columns, TokenTable
from liaison.matching.features import (
    ABJAD,
    ADDRESS_DETAIL,
    ADDRESS_TYPOS,
    AGREE,
    EQUIVALENT,
    INITIAL,
    PLACE_CLOSE,
    PLACE_EXACT,
    SKELETON,
    covered,
)
from liaison.matching.identifiers import EMAIL_TYPO_EDITS, email_typo, mailbox
from liaison.matching.record import MAX_ALTERNATIVES

Levels = NDArray[np.int8]
Pairs = NDArray[np.int64]
F64 = NDArray[np.float64]
_KIND = {kind: k for k, kind in enumerate(IDENTIFIER_KINDS)}


def _jw(left: NDArray[np.object_], right: NDArray[np.object_]) -> F64:
    if len(left) == 0:
        return np.zeros(0)
    scores = cpdist(list(left), list(right), scorer=JaroWinkler.normalized_similarity)
    return np.asarray(scores, dtype=np.float32).astype(np.float64)


def _select(n: int, conditions: list[NDArray[np.bool_]], missing: NDArray[np.bool_]) -> Levels:
    """Level = index of the first true condition; the last level when none holds."""
    levels = np.full(n, len(conditions), dtype=np.int8)
    for index in range(len(conditions) - 1, -1, -1):
        levels[conditions[index]] = index
    levels[missing] = -1
    return levels


# ── names ──────────────────────────────────────────────────────────────────────────────────


def _token_scores(tx: NDArray[np.int32], ty: NDArray[np.int32], table: TokenTable) -> F64:
    """token_similarity for arrays of part numbers (the same rules, in the same order)."""
    scores = np.zeros(len(tx))
    equal = tx == ty
    scores[equal] = 1.0
    same_symbol = ~equal & (table.symbol[tx] == table.symbol[ty])
    scores[same_symbol] = EQUIVALENT
    rest = ~equal & ~same_symbol
    lx, ly = table.length[tx], table.length[ty]
    initial = rest & ((lx == 1) | (ly == 1))
    scores[initial] = np.where(table.first[tx[initial]] == table.first[ty[initial]], INITIAL, 0.0)
    fuzzy = np.flatnonzero(rest & ~initial)
    if len(fuzzy) == 0:
        return scores
    fx, fy = tx[fuzzy], ty[fuzzy]
    # Each distinct pair of parts once: common names meet many times in a batch.
    codes = fx.astype(np.int64) * (len(table.symbol) + 1) + fy
    unique, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    ux, uy = fx[first], fy[first]
    values = _jw(table.strings[ux], table.strings[uy])
    shortest = np.minimum(table.length[ux], table.length[uy])
    skeleton = (
        (values < SKELETON)
        & (shortest >= 4)
        & (table.skeleton[ux] >= 0)
        & (table.skeleton[ux] == table.skeleton[uy])
    )
    values[skeleton] = SKELETON
    abjad = np.flatnonzero(
        (values < ABJAD) & (shortest >= 3) & (table.vowelless[ux] | table.vowelless[uy])
    )
    if len(abjad):
        values[abjad] = np.maximum(values[abjad], ABJAD * _abjad(ux[abjad], uy[abjad], table))
    # One consonant key (features.abjad_agree).
    kx, ky = table.abjad[ux], table.abjad[uy]
    bx, by = table.abjad_bare[ux], table.abjad_bare[uy]
    keyed = (
        (values < ABJAD)
        & (table.vowelless[ux] | table.vowelless[uy])
        & (((kx >= 0) & (kx == ky)) | ((bx >= 0) & (bx == ky)) | ((kx >= 0) & (kx == by)))
    )
    values[keyed] = ABJAD
    del unique
    scores[fuzzy] = values[inverse.reshape(-1)]
    return scores


def _abjad(tx: NDArray[np.int32], ty: NDArray[np.int32], table: TokenTable) -> F64:
    """features.abjad_similarity for arrays: consonants compared, a leading article l dropped
    from one side when only that side has it."""
    cx, cy = table.consonants[tx], table.consonants[ty]
    best = np.where(
        (table.consonant_length[tx] > 0) & (table.consonant_length[ty] > 0), _jw(cx, cy), 0.0
    )
    lx, ly = table.article[tx], table.article[ty]
    for mask, left, right in (
        (lx & ~ly & (table.consonant_length[tx] > 1) & (table.consonant_length[ty] > 0), 1, 0),
        (ly & ~lx & (table.consonant_length[ty] > 1) & (table.consonant_length[tx] > 0), 0, 1),
    ):
        rows = np.flatnonzero(mask)
        if len(rows):
            x = table.consonants[tx[rows]] if left == 0 else table.without_article[tx[rows]]
            y = table.consonants[ty[rows]] if right == 0 else table.without_article[ty[rows]]
            best[rows] = np.maximum(best[rows], _jw(x, y))
    return best


def _joined_lengths(ids: NDArray[np.int32], table: TokenTable) -> NDArray[np.int64]:
    lengths = np.where(ids >= 0, table.length[np.maximum(ids, 0)], 0)
    return np.asarray(lengths.sum(axis=1), dtype=np.int64)


def _joined(ids: NDArray[np.int32], table: TokenTable) -> NDArray[np.object_]:
    out = np.empty(len(ids), dtype=object)
    strings = table.strings
    out[:] = ["".join(strings[t] for t in row if t >= 0) for row in ids.tolist()]
    return out


def _align_rows(
    x: NDArray[np.int32], y: NDArray[np.int32], table: TokenTable
) -> tuple[Levels, F64, NDArray[np.int32]]:
    """``features.align`` for rows of part numbers: level index, rank, agreeing symbols."""
    rows = len(x)
    nx, ny = (x >= 0).sum(axis=1), (y >= 0).sum(axis=1)
    exact = (nx == ny) & np.all(np.sort(x, axis=1) == np.sort(y, axis=1), axis=1)
    swap = nx > ny
    x, y = np.where(swap[:, None], y, x), np.where(swap[:, None], x, y)
    n, m = np.minimum(nx, ny), np.maximum(nx, ny)
    kx, ky = max(int(n.max(initial=1)), 1), max(int(m.max(initial=1)), 1)
    x, y = x[:, :kx], y[:, :ky]
    valid = (x >= 0)[:, :, None] & (y >= 0)[:, None, :]
    scores = np.full((rows, kx, ky), -1.0)
    where = np.nonzero(valid)
    scores[where] = _token_scores(x[where[0], where[1]], y[where[0], where[2]], table)
    flat = scores.reshape(rows, kx * ky)
    total = np.zeros(rows)
    lowest = np.ones(rows)
    matched = np.zeros(rows, dtype=np.int64)
    initials = np.zeros(rows, dtype=np.int64)
    symbols = np.full((rows, kx), -1, dtype=np.int32)
    everything = np.arange(rows)
    for step in range(kx):
        active = np.flatnonzero(step < n)
        if len(active) == 0:
            break
        best = np.argmax(flat[active], axis=1)
        value = flat[active, best]
        i, j = best // ky, best % ky
        total[active] += value
        lowest[active] = np.minimum(lowest[active], value)
        agree = value >= AGREE
        matched[active] += agree
        initials[active] += value == INITIAL
        symbols[active[agree], step] = table.symbol[x[active[agree], i[agree]]]
        scores[active, i, :] = -2.0
        scores[active, :, j] = -2.0
    del everything
    mean = total / np.maximum(n, 1)
    rank = mean - 0.05 * (m - n)
    levels = np.select(
        [
            exact,
            (matched == n) & (n == m) & (lowest >= EQUIVALENT),
            (matched == n) & (n == m),
            (matched == n) & (n >= 2),
            (matched >= 1) & (matched + initials == n) & (n >= 2),
            matched >= 1,
            rank >= 0.8,
        ],
        [0, 1, 2, 3, 4, 5, 6],
        7,
    ).astype(np.int8)
    rank = np.where(exact, 1.0, rank)
    symbols[exact] = -1
    symbols[exact, : x.shape[1]] = np.where(
        x[exact] >= 0, table.symbol[np.maximum(x[exact], 0)], -1
    )
    # Split differently (Xiao Ming / Xiaoming): compare the joined parts when counts differ.
    lx, ly = _joined_lengths(x, table), _joined_lengths(y, table)
    candidates = np.flatnonzero(
        ~exact & (n != m) & (np.minimum(lx, ly) >= 0.74 * np.maximum(lx, ly))
    )
    if len(candidates):
        joined = _jw(_joined(x[candidates], table), _joined(y[candidates], table))
        wins = (joined >= ABJAD) & (joined > mean[candidates])
        winners = candidates[wins]
        levels[winners] = np.where(joined[wins] >= EQUIVALENT, 1, 2)
        rank[winners] = joined[wins]
        # The whole name agrees: every part of the shorter spelling counts (features.align).
        symbols[winners] = -1
        symbols[winners, : x.shape[1]] = np.where(
            x[winners] >= 0, table.symbol[np.maximum(x[winners], 0)], -1
        )
    return levels, rank, symbols


def name_levels(a: Columns, ia: Pairs, b: Columns, ib: Pairs) -> tuple[Levels, NDArray[np.int32]]:
    """Name level per pair (best over both sides' spellings) and the agreeing symbols."""
    table = a.vocabulary.table()
    if b.vocabulary is not a.vocabulary:
        raise ValueError("columns compared must share one vocabulary")
    pairs = len(ia)
    count_a, count_b = a.name_count[ia], b.name_count[ib]
    parts: list[tuple[NDArray[np.int64], int, int]] = []
    for p in range(MAX_ALTERNATIVES):
        for q in range(MAX_ALTERNATIVES):
            rows = np.flatnonzero((count_a[:, p] > 0) & (count_b[:, q] > 0))
            if len(rows):
                parts.append((rows, p, q))
    levels = np.full(pairs, -1, dtype=np.int8)
    symbols = np.full((pairs, a.names.shape[2]), -1, dtype=np.int32)
    if not parts:
        return levels, symbols
    pair = np.concatenate([rows for rows, _, _ in parts])
    order = np.concatenate([np.full(len(rows), p * MAX_ALTERNATIVES + q) for rows, p, q in parts])
    x = np.concatenate([a.names[ia[rows], p] for rows, p, _ in parts])
    y = np.concatenate([b.names[ib[rows], q] for rows, _, q in parts])
    level, rank, agreeing = _align_rows(x, y, table)
    # Best spelling pair: lowest level, then highest rank, then the earlier spellings.
    chosen = np.lexsort((order, -rank, level, pair))
    first = np.ones(len(chosen), dtype=bool)
    first[1:] = pair[chosen][1:] != pair[chosen][:-1]
    best = chosen[first]
    levels[pair[best]] = level[best]
    symbols[pair[best], : agreeing.shape[1]] = agreeing[best]
    return levels, symbols


# ── dates, codes, places ───────────────────────────────────────────────────────────────────


def _digits(year: NDArray[np.int32], month: NDArray[np.int32], day: NDArray[np.int32]) -> Levels:
    """The eight digits YYYYMMDD of each date, one column each."""
    return np.stack(
        [
            *(year // 1000 % 10, year // 100 % 10, year // 10 % 10, year % 10),
            *(month // 10, month % 10, day // 10, day % 10),
        ],
        axis=1,
    ).astype(np.int8)


def _one_digit_apart(x: Levels, y: Levels) -> NDArray[np.bool_]:
    """features.one_digit_apart for rows of digits: one digit differs, or two neighbours are
    swapped."""
    differ = x != y
    count = differ.sum(axis=1)
    swapped = np.zeros(len(x), dtype=bool)
    for i in range(x.shape[1] - 1):
        swapped |= (
            differ[:, i] & differ[:, i + 1] & (x[:, i] == y[:, i + 1]) & (x[:, i + 1] == y[:, i])
        )
    return np.asarray((count == 1) | ((count == 2) & swapped))


def birth_date_levels(a: Columns, ia: Pairs, b: Columns, ib: Pairs) -> Levels:
    ya, ma, da = a.year[ia].astype(np.int32), a.month[ia].astype(np.int32), a.day[ia]
    yb, mb, db = b.year[ib].astype(np.int32), b.month[ib].astype(np.int32), b.day[ib]
    full = (da > 0) & (db > 0) & (ma > 0) & (mb > 0)
    same_year = ya == yb
    typo = full & _one_digit_apart(
        _digits(ya, ma, da.astype(np.int32)), _digits(yb, mb, db.astype(np.int32))
    )
    return _select(
        len(ia),
        [
            full & same_year & (ma == mb) & (da == db),
            full & same_year & (ma == db) & (da == mb),
            full & (ma == mb) & (da == db) & (np.abs(ya - yb) == 1),
            typo,
            ~full & same_year & ((ma == 0) | (mb == 0) | (ma == mb)),
            full & same_year & ((ma == mb) | (da == db)),
            (full & same_year) | (~full & (np.abs(ya - yb) <= 1)),
        ],
        (ya == 0) | (yb == 0),
    )


def _code_levels(x: NDArray[np.integer], y: NDArray[np.integer]) -> Levels:
    return _select(len(x), [x == y], (x == 0) | (y == 0))


def gender_levels(a: Columns, ia: Pairs, b: Columns, ib: Pairs) -> Levels:
    return _code_levels(a.gender[ia], b.gender[ib])


def nationality_levels(a: Columns, ia: Pairs, b: Columns, ib: Pairs) -> Levels:
    return _code_levels(a.nationality[ia], b.nationality[ib])


def birth_place_levels(a: Columns, ia: Pairs, b: Columns, ib: Pairs) -> Levels:
    ha, hb = a.place_hash[ia], b.place_hash[ib]
    missing = (ha == 0) | (hb == 0)
    score = np.where(ha == hb, 1.0, 0.0)
    other = np.flatnonzero(~missing & (ha != hb))
    score[other] = _jw(a.place[ia[other]], b.place[ib[other]])
    return _select(len(ia), [score >= PLACE_EXACT, score >= PLACE_CLOSE], missing)


# ── identifiers ────────────────────────────────────────────────────────────────────────────


def _identifier(kind: str, *, near: bool) -> Callable[[Columns, Pairs, Columns, Pairs], Levels]:
    k = _KIND[kind]

    def levels(a: Columns, ia: Pairs, b: Columns, ib: Pairs) -> Levels:
        ha, hb = a.ident_hash[ia, k], b.ident_hash[ib, k]
        missing = (ha == 0) | (hb == 0)
        exact = ha == hb
        if not near:
            return _select(len(ia), [exact], missing)
        close = np.zeros(len(ia), dtype=bool)
        other = np.flatnonzero(~missing & ~exact)
        if len(other):
            x, y = a.ident[ia[other], k], b.ident[ib[other], k]
            lengths = np.array([min(len(p), len(q)) for p, q in zip(x, y, strict=True)])
            distance = np.asarray(cpdist(list(x), list(y), scorer=OSA.distance, score_cutoff=2))
            close[other] = (lengths >= 6) & (distance <= 1)
        return _select(len(ia), [exact, close], missing)

    return levels


def _mailboxes(columns: Columns, rows: Pairs, k: int) -> list[str]:
    """The mailbox of each row's address (each distinct row worked out once)."""
    unique, inverse = np.unique(rows, return_inverse=True)
    boxes = [mailbox(str(v)) for v in columns.ident[unique, k]]
    return [boxes[i] for i in inverse.reshape(-1).tolist()]


def email_levels(a: Columns, ia: Pairs, b: Columns, ib: Pairs) -> Levels:
    k = _KIND["email"]
    ha, hb = a.ident_hash[ia, k], b.ident_hash[ib, k]
    missing = (ha == 0) | (hb == 0)
    name_a = a.mailbox_name_hash[ia]
    exact = ha == hb
    same_box = a.mailbox_hash[ia] == b.mailbox_hash[ib]
    same_name = (name_a != 0) & (name_a == b.mailbox_name_hash[ib])
    typo = np.zeros(len(ia), dtype=bool)
    other = np.flatnonzero(~missing & ~exact & ~same_box & ~same_name)
    if len(other):
        x = _mailboxes(a, ia[other], k)
        y = _mailboxes(b, ib[other], k)
        distance = np.asarray(
            cpdist(x, y, scorer=Levenshtein.distance, score_cutoff=EMAIL_TYPO_EDITS)
        )
        near = np.flatnonzero(distance <= EMAIL_TYPO_EDITS)
        typo[other[near]] = [email_typo(x[i], y[i]) for i in near.tolist()]
    return _select(len(ia), [exact, same_box, same_name, typo], missing)


def firearm_levels(a: Columns, ia: Pairs, b: Columns, ib: Pairs) -> Levels:
    k = _KIND["firearm"]
    ha, hb = a.ident_hash[ia, k], b.ident_hash[ib, k]
    serial = (a.serial_hash[ia] == b.serial_hash[ib]) & ~(a.has_make[ia] & b.has_make[ib])
    return _select(len(ia), [(ha == hb) | serial], (ha == 0) | (hb == 0))


def address_levels(a: Columns, ia: Pairs, b: Columns, ib: Pairs) -> Levels:
    ca, cb = a.address_count[ia].astype(np.int64), b.address_count[ib].astype(np.int64)
    missing = (ca == 0) | (cb == 0)
    ha, hb = a.address_hash[ia], b.address_hash[ib]
    valid = (ha != 0)[:, :, None] & (hb != 0)[:, None, :]
    shared = ((ha[:, :, None] == hb[:, None, :]) & valid).sum(axis=(1, 2))
    overlap = shared / np.maximum(np.minimum(ca, cb), 1)
    joined = np.where(overlap >= 0.99, 1.0, 0.0)
    other = np.flatnonzero(~missing & (overlap < 0.99))
    joined[other] = _jw(a.address[ia[other]], b.address[ib[other]])
    exact = (overlap >= 0.99) | (joined >= 0.98)
    # Typing errors: only where one side has at most ADDRESS_TYPOS parts the other lacks.
    typo = np.zeros(len(ia), dtype=bool)
    few = np.minimum(ca, cb) - shared <= ADDRESS_TYPOS
    for row in np.flatnonzero(~missing & ~exact & few).tolist():
        x = tuple(str(a.address[ia[row]]).split())
        y = tuple(str(b.address[ib[row]]).split())
        typo[row] = covered(x, y) or covered(y, x)
    return _select(
        len(ia),
        [
            exact & (np.minimum(ca, cb) >= ADDRESS_DETAIL),
            exact,
            typo,
            (overlap >= 0.6) | (joined >= 0.9),
            overlap >= 0.3,
        ],
        missing,
    )


Kernel = Callable[[Columns, Pairs, Columns, Pairs], Levels]

KERNELS: dict[str, Kernel] = {
    "birth_date": birth_date_levels,
    "gender": gender_levels,
    "nationality": nationality_levels,
    "birth_place": birth_place_levels,
    "document": _identifier("document", near=True),
    "national_id": _identifier("national_id", near=True),
    "phone": _identifier("phone", near=False),
    "email": email_levels,
    "address": address_levels,
    "iban": _identifier("iban", near=False),
    "vin": _identifier("vin", near=False),
    "plate": _identifier("plate", near=False),
    "firearm": firearm_levels,
}
