"""Comparison features: one small pure function each, returning a level and what it saw.

Each function's docstring is the explanation a user reads. Levels are ordered from strongest
agreement to disagreement; ``missing`` means one side lacks the field and carries no weight.
These functions define what each level means; ``vectors`` computes the same levels for many
pairs at once, and the tests hold the two to the same answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz.distance import JaroWinkler

from liaison.matching.dates import PartialDate
from liaison.matching.identifiers import REGISTRY
from liaison.matching.record import Prepared
from liaison.matching.text import equivalent, skeleton

MISSING = "missing"
# The similarity two name parts must reach to agree, and what an initial scores against a name
# starting with it (J ~ John: compatible, but not agreement).
AGREE = 0.9
INITIAL = 0.85
EQUIVALENT = 0.98
SKELETON = 0.93
ABJAD = 0.95


@dataclass(frozen=True, slots=True)
class Comparison:
    level: str
    detail: str
    tokens: tuple[str, ...] = ()  # agreeing name symbols, for frequency weighting


def jw(a: str, b: str) -> float:
    """Jaro–Winkler similarity in single precision, as the vectorised path computes it."""
    return float(_f32(JaroWinkler.normalized_similarity(a, b)))


def _f32(x: float) -> float:
    return float(np.float32(x))


_VOWELS = frozenset("aeiou")


def consonants(token: str) -> str:
    """A name part without vowels and doubled letters (how Arabic and Hebrew are written)."""
    out: list[str] = []
    for ch in token:
        if ch in _VOWELS or (out and out[-1] == ch):
            continue
        out.append(ch)
    return "".join(out)


def vowelless(token: str) -> bool:
    return not (_VOWELS & set(token))


def abjad_similarity(a: str, b: str) -> float:
    """Arabic and Hebrew are written without short vowels: compare consonants only, and let the
    article (al-/el-, romanised as a leading l) fall away."""
    x, y = consonants(a), consonants(b)
    candidates = [(x, y)]
    if x.startswith("l") and not y.startswith("l"):
        candidates.append((x[1:], y))
    if y.startswith("l") and not x.startswith("l"):
        candidates.append((x, y[1:]))
    return max((jw(p, q) for p, q in candidates if p and q), default=0.0)


# Romanisations of Arabic disagree on digraphs: ش is sh (English), ch (French) or sch (German),
# خ kh or ch; غ gh or g; ج j or dj; ذ dh or d; ث th or t. Folded into one letter each.
_ABJAD_FOLDS = (
    ("sch", "x"),
    ("sh", "x"),
    ("ch", "x"),
    ("kh", "x"),
    ("gh", "g"),
    ("dj", "j"),
    ("dh", "d"),
    ("th", "t"),
    ("ph", "f"),
    ("ck", "k"),
    ("q", "k"),
    ("c", "k"),
)
# A consonant key says too little below this many letters (Ali and Ola would agree).
MIN_ABJAD_KEY = 2


@lru_cache(maxsize=200_000)
def abjad_keys(token: str) -> tuple[str, str]:
    """The consonant key of a name part as an abjad writes it, and that key without a leading
    article l ('' when shorter than ``MIN_ABJAD_KEY``).

    Arabic writes no short vowels, and its long vowels as the letters ي and و (romanised y, w),
    so a transliteration (كريم → krym, يوسف → ywsf) and a vocalised spelling (Karim, Youssef) meet
    on the consonants once the digraphs of the romanisations are folded (``_ABJAD_FOLDS``), y and
    w inside the name dropped, a final h (ة, romanised -a, -ah, -eh) dropped and doubled letters
    written once: krym / karim → krm, lshryf / cherif → (l)xrf, ywsf / youssef → ysf."""
    word = token
    for source, target in _ABJAD_FOLDS:
        word = word.replace(source, target)
    if len(word) > 2 and word.endswith("h"):
        word = word[:-1]
    out: list[str] = []
    for i, ch in enumerate(word):
        if ch in _VOWELS or (i > 0 and ch in "yw") or (out and out[-1] == ch):
            continue
        out.append(ch)
    key = "".join(out)
    bare = key[1:] if key.startswith("l") else key
    return (
        key if len(key) >= MIN_ABJAD_KEY else "",
        bare if len(bare) >= MIN_ABJAD_KEY else "",
    )


def abjad_agree(a: str, b: str) -> bool:
    """Whether two name parts have one consonant key (``abjad_keys``), the article of one side
    let fall away."""
    key_a, bare_a = abjad_keys(a)
    key_b, bare_b = abjad_keys(b)
    return bool(
        (key_a and key_a == key_b) or (bare_a and bare_a == key_b) or (key_a and key_a == bare_b)
    )


def token_similarity(a: str, b: str) -> float:
    """Similarity of two name parts, 0–1: equal, known equivalents (0.98), an initial against a
    name it begins (0.85), else Jaro–Winkler raised for the same consonant skeleton (Khokhlov /
    Chochlow) and for vowel-less spellings (Mhmd / Mohamed; Lshryf / Cherif on the consonant
    key of ``abjad_keys``)."""
    if a == b:
        return 1.0
    if equivalent(a) == equivalent(b):
        return EQUIVALENT
    if len(a) == 1 or len(b) == 1:
        return INITIAL if a[0] == b[0] else 0.0
    score = jw(a, b)
    if (
        score < SKELETON
        and min(len(a), len(b)) >= 4
        and len(skeleton(a)) >= 3
        and skeleton(a) == skeleton(b)
    ):
        score = SKELETON
    if score < ABJAD and min(len(a), len(b)) >= 3 and (vowelless(a) or vowelless(b)):
        score = max(score, ABJAD * abjad_similarity(a, b))
    if score < ABJAD and (vowelless(a) or vowelless(b)) and abjad_agree(a, b):
        score = ABJAD
    return score


NAME_LEVELS = (
    "exact",
    "equivalent",
    "close",
    "subset",
    "initials",
    "partial",
    "weak",
    "different",
)


@dataclass(frozen=True, slots=True)
class NameAgreement:
    """How two spellings of a name agree: the level's index in NAME_LEVELS, a rank to choose
    between spellings at the same level, and the symbols of the agreeing parts."""

    level: int
    rank: float
    symbols: tuple[str, ...]


def align(x: tuple[str, ...], y: tuple[str, ...]) -> NameAgreement:
    """Compare two spellings of a name part by part, in any order.

    The shorter spelling's parts are aligned greedily with the other's (best pair first; ties to
    the earlier parts). When the part counts differ the joined parts are compared too, for names
    split differently (Xiaoming / Xiao Ming).
    """
    if sorted(x) == sorted(y):
        return NameAgreement(0, 1.0, tuple(equivalent(t) for t in x))
    if len(x) > len(y):
        x, y = y, x
    n, m = len(x), len(y)
    scores = [[token_similarity(a, b) for b in y] for a in x]
    used_x: set[int] = set()
    used_y: set[int] = set()
    total, lowest, matched, initials = 0.0, 1.0, 0, 0
    symbols: list[str] = []
    for _ in range(n):
        best, bi, bj = -1.0, -1, -1
        for i in range(n):
            if i in used_x:
                continue
            for j in range(m):
                if j not in used_y and scores[i][j] > best:
                    best, bi, bj = scores[i][j], i, j
        used_x.add(bi)
        used_y.add(bj)
        total += best
        lowest = min(lowest, best)
        if best >= AGREE:
            matched += 1
            symbols.append(equivalent(x[bi]))
        elif best == INITIAL:
            initials += 1
    mean = total / n
    if n != m:
        joined_x, joined_y = "".join(x), "".join(y)
        shorter, longer = sorted((len(joined_x), len(joined_y)))
        if shorter >= 0.74 * longer:
            joined = jw(joined_x, joined_y)
            if joined >= ABJAD and joined > mean:
                # The whole name agrees: every part of the shorter spelling counts.
                level = 1 if joined >= EQUIVALENT else 2
                return NameAgreement(level, joined, tuple(equivalent(t) for t in x))
    rank = mean - 0.05 * (m - n)
    if matched == n and n == m:
        level = 1 if lowest >= EQUIVALENT else 2
    elif matched == n and n >= 2:
        level = 3
    elif matched >= 1 and matched + initials == n and n >= 2:
        level = 4
    elif matched >= 1:
        level = 5
    elif rank >= 0.8:
        level = 6
    else:
        level = 7
    return NameAgreement(level, rank, tuple(symbols))


_NAME_DETAIL = {
    "exact": "the same names",
    "equivalent": "the same names in other spellings or known equivalents",
    "close": "close spellings of the same names",
    "subset": "every name on one side is on the other, which has more",
    "initials": "names agree, some as initials only",
    "partial": "some name parts agree, others differ",
    "weak": "similar, no part agrees",
    "different": "different names",
}


def name_parts(a: Prepared, b: Prepared) -> Comparison:
    """Names, in any order and script: equal, the same in other spellings or known equivalents
    (Mohamed / Muhammad, Sasha / Aleksandr), close spellings, one side's names all on the other,
    initials, some parts shared, or different."""
    if not a.names or not b.names:
        return Comparison(MISSING, "a name is missing")
    best: tuple[int, float, int, int] | None = None
    best_agreement = NameAgreement(7, 0.0, ())
    for i, x in enumerate(a.names):
        for j, y in enumerate(b.names):
            agreement = align(x, y)
            key = (agreement.level, -agreement.rank, i, j)
            if best is None or key < best:
                best, best_agreement = key, agreement
    assert best is not None
    level = NAME_LEVELS[best_agreement.level]
    detail = _name_detail(level, a.names[best[2]], b.names[best[3]])
    return Comparison(level, detail, best_agreement.symbols)


def _name_detail(level: str, x: tuple[str, ...], y: tuple[str, ...]) -> str:
    return f"'{' '.join(x)}' ~ '{' '.join(y)}': {_NAME_DETAIL[level]}"


def _describe_name(level: str, a: Prepared, b: Prepared) -> str:
    if level == MISSING:
        return "a name is missing"
    if len(a.names) == 1 and len(b.names) == 1:
        return _name_detail(level, a.names[0], b.names[0])
    return name_parts(a, b).detail  # which spellings were compared: worked out again


def date_digits(year: int, month: int, day: int) -> str:
    """A full date as the eight digits YYYYMMDD (how typing errors in dates are counted)."""
    return f"{year:04d}{month:02d}{day:02d}"


def one_digit_apart(x: str, y: str) -> bool:
    """Two digit strings of one length that differ in one digit or by two neighbouring digits
    written in the wrong order (1971 / 1917; 1962-03 / 1932-06 is not: the digits swapped
    must be neighbours)."""
    if len(x) != len(y):
        return False
    differ = [i for i in range(len(x)) if x[i] != y[i]]
    if len(differ) == 1:
        return True
    i = differ[0] if len(differ) == 2 else -1
    return i >= 0 and differ[1] == i + 1 and x[i] == y[i + 1] and x[i + 1] == y[i]


def birth_date(a: Prepared, b: Prepared) -> Comparison:
    """Dates of birth: equal, day and month swapped, one year apart, one digit mistyped
    (1971-06-24 / 1961-06-24, 1984-03-12 / 1984-03-21), agreeing as far as the less precise
    one goes (1971 vs 1971-05-24), same year and month or day, same year, or different."""
    x, y = a.dob, b.dob
    if x is None or y is None:
        return Comparison(MISSING, "a date of birth is missing")
    level = _date_level(x, y)
    return Comparison(level, _date_detail(level, x, y))


def _date_level(x: PartialDate, y: PartialDate) -> str:
    if x.day and y.day and x.month and y.month:
        if (x.year, x.month, x.day) == (y.year, y.month, y.day):
            return "exact"
        if x.year == y.year and x.month == y.day and x.day == y.month:
            return "swap"
        if x.month == y.month and x.day == y.day and abs(x.year - y.year) == 1:
            return "year_off"
        if one_digit_apart(
            date_digits(x.year, x.month, x.day), date_digits(y.year, y.month, y.day)
        ):
            return "typo"
        if x.year == y.year and (x.month == y.month or x.day == y.day):
            return "near"
        if x.year == y.year:
            return "same_year"
        return "different"
    if x.year == y.year and (x.month is None or y.month is None or x.month == y.month):
        return "partial"
    if abs(x.year - y.year) <= 1:
        return "same_year"
    return "different"


_DATE_DETAIL = {
    (True, "exact"): "same date",
    (True, "swap"): "day and month swapped",
    (True, "year_off"): "one year apart",
    (True, "typo"): "one digit mistyped",
    (True, "near"): "same year, one of day or month agrees",
    (True, "same_year"): "same year only",
    (True, "different"): "different dates",
    (False, "partial"): "agree as far as known",
    (False, "same_year"): "partial dates a year apart",
    (False, "different"): "different years",
}


def _date_detail(level: str, x: PartialDate, y: PartialDate) -> str:
    full = bool(x.day and y.day and x.month and y.month)
    return f"{x.iso()} vs {y.iso()}: {_DATE_DETAIL[full, level]}"


def _describe_date(level: str, a: Prepared, b: Prepared) -> str:
    if a.dob is None or b.dob is None:
        return "a date of birth is missing"
    return _date_detail(level, a.dob, b.dob)


def _identifier(kind: str) -> Callable[[Prepared, Prepared], Comparison]:
    value_type = REGISTRY[kind]
    label = value_type.label

    def compare(a: Prepared, b: Prepared) -> Comparison:
        x, y = a.identifiers.get(kind), b.identifiers.get(kind)
        if not x or not y:
            return Comparison(MISSING, f"{label} missing")
        level = value_type.compare(x, y)
        return Comparison(level, _identifier_detail(kind, level, x, y))

    levels = ", ".join(value_type.levels)
    compare.__doc__ = f"{label[0].upper()}{label[1:]}: {levels}."
    compare.__name__ = kind
    return compare


_IDENTIFIER_DETAIL = {
    ("", "close"): "one character apart (or two neighbours swapped)",
    ("email", "mailbox"): "the same mailbox",
    ("email", "close"): "the same mailbox name at another provider",
    ("email", "typo"): "one or two typing errors apart",
}


def _identifier_detail(kind: str, level: str, x: str, y: str) -> str:
    label = REGISTRY[kind].label
    if level == "exact":
        return f"same {label} {x}"
    if level == "different":
        return f"{label} {x} vs {y}"
    detail = _IDENTIFIER_DETAIL.get((kind, level)) or _IDENTIFIER_DETAIL[("", level)]
    return f"{label} {x} vs {y}: {detail}"


def _describe_identifier(kind: str) -> Callable[[str, Prepared, Prepared], str]:
    label = REGISTRY[kind].label

    def describe(level: str, a: Prepared, b: Prepared) -> str:
        x, y = a.identifiers.get(kind), b.identifiers.get(kind)
        if not x or not y:
            return f"{label} missing"
        return _identifier_detail(kind, level, x, y)

    return describe


document = _identifier("document")
national_id = _identifier("national_id")
phone = _identifier("phone")
email = _identifier("email")
iban = _identifier("iban")
vin = _identifier("vin")
plate = _identifier("plate")
firearm = _identifier("firearm")
document.__doc__ = (
    "Identity document numbers: the same, one character apart (or two neighbours swapped), "
    "or different."
)
national_id.__doc__ = (
    "National identification numbers: the same, one character apart (or two neighbours "
    "swapped), or different."
)
email.__doc__ = (
    "E-mail addresses: the same, the same mailbox (Gmail ignores dots and +tags), the same "
    "mailbox name at another provider, one or two typing errors apart, or different."
)


def gender(a: Prepared, b: Prepared) -> Comparison:
    """Sex or gender as recorded: agrees or not."""
    if not a.gender or not b.gender:
        return Comparison(MISSING, "gender missing")
    level = "exact" if a.gender == b.gender else "different"
    return Comparison(level, _describe_gender(level, a, b))


def _describe_gender(level: str, a: Prepared, b: Prepared) -> str:
    if not a.gender or not b.gender:
        return "gender missing"
    return f"both {a.gender}" if level == "exact" else f"{a.gender} vs {b.gender}"


def nationality(a: Prepared, b: Prepared) -> Comparison:
    """Nationality: agrees or not."""
    if not a.nationality or not b.nationality:
        return Comparison(MISSING, "nationality missing")
    level = "exact" if a.nationality == b.nationality else "different"
    return Comparison(level, _describe_nationality(level, a, b))


def _describe_nationality(level: str, a: Prepared, b: Prepared) -> str:
    if not a.nationality or not b.nationality:
        return "nationality missing"
    if level == "exact":
        return f"both {a.nationality}"
    return f"{a.nationality} vs {b.nationality}"


PLACE_EXACT = 0.97
PLACE_CLOSE = 0.88


def birth_place(a: Prepared, b: Prepared) -> Comparison:
    """Place of birth, in any script: the same, a close spelling, or different."""
    if not a.birth_place or not b.birth_place:
        return Comparison(MISSING, "place of birth missing")
    score = 1.0 if a.birth_place == b.birth_place else jw(a.birth_place, b.birth_place)
    level = "exact" if score >= PLACE_EXACT else "close" if score >= PLACE_CLOSE else "different"
    return Comparison(level, _describe_place(level, a, b))


def _describe_place(level: str, a: Prepared, b: Prepared) -> str:
    if not a.birth_place or not b.birth_place:
        return "place of birth missing"
    if level == "exact":
        return f"born in {a.birth_place}"
    if level == "close":
        return f"{a.birth_place} vs {b.birth_place}: close"
    return f"{a.birth_place} vs {b.birth_place}"


# An address part resembles another when both are words (no digits) of this many letters or
# more and their Jaro–Winkler similarity reaches ADDRESS_TYPO; at most ADDRESS_TYPOS parts of
# an address may be matched that way.
ADDRESS_TYPO = 0.85
# An address agreeing in full says more the more parts it has: with fewer than this many parts
# on the shorter side (a town, a postcode) it is only the same place.
ADDRESS_DETAIL = 3
ADDRESS_TYPO_LENGTH = 4
ADDRESS_TYPOS = 2


@lru_cache(maxsize=1 << 18)
def resembles(x: str, y: str) -> bool:
    """Two address words one or two typing errors apart (London / Loonon, Swansea / Swaesna);
    numbers (house numbers, postcodes) must be equal."""
    return (
        min(len(x), len(y)) >= ADDRESS_TYPO_LENGTH
        and x.isalpha()
        and y.isalpha()
        and jw(x, y) >= ADDRESS_TYPO
    )


def covered(x: tuple[str, ...], y: tuple[str, ...]) -> bool:
    """Every part of ``x`` is in ``y`` or resembles a part of ``y`` (at most ADDRESS_TYPOS
    of them by resemblance)."""
    others = set(y)
    missing = [p for p in x if p not in others]
    if len(missing) > ADDRESS_TYPOS:
        return False
    rest = [q for q in y if q not in set(x)]
    return all(any(resembles(p, q) for q in rest) for p in missing)


def address(a: Prepared, b: Prepared) -> Comparison:
    """Address: the same (three parts or more), the same place (a town or postcode alone), the
    same up to typing errors in a word or two (Loonon / London), mostly the same (street and
    number or postcode and town), some parts shared, or different."""
    if not a.address or not b.address:
        return Comparison(MISSING, "address missing")
    shared = len(set(a.address) & set(b.address))
    overlap = shared / min(len(a.address), len(b.address))
    joined = 1.0 if overlap >= 0.99 else jw(" ".join(a.address), " ".join(b.address))
    if overlap >= 0.99 or joined >= 0.98:
        level = "exact" if min(len(a.address), len(b.address)) >= ADDRESS_DETAIL else "place"
    elif covered(a.address, b.address) or covered(b.address, a.address):
        level = "typo"
    elif overlap >= 0.6 or joined >= 0.9:
        level = "close"
    elif overlap >= 0.3:
        level = "partial"
    else:
        level = "different"
    return Comparison(level, _describe_address(level, a, b))


def _describe_address(level: str, a: Prepared, b: Prepared) -> str:
    if not a.address or not b.address:
        return "address missing"
    if level == "exact":
        return "same address"
    if level == "place":
        shorter = a.address if len(a.address) <= len(b.address) else b.address
        return f"same place ({' '.join(shorter)})"
    if level == "typo":
        return f"'{' '.join(a.address)}' ~ '{' '.join(b.address)}': the same up to typing errors"
    if level in ("close", "partial"):
        return f"addresses share {len(set(a.address) & set(b.address))} parts"
    return "different addresses"


Feature = Callable[[Prepared, Prepared], Comparison]

IDENTIFIER_FEATURE_KINDS = (
    "document",
    "national_id",
    "phone",
    "email",
    "iban",
    "vin",
    "plate",
    "firearm",
)

FEATURES: dict[str, Feature] = {
    "name": name_parts,
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

Describe = Callable[[str, Prepared, Prepared], str]

_DESCRIBE: dict[str, Describe] = {
    "name": _describe_name,
    "birth_date": _describe_date,
    "gender": _describe_gender,
    "nationality": _describe_nationality,
    "birth_place": _describe_place,
    "address": _describe_address,
    **{kind: _describe_identifier(kind) for kind in IDENTIFIER_FEATURE_KINDS},
}


def describe(feature: str, level: str, a: Prepared, b: Prepared) -> str:
    """What the comparison of ``feature`` says about ``a`` and ``b`` at ``level`` (the level
    found for them, by ``FEATURES[feature]`` or the vectorised kernels): the same text as the
    feature's ``Comparison.detail``, without comparing again."""
    return _DESCRIBE[feature](level, a, b)


LEVELS: dict[str, tuple[str, ...]] = {
    "name": NAME_LEVELS,
    "birth_date": (
        "exact",
        "swap",
        "year_off",
        "typo",
        "partial",
        "near",
        "same_year",
        "different",
    ),
    "gender": ("exact", "different"),
    "nationality": ("exact", "different"),
    "birth_place": ("exact", "close", "different"),
    "address": ("exact", "place", "typo", "close", "partial", "different"),
    **{kind: REGISTRY[kind].levels for kind in REGISTRY if kind in FEATURES},
}
