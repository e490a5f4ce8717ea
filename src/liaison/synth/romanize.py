"""Romanisation systems as agencies apply them, written out as tables.

These tables are deliberately independent of the matcher's transliteration: the synthetic
world must vary names the way clerks in different countries do, not the way the matcher
normalises them, or every accuracy figure flatters the engine.
"""

from __future__ import annotations

from collections.abc import Mapping

_RU_COMMON = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "з": "z",
    "и": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "ы": "y",
    "ь": "",
    "ъ": "",
}

# ICAO Doc 9303 (7th ed., 2015), used in Russian passports since 2014.
RU_ICAO = {
    **_RU_COMMON,
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "й": "i",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "ie",
    "э": "e",
    "ю": "iu",
    "я": "ia",
}
# BGN/PCGN 1947, common in English-language records (apostrophes dropped by most clerks).
RU_BGN = {
    **_RU_COMMON,
    "е": "e",
    "ё": "yo",
    "ж": "zh",
    "й": "y",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "э": "e",
    "ю": "yu",
    "я": "ya",
}
# ISO 9:1995 / GOST 7.79 system A: one Latin letter (with diacritics) per Cyrillic letter.
RU_ISO9 = {
    **_RU_COMMON,
    "е": "e",
    "ё": "ë",
    "ж": "ž",
    "й": "j",
    "х": "h",
    "ц": "c",
    "ч": "č",
    "ш": "š",
    "щ": "ŝ",
    "ы": "y",
    "э": "è",
    "ю": "û",
    "я": "â",
    "ь": "ʹ",
    "ъ": "ʺ",
}
# German (Duden) transcription, as German registries wrote Russian names.
RU_GERMAN = {
    **_RU_COMMON,
    "в": "w",
    "е": "e",
    "ё": "jo",
    "ж": "sch",
    "з": "s",
    "й": "i",
    "с": "s",
    "х": "ch",
    "ц": "z",
    "ч": "tsch",
    "ш": "sch",
    "щ": "schtsch",
    "э": "e",
    "ю": "ju",
    "я": "ja",
    "ы": "y",
}
# French transcription.
RU_FRENCH = {
    **_RU_COMMON,
    "е": "e",
    "ё": "io",
    "ж": "j",
    "й": "i",
    "у": "ou",
    "х": "kh",
    "ц": "ts",
    "ч": "tch",
    "ш": "ch",
    "щ": "chtch",
    "э": "e",
    "ю": "iou",
    "я": "ia",
}

# Ukrainian national system (Cabinet of Ministers resolution 55, 2010), passport use.
UA_NATIONAL = {
    **_RU_COMMON,
    "г": "h",
    "ґ": "g",
    "е": "e",
    "є": "ie",
    "ж": "zh",
    "и": "y",
    "і": "i",
    "ї": "i",
    "й": "i",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ю": "iu",
    "я": "ia",
    "ь": "",
    "'": "",
}
# The same system's word-initial forms.
UA_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
# Ukrainian names as Russian-style clerks wrote them before 2010 (г→g, и→i).
UA_RUSSIAN_STYLE = {
    **UA_NATIONAL,
    "г": "g",
    "и": "i",
    "і": "i",
    "ї": "yi",
    "є": "ye",
    "ю": "yu",
    "я": "ya",
    "й": "y",
}

# Bulgarian official streamlined system (Transliteration Act 2009).
BG_OFFICIAL = {
    **_RU_COMMON,
    "е": "e",
    "ж": "zh",
    "й": "y",
    "х": "h",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "sht",
    "ъ": "a",
    "ь": "y",
    "ю": "yu",
    "я": "ya",
}
BG_OLD = {**BG_OFFICIAL, "х": "kh", "ъ": "u", "щ": "sht", "ю": "iu", "я": "ia"}

# Serbian Cyrillic → Serbian Latin (one to one, official) and an ASCII form without diacritics.
RS_LATIN = {
    **_RU_COMMON,
    "е": "e",
    "ђ": "đ",
    "ж": "ž",
    "ј": "j",
    "љ": "lj",
    "њ": "nj",
    "ћ": "ć",
    "ц": "c",
    "ч": "č",
    "џ": "dž",
    "ш": "š",
    "х": "h",
}
RS_ASCII = {**RS_LATIN, "ђ": "dj", "ž": "z", "ж": "z", "ћ": "c", "ч": "c", "џ": "dz", "ш": "s"}
RS_ENGLISH = {**RS_LATIN, "ђ": "dj", "ж": "zh", "ћ": "ch", "ч": "ch", "џ": "dzh", "ш": "sh"}

SYSTEMS: dict[str, tuple[Mapping[str, str], ...]] = {
    "RU": (RU_ICAO, RU_BGN, RU_ISO9, RU_GERMAN, RU_FRENCH),
    "UA": (UA_NATIONAL, UA_RUSSIAN_STYLE, RU_BGN),
    "BG": (BG_OFFICIAL, BG_OLD),
    "RS": (RS_LATIN, RS_ASCII, RS_ENGLISH),
}


def romanize_cyrillic(text: str, table: Mapping[str, str]) -> str:
    """Romanise Cyrillic with one system's table, keeping capitals and non-Cyrillic text."""
    out: list[str] = []
    at_word_start = True
    for ch in text:
        low = ch.lower()
        if table is UA_NATIONAL and at_word_start and low in UA_INITIAL:
            latin = UA_INITIAL[low]
        else:
            latin = table.get(low, ch)
        if ch != low and latin:
            latin = latin[0].upper() + latin[1:]
        out.append(latin)
        at_word_start = not ch.isalpha()
    return "".join(out)


# ── Greek ───────────────────────────────────────────────────────────────────────────────────

_GREEK_STRIP = str.maketrans("άέήίόύώϊϋΐΰ", "αεηιουωιυιυ")
_ELOT_DIGRAPHS = (("ου", "ou"), ("μπ", "mp"), ("ντ", "nt"), ("γκ", "gk"), ("γγ", "ng"))
_ELOT = {
    "α": "a",
    "β": "v",
    "γ": "g",
    "δ": "d",
    "ε": "e",
    "ζ": "z",
    "η": "i",
    "θ": "th",
    "ι": "i",
    "κ": "k",
    "λ": "l",
    "μ": "m",
    "ν": "n",
    "ξ": "x",
    "ο": "o",
    "π": "p",
    "ρ": "r",
    "σ": "s",
    "ς": "s",
    "τ": "t",
    "υ": "y",
    "φ": "f",
    "χ": "ch",
    "ψ": "ps",
    "ω": "o",
}
# Phonetic spellings Greeks themselves often use abroad (αυ→af/av, ευ→ef/ev, οι/ει→i, χ→h).
_PHONETIC_DIGRAPHS = (
    ("ου", "ou"),
    ("αι", "e"),
    ("ει", "i"),
    ("οι", "i"),
    ("αυ", "av"),
    ("ευ", "ev"),
    ("μπ", "b"),
    ("ντ", "d"),
    ("γκ", "g"),
    ("γγ", "ng"),
)
_PHONETIC = {**_ELOT, "χ": "h", "υ": "i", "η": "i", "β": "v", "γ": "g"}


def _greek(text: str, digraphs: tuple[tuple[str, str], ...], table: Mapping[str, str]) -> str:
    lowered = text.lower().translate(_GREEK_STRIP)
    out: list[str] = []
    i = 0
    while i < len(lowered):
        pair = lowered[i : i + 2]
        for greek, latin in digraphs:
            if pair == greek:
                out.append(latin)
                i += 2
                break
        else:
            # ELOT 743: αυ/ευ become av/ev before voiced sounds and vowels, af/ef otherwise.
            if pair in ("αυ", "ευ") and table is _ELOT:
                nxt = lowered[i + 2 : i + 3]
                voiceless = nxt in tuple("θκξπστφχψ") or nxt == ""
                out.append(("a" if pair[0] == "α" else "e") + ("f" if voiceless else "v"))
                i += 2
                continue
            out.append(table.get(lowered[i], lowered[i]))
            i += 1
    word = "".join(out)
    return " ".join(part[:1].upper() + part[1:] for part in word.split(" "))


def romanize_greek_elot(text: str) -> str:
    """ELOT 743 (ISO 843 type 2), used in Greek passports."""
    return _greek(text, _ELOT_DIGRAPHS, _ELOT)


def romanize_greek_phonetic(text: str) -> str:
    """The phonetic spelling common in foreign records (Yorgos-style vowels, χ→h)."""
    return _greek(text, _PHONETIC_DIGRAPHS, _PHONETIC)
