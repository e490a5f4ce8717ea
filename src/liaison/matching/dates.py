"""Dates of birth: full or partial, in the formats clerks and systems write them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii

_ISO = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DMY = re.compile(r"^(\d{1,2})[./\- ](\d{1,2})[./\- ](\d{4}|\d{2})$")
_MY = re.compile(r"^(\d{1,2})[./\-](\d{4})$")
_DAY_MONTH_NAME = re.compile(r"^(\d{1,2})\.?[\s\-./]*([a-z]{3,})\.?[\s\-./,]*(\d{4})$")
_MONTH_NAME_DAY = re.compile(r"^([a-z]{3,})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")
_YEAR_MONTH_NAME = re.compile(r"^(\d{4})[\s\-./]+([a-z]{3,})\.?(?:[\s\-./]+(\d{1,2}))?$")
_TIME_SUFFIX = re.compile(r"[t ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(z|[+-]\d{2}:?\d{2})?$")

# Month names by their first letters, in English, German, French, Spanish, Italian, Dutch,
# Portuguese and Polish (after ASCII folding); four letters where three are ambiguous.
_MONTHS = {
    **dict.fromkeys(("jan", "gen", "ene", "janv", "sty"), 1),
    **dict.fromkeys(("feb", "fev", "fevr", "lut"), 2),
    **dict.fromkeys(("mar", "mae", "mars", "maa", "mrz"), 3),
    **dict.fromkeys(("apr", "avr", "abr", "kwi"), 4),
    **dict.fromkeys(("may", "mai", "mag", "mei", "maio", "maj"), 5),
    **dict.fromkeys(("jun", "juin", "giu", "juni", "cze"), 6),
    **dict.fromkeys(("jul", "juil", "lug", "juli", "lip"), 7),
    **dict.fromkeys(("aug", "aou", "ago", "sie", "augu"), 8),
    **dict.fromkeys(("sep", "set", "sept", "wrz"), 9),
    **dict.fromkeys(("oct", "okt", "ott", "out", "paz"), 10),
    **dict.fromkeys(("nov", "lis"), 11),
    **dict.fromkeys(("dec", "dez", "dic", "gru"), 12),
}


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date known to the year, the month or the day. ``raw`` keeps what was given."""

    year: int
    month: int | None = None
    day: int | None = None
    raw: str = ""

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    def iso(self) -> str:
        if self.day and self.month:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"


def _valid(year: int, month: int | None, day: int | None) -> bool:
    if not 1800 <= year <= 2200:
        return False
    if month is None:
        return day is None
    if not 1 <= month <= 12:
        return False
    if day is None:
        return True
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def _month(name: str) -> int | None:
    for length in (4, 3):
        month = _MONTHS.get(name[:length])
        if month:
            return month
    return None


def _full_year(two_digits: int, today: dt.date) -> int:
    """A two-digit birth year: the latest century that does not put the birth in the future."""
    year = today.year // 100 * 100 + two_digits
    return year - 100 if year > today.year else year


def _make(year: int, month: int | None, day: int | None, raw: str) -> PartialDate | None:
    if month == 0 and day in (0, None):  # 1980-00-00: the year alone is known
        month, day = None, None
    elif day == 0:
        day = None
    return PartialDate(year, month, day, raw) if _valid(year, month, day) else None


def parse_date(value: str | None, *, today: dt.date | None = None) -> PartialDate | None:
    """Parse a date of birth as written; None when unreadable or impossible.

    Reads ISO (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``, with a time after it), ``YYYYMMDD``,
    ``DD.MM.YYYY``, ``DD/MM/YYYY``, ``DD-MM-YYYY`` and two-digit years (the latest century that
    is not in the future), ``MM/YYYY``, and month names in several languages (``12 Mar 1980``,
    ``March 12, 1980``, ``12-mars-1980``). Day-first is assumed for ``DD/MM/YYYY`` (the European
    convention); when only month-first gives a valid date (05/24/1971) it is read that way.
    Unknown parts written as zero (``1980-00-00``, ``00.05.1980``) leave the date partial.
    """
    if value is None:
        return None
    return _parse(str(value), today or dt.date.today())


@lru_cache(maxsize=100_000)
def _parse(raw: str, today: dt.date) -> PartialDate | None:
    """parse_date, remembered: the same dates come back again and again."""
    text = raw.strip().lower()
    if not text or len(text) > 40:
        return None
    text = _TIME_SUFFIX.sub("", text).strip()
    for pattern in (_COMPACT, _ISO):
        match = pattern.match(text)
        if match:
            year = int(match.group(1))
            month = int(match.group(2)) if match.group(2) else None
            day = int(match.group(3)) if match.lastindex and match.lastindex >= 3 else None
            return _make(year, month, day, raw)
    match = _DMY.match(text)
    if match:
        first, second, year_text = int(match.group(1)), int(match.group(2)), match.group(3)
        year = int(year_text)
        if len(year_text) == 2:
            year = _full_year(year, today)
        if first == 0 or second == 0:
            return _make(year, second, first, raw)
        if _valid(year, second, first):
            return PartialDate(year, second, first, raw)
        if _valid(year, first, second):
            return PartialDate(year, first, second, raw)
        return None
    match = _MY.match(text)
    if match:
        return _make(int(match.group(2)), int(match.group(1)), None, raw)
    return _named_month(anyascii(text).lower(), raw)


def _named_month(text: str, raw: str) -> PartialDate | None:
    match = _DAY_MONTH_NAME.match(text)
    if match:
        month = _month(match.group(2))
        return _make(int(match.group(3)), month, int(match.group(1)), raw) if month else None
    match = _MONTH_NAME_DAY.match(text)
    if match:
        month = _month(match.group(1))
        return _make(int(match.group(3)), month, int(match.group(2)), raw) if month else None
    match = _YEAR_MONTH_NAME.match(text)
    if match:
        month = _month(match.group(2))
        day = int(match.group(3)) if match.group(3) else None
        return _make(int(match.group(1)), month, day, raw) if month else None
    return None
