"""Comparison features: one small pure function each, returning a level and what it saw.

Each function's docstring is the explanation a user reads. Levels are ordered from strongest
agreement to disagreement; ``missing`` means one side lacks the field and carries no weight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import JaroWinkler, Levenshtein

from liaison.matching.record import Prepared
from liaison.matching.text import equivalent, skeleton

MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Comparison:
    level: str
    detail: str
    tokens: tuple[str, ...] = ()  # agreeing name symbols, for frequency weighting


_VOWELS = frozenset("aeiou")


def _consonants(token: str) -> str:
    out: list[str] = []
    for ch in token:
        if ch in _VOWELS or (out and out[-1] == ch):
            continue
        out.append(ch)
    return "".join(out)


def _abjad_similarity(a: str, b: str) -> float:
    """Arabic and Hebrew are written without short vowels: compare consonants only, and let the
    article (al-/el-, romanised as a leading l) fall away."""
    x, y = _consonants(a), _consonants(b)
    candidates = [(x, y)]
    if x.startswith("l") and not y.startswith("l"):
        candidates.append((x[1:], y))
    if y.startswith("l") and not x.startswith("l"):
        candidates.append((x, y[1:]))
    return max(
        (JaroWinkler.normalized_similarity(p, q) for p, q in candidates if p and q), default=0.0
    )


@lru_cache(maxsize=1 << 20)
def _token_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if equivalent(a) == equivalent(b):
        return 0.98
    if len(a) == 1 or len(b) == 1:
        return 0.85 if a[0] == b[0] else 0.0
    score = JaroWinkler.normalized_similarity(a, b)
    # Same consonant skeleton (Khokhlov / Chochlow, Mohamed / Mhmd): a romanisation variant, for
    # parts long enough that the skeleton still says something.
    if (
        score < 0.93
        and min(len(a), len(b)) >= 4
        and len(skeleton(a)) >= 3
        and skeleton(a) == skeleton(b)
    ):
        score = 0.93
    if score < 0.95 and min(len(a), len(b)) >= 3 and not (_VOWELS & set(a) and _VOWELS & set(b)):
        score = max(score, 0.95 * _abjad_similarity(a, b))
    return score


def _align(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[float, float, int, list[str]]:
    """Greedy best one-to-one alignment of name parts.

    Returns the mean and the lowest similarity over the shorter side's parts, how many parts
    agree (similarity ≥ 0.9) and the agreeing parts' symbols.
    """
    if len(a) > len(b):
        a, b = b, a
    pairs = sorted(
        ((_token_similarity(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b)),
        reverse=True,
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    total = 0.0
    lowest = 1.0
    symbols: list[str] = []
    for score, i, j in pairs:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        total += score
        lowest = min(lowest, score)
        if score >= 0.9:
            symbols.append(equivalent(a[i]))
        if len(used_a) == len(a):
            break
    return total / len(a), lowest, len(symbols), symbols


def name(a: Prepared, b: Prepared) -> Comparison:
    """Names, in any order and script: equal, known equivalents (Mohamed/Muhammad), close
    spellings, one part shared, or different. Joined and split parts (Xiaoming / Xiao Ming)
    are compared both ways."""
    if not a.names or not b.names:
        return Comparison(MISSING, "a name is missing")
    best: tuple[float, float, int, list[str], tuple[str, ...], tuple[str, ...]] = (
        -1.0,
        0.0,
        0,
        [],
        (),
        (),
    )
    for x in a.names:
        for y in b.names:
            if sorted(x) == sorted(y):
                return Comparison(
                    "exact", f"'{' '.join(x)}' = '{' '.join(y)}'", tuple(equivalent(t) for t in x)
                )
            mean, lowest, matched, symbols = _align(x, y)
            joined = JaroWinkler.normalized_similarity("".join(x), "".join(y))
            if joined >= 0.95 and joined > mean and len(x) != len(y):
                # Parts joined on one side and split on the other (Xiaoming / Xiao Ming).
                mean = lowest = joined
                matched = min(len(x), len(y))
            rank = mean - 0.05 * abs(len(x) - len(y))
            if rank > best[0]:
                best = (rank, lowest, matched, symbols, x, y)
    _rank, lowest, matched, symbols, x, y = best
    shown = f"'{' '.join(x)}' ~ '{' '.join(y)}'"
    shorter = min(len(x), len(y))
    if matched == shorter and len(x) == len(y) and lowest >= 0.98:
        return Comparison(
            "equivalent", f"{shown}: the same names in other spellings", tuple(symbols)
        )
    if matched == shorter and matched >= 2 and lowest >= 0.9:
        return Comparison("close", f"{shown}: close spellings", tuple(symbols))
    if matched == shorter and lowest >= 0.9:
        return Comparison("partial", f"{shown}: the name given on one side agrees", tuple(symbols))
    if matched >= 1:
        return Comparison("partial", f"{shown}: one name part agrees", tuple(symbols))
    if _rank >= 0.8:
        return Comparison("weak", f"{shown}: similar", ())
    return Comparison("different", f"{shown}: different names", ())


def birth_date(a: Prepared, b: Prepared) -> Comparison:
    """Dates of birth: equal, day and month swapped, one year apart, agreeing as far as the
    less precise one goes (1971 vs 1971-05-24), same year, or different."""
    x, y = a.dob, b.dob
    if x is None or y is None:
        return Comparison(MISSING, "a date of birth is missing")
    shown = f"{x.iso()} vs {y.iso()}"
    if x.day and y.day and x.month and y.month:
        if (x.year, x.month, x.day) == (y.year, y.month, y.day):
            return Comparison("exact", f"{shown}: same date")
        if x.year == y.year and x.month == y.day and x.day == y.month:
            return Comparison("swap", f"{shown}: day and month swapped")
        if x.month == y.month and x.day == y.day and abs(x.year - y.year) == 1:
            return Comparison("year_off", f"{shown}: one year apart")
        if x.year == y.year and (x.month == y.month or x.day == y.day):
            return Comparison("near", f"{shown}: same year, one of day or month agrees")
        if x.year == y.year:
            return Comparison("same_year", f"{shown}: same year only")
        return Comparison("different", f"{shown}: different dates")
    if x.year == y.year and (x.month is None or y.month is None or x.month == y.month):
        return Comparison("partial", f"{shown}: agree as far as known")
    if abs(x.year - y.year) <= 1:
        return Comparison("same_year", f"{shown}: partial dates a year apart")
    return Comparison("different", f"{shown}: different years")


def _simple(kind: str, label: str) -> Callable[[Prepared, Prepared], Comparison]:
    def compare(a: Prepared, b: Prepared) -> Comparison:
        x, y = a.identifiers.get(kind), b.identifiers.get(kind)
        if not x or not y:
            return Comparison(MISSING, f"{label} missing")
        if x == y:
            return Comparison("exact", f"same {label} {x}")
        if kind in ("document", "national_id") and Levenshtein.distance(x, y) == 1 and len(x) >= 6:
            return Comparison("close", f"{label} {x} vs {y}: one character apart")
        return Comparison("different", f"{label} {x} vs {y}")

    compare.__doc__ = f"{label.capitalize()}: the same, one character apart, or different."
    compare.__name__ = kind
    return compare


document = _simple("document", "identity document number")
national_id = _simple("national_id", "national identification number")
phone = _simple("phone", "phone number")
iban = _simple("iban", "IBAN")
vin = _simple("vin", "VIN")
plate = _simple("plate", "number plate")
firearm = _simple("firearm", "firearm serial")


def email(a: Prepared, b: Prepared) -> Comparison:
    """E-mail addresses: the same, the same mailbox name at another provider, or different."""
    x, y = a.identifiers.get("email"), b.identifiers.get("email")
    if not x or not y:
        return Comparison(MISSING, "e-mail missing")
    if x == y:
        return Comparison("exact", f"same e-mail {x}")
    if x.split("@")[0] == y.split("@")[0] and len(x.split("@")[0]) > 3:
        return Comparison("close", f"{x} vs {y}: same mailbox name")
    return Comparison("different", f"{x} vs {y}")


def gender(a: Prepared, b: Prepared) -> Comparison:
    """Sex or gender as recorded: agrees or not."""
    if not a.gender or not b.gender:
        return Comparison(MISSING, "gender missing")
    if a.gender == b.gender:
        return Comparison("exact", f"both {a.gender}")
    return Comparison("different", f"{a.gender} vs {b.gender}")


def nationality(a: Prepared, b: Prepared) -> Comparison:
    """Nationality: agrees or not."""
    if not a.nationality or not b.nationality:
        return Comparison(MISSING, "nationality missing")
    if a.nationality == b.nationality:
        return Comparison("exact", f"both {a.nationality}")
    return Comparison("different", f"{a.nationality} vs {b.nationality}")


def birth_place(a: Prepared, b: Prepared) -> Comparison:
    """Place of birth, in any script: the same, a close spelling, or different."""
    if not a.birth_place or not b.birth_place:
        return Comparison(MISSING, "place of birth missing")
    score = JaroWinkler.normalized_similarity(a.birth_place, b.birth_place)
    if score >= 0.97:
        return Comparison("exact", f"born in {a.birth_place}")
    if score >= 0.88:
        return Comparison("close", f"{a.birth_place} vs {b.birth_place}: close")
    return Comparison("different", f"{a.birth_place} vs {b.birth_place}")


def address(a: Prepared, b: Prepared) -> Comparison:
    """Address: the same, mostly the same (street and number or postcode and town), or different."""
    if not a.address or not b.address:
        return Comparison(MISSING, "address missing")
    x, y = set(a.address), set(b.address)
    overlap = len(x & y) / max(1, min(len(x), len(y)))
    joined = JaroWinkler.normalized_similarity(" ".join(a.address), " ".join(b.address))
    if overlap >= 0.99 or joined >= 0.98:
        return Comparison("exact", "same address")
    if overlap >= 0.6 or joined >= 0.9:
        return Comparison("close", f"addresses share {len(x & y)} of {min(len(x), len(y))} parts")
    if overlap >= 0.3:
        return Comparison("partial", "addresses share some parts")
    return Comparison("different", "different addresses")


FEATURES: dict[str, Callable[[Prepared, Prepared], Comparison]] = {
    "name": name,
    "birth_date": birth_date,
    "gender": gender,
    "nationality": nationality,
    "birth_place": birth_place,
    "document": document,
    "national_id": national_id,
    "phone": phone,
    "email": email,
    "address": address,
    "iban": iban,
    "vin": vin,
    "plate": plate,
    "firearm": firearm,
}

LEVELS: dict[str, tuple[str, ...]] = {
    "name": ("exact", "equivalent", "close", "partial", "weak", "different"),
    "birth_date": ("exact", "swap", "year_off", "partial", "near", "same_year", "different"),
    "gender": ("exact", "different"),
    "nationality": ("exact", "different"),
    "birth_place": ("exact", "close", "different"),
    "document": ("exact", "close", "different"),
    "national_id": ("exact", "close", "different"),
    "phone": ("exact", "different"),
    "email": ("exact", "close", "different"),
    "address": ("exact", "close", "partial", "different"),
    "iban": ("exact", "different"),
    "vin": ("exact", "different"),
    "plate": ("exact", "different"),
    "firearm": ("exact", "different"),
}
