"""How clerks get names and dates wrong: keyboard and OCR typos, ASCII folding, date slips.

Hand-written models, independent of the matcher's normalisation.
"""

from __future__ import annotations

import datetime as dt
import random

_QWERTY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_QWERTZ_ROWS = ("qwertzuiop", "asdfghjkl", "yxcvbnm")
_AZERTY_ROWS = ("azertyuiop", "qsdfghjklm", "wxcvbn")


def _neighbours(rows: tuple[str, ...]) -> dict[str, str]:
    near: dict[str, str] = {}
    for r, row in enumerate(rows):
        for i, ch in enumerate(row):
            keys = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
            for other in (r - 1, r + 1):
                if 0 <= other < len(rows):
                    keys += [rows[other][j] for j in (i - 1, i, i + 1) if 0 <= j < len(rows[other])]
            near[ch] = "".join(keys)
    return near


KEYBOARDS = {
    "qwerty": _neighbours(_QWERTY_ROWS),
    "qwertz": _neighbours(_QWERTZ_ROWS),
    "azerty": _neighbours(_AZERTY_ROWS),
}
KEYBOARD_OF_AGENCY_COUNTRY = {"DE": "qwertz", "PL": "qwertz", "FR": "azerty"}

# Confusions of optical character recognition on scanned documents.
OCR = {
    "o": "0",
    "0": "o",
    "i": "l",
    "l": "1",
    "1": "l",
    "s": "5",
    "5": "s",
    "b": "8",
    "8": "b",
    "rn": "m",
    "m": "rn",
    "cl": "d",
    "e": "c",
    "g": "9",
}

# How clerks fold letters they cannot type (the conventions differ by language).
FOLDINGS = (
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"},  # German rule
    {"ä": "a", "ö": "o", "ü": "u", "ß": "ss", "Ä": "A", "Ö": "O", "Ü": "U"},
    {
        "ł": "l",
        "Ł": "L",
        "ą": "a",
        "ę": "e",
        "ś": "s",
        "ć": "c",
        "ń": "n",
        "ó": "o",
        "ź": "z",
        "ż": "z",
        "Ś": "S",
        "Ż": "Z",
        "Ź": "Z",
    },
    {"ı": "i", "İ": "I", "ş": "s", "Ş": "S", "ğ": "g", "ç": "c", "Ç": "C"},
    {
        "é": "e",
        "è": "e",
        "ê": "e",
        "à": "a",
        "ç": "c",
        "ï": "i",
        "î": "i",
        "ô": "o",
        "É": "E",
        "í": "i",
        "á": "a",
        "ñ": "n",
        "ú": "u",
        "Á": "A",
        "ò": "o",
        "ù": "u",
        "ì": "i",
        "ș": "s",
        "ț": "t",
        "ă": "a",
        "â": "a",
        "Ș": "S",
        "Ț": "T",
        "č": "c",
        "š": "s",
        "ž": "z",
        "ć": "c",
        "đ": "dj",
        "Č": "C",
        "Š": "S",
        "Ž": "Z",
        "Đ": "Dj",
    },
)


def fold(text: str, rng: random.Random) -> str:
    """Fold accented letters the way one clerk would (a whole convention, not letter by letter)."""
    table = FOLDINGS[0] if rng.random() < 0.5 else FOLDINGS[1]
    out = []
    for ch in text:
        for extra in (table, *FOLDINGS[2:]):
            if ch in extra:
                ch = extra[ch]
                break
        out.append(ch)
    return "".join(out)


def typo(text: str, rng: random.Random, keyboard: str = "qwerty") -> str:
    """One realistic slip: neighbouring key, dropped, doubled or swapped letter, or OCR error."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(letters) < 3:
        return text
    i = rng.choice(letters[1:])  # first letters are rarely mistyped
    kind = rng.random()
    ch = text[i]
    if kind < 0.35:
        near = KEYBOARDS[keyboard].get(ch.lower())
        if near:
            sub = rng.choice(near)
            return text[:i] + (sub.upper() if ch.isupper() else sub) + text[i + 1 :]
    if kind < 0.55:
        return text[:i] + text[i + 1 :]
    if kind < 0.7:
        return text[:i] + ch + text[i:]
    if kind < 0.88 and i + 1 < len(text) and text[i + 1].isalpha():
        return text[:i] + text[i + 1] + ch + text[i + 2 :]
    for wrong, right in OCR.items():
        j = text.lower().find(wrong, 1)
        if j > 0:
            return text[:j] + right + text[j + len(wrong) :]
    return text[:i] + text[i + 1 :]


def date_slip(born: dt.date, rng: random.Random) -> tuple[str, str]:
    """A recorded birth date and what happened to it: exact, swapped, off by a year, partial."""
    roll = rng.random()
    if roll < 0.05 and born.day <= 12 and born.day != born.month:
        return f"{born.year:04d}-{born.day:02d}-{born.month:02d}", "day_month_swap"
    if roll < 0.08:
        year = born.year + rng.choice((-1, 1))
        day = min(born.day, 28) if born.month == 2 else born.day
        return f"{year:04d}-{born.month:02d}-{day:02d}", "year_off_by_one"
    if roll < 0.12:
        return f"{born.year:04d}", "year_only"
    if roll < 0.14:
        return f"{born.year:04d}-{born.month:02d}", "year_month"
    if roll < 0.17:
        return "", "missing"
    return born.isoformat(), "exact"
