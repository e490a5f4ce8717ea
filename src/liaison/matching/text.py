"""Text normalisation for names: script detection, transliteration, tokens, phonetic skeletons.

Applied once, at write time. The record keeps what was written for display; everything here is
folded for comparison: Unicode NFKC, case-folded, transliterated to ASCII (anyascii covers
Cyrillic, Greek, Arabic, Hebrew, Han, Hangul, kana, Thai, Devanagari and more), diacritics
folded, particles and titles set aside, known name equivalences mapped to one symbol.

Why anyascii and not ICU: both read the same scripts; anyascii is a pure wheel that installs
everywhere, while PyICU needs the system ICU library. What neither does is handled here: Han
family names with a reading of their own (单 is Shan as a family name), and the syllables of Han
and Hangul names split into separate parts.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
from functools import lru_cache
from importlib import resources

from anyascii import anyascii

# Name particles: kept for display, optional for comparison (van der Berg ~ Berg).
PARTICLES = frozenset(
    {
        "al",
        "el",
        "ul",
        "bin",
        "ben",
        "ibn",
        "abu",
        "bint",
        "ould",
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "di",
        "da",
        "dos",
        "das",
        "du",
        "la",
        "le",
        "lo",
        "los",
        "ter",
        "ten",
        "zu",
        "y",
        "e",
        "mc",
        "mac",
        "st",
    }
)
# Titles and generational suffixes: never part of a person's name.
TITLES = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "herr",
        "frau",
        "mme",
        "mlle",
        "sr",
        "sra",
        "srta",
        "jr",
        "jnr",
        "snr",
        "sen",
        "ii",
        "iii",
        "iv",
        "esq",
        "hon",
        "rev",
    }
)
_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_APOSTROPHES = re.compile(r"['`\u2019\u02b9\u02bc\u02bb]")

SCRIPTS = ("latin", "cyrillic", "greek", "arabic", "hebrew", "han", "hangul", "kana", "other")


def _script_of_char(code: int) -> str:
    if code < 0x250 or 0x1E00 <= code < 0x1F00:
        return "latin"
    if 0x370 <= code < 0x400 or 0x1F00 <= code < 0x2000:
        return "greek"
    if 0x400 <= code < 0x530:
        return "cyrillic"
    if 0x590 <= code < 0x600:
        return "hebrew"
    if 0x600 <= code < 0x780 or 0xFB50 <= code < 0xFE00 or 0xFE70 <= code < 0xFF00:
        return "arabic"
    if 0x4E00 <= code < 0xA000 or 0x3400 <= code < 0x4DC0 or 0xF900 <= code < 0xFB00:
        return "han"
    if 0xAC00 <= code < 0xD7B0 or 0x1100 <= code < 0x1200 or 0x3130 <= code < 0x3190:
        return "hangul"
    if 0x3040 <= code < 0x3100:
        return "kana"
    return "other"


@lru_cache(maxsize=100_000)
def script_of(text: str) -> str:
    """The dominant non-Latin script of ``text``, or latin."""
    if text.isascii():
        return "latin"
    counts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            script = _script_of_char(ord(ch))
            counts[script] = counts.get(script, 0) + 1
    non_latin = {k: v for k, v in counts.items() if k != "latin"}
    return max(sorted(non_latin), key=lambda k: non_latin[k]) if non_latin else "latin"


# Greek letter pairs romanised as one sound (ELOT 743 / ISO 843, the romanisation of Greek
# passports): ευ is ev (ef before a voiceless consonant or at the end), ου is ou, γγ is ng, μπ is
# b at the start of a word. Letter by letter they would come out as eu/ey, oy, gg, mp.
_GREEK_VOICELESS = "θκξπστφχψ"
_GREEK_PAIRS = (
    (
        re.compile(rf"([αεη])υ(?!\u0308)(?=[{_GREEK_VOICELESS}]|\b)"),
        {"α": "af", "ε": "ef", "η": "if"},
    ),
    (re.compile(r"([αεη])υ(?!\u0308)"), {"α": "av", "ε": "ev", "η": "iv"}),
    (re.compile(r"(ο)υ(?!\u0308)"), {"ο": "ou"}),
    (re.compile(r"\b(μ)π"), {"μ": "b"}),
    (re.compile(r"\b(ν)τ"), {"ν": "d"}),
    (re.compile(r"(γ)(?=[γξχ])"), {"γ": "n"}),
)


def _sound(sounds: dict[str, str], match: re.Match[str]) -> str:
    return sounds[match.group(1)]


def _greek_pairs(text: str) -> str:
    """The letter pairs of ``_GREEK_PAIRS`` romanised; accents set aside first (a diaeresis,
    which splits a pair, is kept)."""
    text = unicodedata.normalize("NFD", text.casefold()).replace("\u0301", "")
    for pattern, sounds in _GREEK_PAIRS:
        text = pattern.sub(functools.partial(_sound, sounds), text)
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=200_000)
def to_ascii(text: str) -> str:
    """NFKC, transliterated to ASCII, lower case. Han and Hangul syllables become separate words."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        return text.casefold()
    script = script_of(text)
    if script == "greek":
        text = _greek_pairs(text)
    if script in ("han", "hangul"):
        # anyascii writes each syllable capitalised (王小明 → WangXiaoMing): split them.
        text = " ".join(_CAMEL.sub(" ", anyascii(part)) for part in text.split())
    else:
        text = anyascii(text)
    return text.casefold()


@lru_cache(maxsize=200_000)
def tokens(text: str) -> tuple[str, ...]:
    """ASCII tokens of a name, in order. Hyphens and dots separate; apostrophes join
    (O'Brien → obrien; the soft sign romanised as ' in Koval'ski → kovalski)."""
    return tuple(t for t in _SPLIT.split(_APOSTROPHES.sub("", to_ascii(text))) if t)


# Arabic theophoric names are one name written in one, two or three words: Abdallah, Abd Allah,
# Abdel Rahman, Abd al-Rahman, عبد الرحمن (bd lrhmn). Their first word and an article after it are
# joined to the name that follows.
_ABD = frozenset({"abd", "abdel", "abdul", "abdal", "abdol", "abdu", "bd"})
_ABD_ARTICLES = frozenset({"al", "el", "ul", "ol", "il"})


def _compounds(parts: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(parts):
        word = parts[i]
        if word in _ABD and i + 1 < len(parts):
            j = i + 1
            if parts[j] in _ABD_ARTICLES and j + 1 < len(parts):
                j += 1
            out.append("".join(parts[i : j + 1]))
            i = j + 1
            continue
        out.append(word)
        i += 1
    return out


def content_tokens(parts: tuple[str, ...] | list[str], *, titles: bool = True) -> tuple[str, ...]:
    """Tokens without titles (when ``titles``: names written in Latin script; a name
    transliterated from another script may spell one, عمر is mr) and particles, unless the name
    is nothing but particles; Arabic theophoric names (Abd al-Rahman) joined into one part."""
    words = _compounds(list(parts))
    named = ([t for t in words if t not in TITLES] if titles else []) or words
    kept = [t for t in named if t not in PARTICLES]
    return tuple(kept or named)


# The national romanisation of Ukrainian (Cabinet of Ministers resolution 55 of 2010, used in
# Ukrainian passports): г is h, и is y, і is i; є, ї, й, ю, я are ye, yi, y, yu, ya at the start
# of a word and ie, i, i, iu, ia elsewhere. Letter by letter a Ukrainian name otherwise comes
# out in the Russian manner (Сергій → sergii, not Serhii).
_UKRAINIAN = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
    "и": "y", "і": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ь": "", "'": "", "’": "", "ʼ": "",
}  # fmt: skip
_UKRAINIAN_INITIAL = {
    "є": ("ye", "ie"),
    "ї": ("yi", "i"),
    "й": ("y", "i"),
    "ю": ("yu", "iu"),
    "я": ("ya", "ia"),
}
# Letters of Russian that Ukrainian does not use: a name with one of them is not Ukrainian.
_NOT_UKRAINIAN = frozenset("ыэёъ")


@lru_cache(maxsize=100_000)
def ukrainian_latin(text: str) -> str | None:
    """``text`` romanised as Ukrainian passports do, or None when it has letters Ukrainian
    does not use (ы, э, ё, ъ) or none of its own Cyrillic."""
    lowered = unicodedata.normalize("NFC", text).casefold()
    if _NOT_UKRAINIAN & set(lowered) or script_of(text) != "cyrillic":
        return None
    out: list[str] = []
    start = True
    for i, ch in enumerate(lowered):
        if ch in _UKRAINIAN_INITIAL:
            out.append(_UKRAINIAN_INITIAL[ch][0 if start else 1])
        elif ch == "г" and i > 0 and lowered[i - 1] == "з":
            out.append("gh")  # зг is zgh, not zh
        else:
            out.append(_UKRAINIAN.get(ch, ch))
        start = not ch.isalpha() and ch not in "'’ʼ"
    return "".join(out)


@lru_cache(maxsize=1)
def _han_surnames() -> dict[str, str]:
    text = resources.files("liaison.matching").joinpath("data/han_surnames.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#"))
    return {row["surname"]: row["reading"] for row in rows}


def han_family_reading(family: str) -> str | None:
    """The family-name reading of a Han name written family name first (单雄信 → shan xiong xin),
    or None when the family name reads as usual."""
    text = unicodedata.normalize("NFKC", family.strip())
    table = _han_surnames()
    for length in (2, 1):
        head = text[:length]
        if len(head) == length and head in table:
            rest = to_ascii(text[length:]).strip()
            return f"{table[head]} {rest}".strip()
    return None


_SKELETON_RULES = (
    ("schtsch", "S"),
    ("shch", "S"),
    ("tsch", "C"),
    ("sch", "S"),
    ("tch", "C"),
    ("dzh", "J"),
    ("zh", "J"),
    ("dj", "J"),
    ("kh", "C"),
    ("ch", "C"),
    ("sh", "S"),
    ("ts", "C"),
    ("tz", "C"),
    ("ph", "F"),
    ("th", "T"),
    ("gh", "G"),
    ("ck", "K"),
    ("qu", "K"),
    ("x", "KS"),
    ("ou", "u"),
)
_VOWELS = frozenset("aeiouy")


@lru_cache(maxsize=200_000)
def skeleton(token: str) -> str:
    """A spelling-tolerant key: consonants after folding digraphs that romanisations disagree on.

    ch/kh/h/tsch/tch/c(final) (German ch is Russian х, English ch is Russian ч), sh/sch,
    zh/j/dj, w/v, ts/tz, ph/f and z/s fold together and vowels vanish (so Arabic consonant
    skeletons and vocalised spellings meet); a leading vowel or y/j/i becomes one marker so that
    Yurevich, Iurevich and Jurewitsch agree.
    """
    if not token:
        return ""
    word = token
    for source, target in _SKELETON_RULES:
        word = word.replace(source, target)
    out: list[str] = []
    for i, ch in enumerate(word):
        if i == 0 and (ch in _VOWELS or ch == "j"):
            out.append("A")
            continue
        if ch == "h" and i == 0:
            ch = "C"
        elif ch in _VOWELS or ch == "j" or ch == "h":
            continue
        if ch == "c":
            ch = "C" if i == len(word) - 1 else "S" if word[i + 1 : i + 2] in ("e", "i") else "K"
        elif ch == "w":
            ch = "v"
        elif ch == "z":
            ch = "s"
        elif ch == "q" or ch == "k":
            ch = "K"
        elif ch == "g" and word[i + 1 : i + 2] == "":
            ch = "G"
        if out and out[-1].lower() == ch.lower():
            continue
        out.append(ch.upper())
    return "".join(out)


@lru_cache(maxsize=1)
def _equivalents() -> dict[str, str]:
    text = (
        resources.files("liaison.matching").joinpath("data/name_equivalents.csv").read_text("utf-8")
    )
    table: dict[str, str] = {}
    for row in csv.reader(line for line in io.StringIO(text) if not line.startswith("#")):
        names = [n.strip() for n in row if n.strip()]
        for name in names:
            table.setdefault(name, names[0])
    return table


def equivalent(token: str) -> str:
    """The symbol of the token's name group (``mohamed`` → ``muhammad``), or the token itself."""
    return _equivalents().get(token, token)
