"""Text normalisation for matching: script-aware transliteration, tokens, phonetic skeletons.

Applied once at write time. ``display`` keeps what was written; everything else is folded for
comparison: Unicode NFKC, case-folded, transliterated to ASCII (anyascii covers Cyrillic, Greek,
Arabic, Han, Hangul and more), particles separated, known name equivalences mapped to a symbol.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

from anyascii import anyascii

# Name particles: kept for display, optional for comparison (van der Berg ~ Berg).
PARTICLES = frozenset(
    [
        "al",
        "el",
        "ul",
        "bin",
        "ben",
        "ibn",
        "abu",
        "bint",
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
    ]
)
_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_APOSTROPHES = re.compile(r"['`\u2019\u02b9\u02bc]")

SCRIPTS = ("latin", "cyrillic", "greek", "arabic", "han", "hangul", "hebrew", "other")


def script_of(text: str) -> str:
    """The dominant non-Latin script of ``text``, or latin."""
    counts: dict[str, int] = {}
    for ch in text:
        if not ch.isalpha():
            continue
        code = ord(ch)
        if code < 0x250:
            script = "latin"
        elif 0x370 <= code < 0x400 or 0x1F00 <= code < 0x2000:
            script = "greek"
        elif 0x400 <= code < 0x530:
            script = "cyrillic"
        elif 0x590 <= code < 0x600:
            script = "hebrew"
        elif 0x600 <= code < 0x780 or 0xFB50 <= code < 0xFE00:
            script = "arabic"
        elif 0x4E00 <= code < 0xA000 or 0x3400 <= code < 0x4DC0:
            script = "han"
        elif 0xAC00 <= code < 0xD7B0 or 0x1100 <= code < 0x1200:
            script = "hangul"
        else:
            script = "other"
        counts[script] = counts.get(script, 0) + 1
    if not counts:
        return "latin"
    non_latin = {k: v for k, v in counts.items() if k != "latin"}
    return max(non_latin, key=lambda k: non_latin[k]) if non_latin else "latin"


@lru_cache(maxsize=200_000)
def to_ascii(text: str) -> str:
    """NFKC, transliterated to ASCII, lower case. Han and Hangul syllables become separate words."""
    text = unicodedata.normalize("NFKC", text)
    if script_of(text) in ("han", "hangul"):
        # anyascii writes each syllable capitalised (王小明 → WangXiaoMing): split them.
        text = " ".join(_CAMEL.sub(" ", anyascii(part)) for part in text.split())
    else:
        text = anyascii(text)
    return text.casefold()


def tokens(text: str) -> list[str]:
    """ASCII tokens of a name, in order. Hyphens and dots separate; apostrophes join
    (O'Brien → obrien; the soft sign romanised as ' in Koval'ski → kovalski)."""
    return [t for t in _SPLIT.split(_APOSTROPHES.sub("", to_ascii(text))) if t]


def content_tokens(parts: list[str]) -> list[str]:
    """Tokens without particles, unless the name is nothing but particles."""
    kept = [t for t in parts if t not in PARTICLES]
    return kept or parts


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
    zh/j/dj, w/v, ts/tz, ph/f and z/s fold together and
    vowels vanish (so Arabic consonant skeletons and vocalised spellings meet); a leading vowel
    or y/j/i becomes one marker so that Yurevich, Iurevich and Jurewitsch agree.
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
    table: dict[str, str] = {}
    text = (
        resources.files("liaison.matching").joinpath("data/name_equivalents.txt").read_text("utf-8")
    )
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        names = line.split()
        for name in names:
            table.setdefault(name, names[0])
    return table


def equivalent(token: str) -> str:
    """The symbol of the token's name group (``mohamed`` → ``muhammad``), or the token itself."""
    return _equivalents().get(token, token)
