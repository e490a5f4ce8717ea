"""Dates of birth: full or partial, in the formats clerks and systems write them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_ISO = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DMY = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_TEXTUAL = re.compile(r"^(\d{1,2})\s+([a-z]{3})[a-z]*\.?\s+(\d{4})$")


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


def parse_date(value: str | None) -> PartialDate | None:
    """Parse ISO (YYYY, YYYY-MM, YYYY-MM-DD), YYYYMMDD, DD.MM.YYYY, DD/MM/YYYY, 12 Mar 1980.

    Day-first is assumed for DD/MM/YYYY (the European convention); when only month-first makes
    the date valid (05/24/1971) it is read that way. Unparseable or impossible dates give None.
    """
    if value is None:
        return None
    text = str(value).strip().lower()
    if not text or len(text) > 40:
        return None
    for pattern in (_COMPACT, _ISO):
        match = pattern.match(text)
        if match:
            year = int(match.group(1))
            month = int(match.group(2)) if match.group(2) else None
            day = (
                int(match.group(3))
                if match.lastindex and match.lastindex >= 3 and match.group(3)
                else None
            )
            if month == 0 and day in (0, None):  # 1980-00-00: year known only
                month, day = None, None
            return PartialDate(year, month, day, str(value)) if _valid(year, month, day) else None
    match = _DMY.match(text)
    if match:
        first, second, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if _valid(year, second, first):
            return PartialDate(year, second, first, str(value))
        if _valid(year, first, second):
            return PartialDate(year, first, second, str(value))
        return None
    match = _TEXTUAL.match(text)
    if match and match.group(2) in _MONTHS:
        day, month, year = int(match.group(1)), _MONTHS[match.group(2)], int(match.group(3))
        return PartialDate(year, month, day, str(value)) if _valid(year, month, day) else None
    return None
