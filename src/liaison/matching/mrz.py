"""Machine-readable zones of travel documents (ICAO 9303): TD1, TD2 and TD3, check digits verified.

A zone whose check digits fail is still read: the fields are evidence, and ``errors`` says which
check failed, so the caller can flag the record instead of dropping it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from liaison.matching.countries import country_code
from liaison.matching.dates import PartialDate

_WEIGHTS = (7, 3, 1)


def mrz_check(field: str) -> str:
    """The ICAO 9303 check digit of ``field`` (weights 7, 3, 1; letters A=10 … Z=35; < is 0)."""
    total = 0
    for i, ch in enumerate(field):
        if ch.isdigit():
            value = int(ch)
        elif "A" <= ch <= "Z":
            value = ord(ch) - 55
        elif ch == "<":
            value = 0
        else:
            raise ValueError(f"invalid MRZ character {ch!r}")
        total += value * _WEIGHTS[i % 3]
    return str(total % 10)


@dataclass(frozen=True, slots=True)
class MRZ:
    """A parsed machine-readable zone; ``errors`` names the fields whose check digit failed."""

    format: str
    doc_type: str
    issuing: str
    family: str
    given: str
    number: str
    nationality: str
    birth: str
    sex: str
    expiry: str
    errors: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.errors

    def birth_date(self, today: dt.date | None = None) -> PartialDate | None:
        """The date of birth; a two-digit year is the latest past century that fits."""
        return _date(self.birth, today or dt.date.today(), past=True)

    def issuing_country(self) -> str | None:
        """The issuing state as ISO 3166 alpha-2 (ICAO's D for Germany included)."""
        return country_code(self.issuing)

    def nationality_country(self) -> str | None:
        return country_code(self.nationality)

    def gender(self) -> str | None:
        return self.sex if self.sex in ("M", "F", "X") else None


def _date(text: str, today: dt.date, *, past: bool) -> PartialDate | None:
    if len(text) != 6 or not text.isdigit():
        return None
    yy, month, day = int(text[:2]), int(text[2:4]), int(text[4:])
    year = 2000 + yy
    if past and year > today.year:
        year -= 100
    try:
        dt.date(year, month, day)
    except ValueError:
        return None
    return PartialDate(year, month, day, text)


def parse_mrz(*lines: str) -> MRZ:
    """Parse TD3 (2×44), TD2 (2×36) or TD1 (3×30) lines and verify every check digit.

    Lines may also come as one text with line breaks. Raises ValueError when the zone has
    none of the three shapes or holds characters an MRZ cannot.
    """
    cleaned = [
        part.strip().upper().replace(" ", "")
        for line in lines
        if line
        for part in line.splitlines()
        if part.strip()
    ]
    lengths = [len(line) for line in cleaned]
    try:
        if lengths in ([44, 44], [36, 36]):
            return _parse_td3_td2(cleaned[0], cleaned[1])
        if lengths == [30, 30, 30]:
            return _parse_td1(*cleaned)
    except ValueError as exc:
        raise ValueError(f"malformed MRZ: {exc}") from None
    raise ValueError(f"MRZ must be 2×44, 2×36 or 3×30 characters; got {lengths}")


def _names(field: str) -> tuple[str, str]:
    family, _, given = field.partition("<<")
    return family.replace("<", " ").strip(), given.replace("<", " ").strip()


def _checks(pairs: list[tuple[str, str, str]]) -> tuple[str, ...]:
    return tuple(name for name, field, digit in pairs if digit != "<" and mrz_check(field) != digit)


def _parse_td3_td2(line1: str, line2: str) -> MRZ:
    width = len(line1)
    family, given = _names(line1[5:])
    number, birth, expiry = line2[0:9], line2[13:19], line2[21:27]
    if width == 44:
        composite = line2[0:10] + line2[13:20] + line2[21:43]
        optional = line2[28:42]
        checks = [
            ("number", number, line2[9]),
            ("birth", birth, line2[19]),
            ("expiry", expiry, line2[27]),
            ("composite", composite, line2[43]),
        ]
        if line2[42] != "<" or optional.strip("<"):
            checks.append(("personal number", optional, line2[42]))
    else:
        composite = line2[0:10] + line2[13:20] + line2[21:35]
        checks = [
            ("number", number, line2[9]),
            ("birth", birth, line2[19]),
            ("expiry", expiry, line2[27]),
            ("composite", composite, line2[35]),
        ]
    return MRZ(
        "TD3" if width == 44 else "TD2",
        line1[0:2].strip("<"),
        line1[2:5].strip("<"),
        family,
        given,
        number.strip("<"),
        line2[10:13].strip("<"),
        birth,
        line2[20],
        expiry,
        _checks(checks),
    )


def _parse_td1(line1: str, line2: str, line3: str) -> MRZ:
    family, given = _names(line3)
    number, birth, expiry = line1[5:14], line2[0:6], line2[8:14]
    composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
    checks = [
        ("number", number, line1[14]),
        ("birth", birth, line2[6]),
        ("expiry", expiry, line2[14]),
        ("composite", composite, line2[29]),
    ]
    return MRZ(
        "TD1",
        line1[0:2].strip("<"),
        line1[2:5].strip("<"),
        family,
        given,
        number.strip("<"),
        line2[15:18].strip("<"),
        birth,
        line2[7],
        expiry,
        _checks(checks),
    )
