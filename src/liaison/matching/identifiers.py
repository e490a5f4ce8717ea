"""Identifiers: clean, validate and key each kind in one registry.

Invalid identifiers are kept as given and flagged, never dropped: a mistyped passport number is
still evidence, just weaker.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban

_ALNUM = re.compile(r"[^A-Z0-9]")


@dataclass(frozen=True, slots=True)
class Identifier:
    """A cleaned identifier: ``key`` is what equality and indexes use; ``valid`` may be False."""

    kind: str
    key: str
    raw: str
    valid: bool
    problem: str | None = None


def _compact(value: str) -> str:
    return _ALNUM.sub("", value.upper())


# ── ICAO 9303 check digits and machine-readable zones ──────────────────────────────────────

_MRZ_WEIGHTS = (7, 3, 1)


def mrz_check(field: str) -> str:
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
        total += value * _MRZ_WEIGHTS[i % 3]
    return str(total % 10)


@dataclass(frozen=True, slots=True)
class MRZ:
    """A parsed machine-readable zone; ``errors`` lists failed check digits."""

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


def parse_mrz(*lines: str) -> MRZ:
    """Parse TD3 (2×44), TD2 (2×36) or TD1 (3×30) lines and verify every check digit."""
    cleaned = [line.strip().upper().replace(" ", "") for line in lines if line and line.strip()]
    lengths = [len(line) for line in cleaned]
    try:
        if lengths == [44, 44] or lengths == [36, 36]:
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


# ── The registry ───────────────────────────────────────────────────────────────────────────


def clean_document(value: str, country: str | None = None) -> Identifier:
    """Identity-document numbers: upper case, separators removed, issuing country prefixed."""
    key = _compact(value)
    if not 5 <= len(key) <= 20:
        return Identifier(
            "document", key, value, False, "document numbers have 5–20 letters or digits"
        )
    prefix = (country or "").upper()[:3]
    return Identifier("document", f"{prefix}:{key}" if prefix else key, value, True)


def clean_phone(value: str, country: str | None = None) -> Identifier:
    """Phones in E.164 (libphonenumber); a national number needs the country to be read."""
    text = value.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, (country or "").upper() or None)
    except phonenumbers.NumberParseException as exc:
        digits = re.sub(r"\D", "", value)
        return Identifier("phone", digits, value, False, f"unreadable phone number ({exc})")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number):
        return Identifier("phone", e164, value, False, "not a valid number for its country")
    return Identifier("phone", e164, value, True)


_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def clean_email(value: str, country: str | None = None) -> Identifier:
    """E-mails: trimmed and lower-cased (local parts are case-insensitive in practice)."""
    key = value.strip().lower()
    if not _EMAIL.match(key):
        return Identifier("email", key, value, False, "not an e-mail address")
    return Identifier("email", key, value, True)


def clean_iban(value: str, country: str | None = None) -> Identifier:
    key = stdnum_iban.compact(value)
    if not stdnum_iban.is_valid(key):
        return Identifier("iban", key, value, False, "IBAN check digits or format wrong")
    return Identifier("iban", key, value, True)


def clean_bic(value: str, country: str | None = None) -> Identifier:
    key = stdnum_bic.compact(value)
    if not stdnum_bic.is_valid(key):
        return Identifier("bic", key, value, False, "not a BIC")
    return Identifier("bic", key[:8] + (key[8:] if key[8:] != "XXX" else ""), value, True)


_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# Check digit compulsory in North America (WMI starting 1–5); elsewhere most makers compute it.
_NORTH_AMERICA = frozenset("12345")


def vin_check_digit(vin: str) -> str:
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    return "X" if total % 11 == 10 else str(total % 11)


def clean_vin(value: str, country: str | None = None) -> Identifier:
    """VINs (ISO 3779): 17 characters without I, O, Q; check digit verified where it applies."""
    key = _compact(value)
    if len(key) != 17 or set(key) & set("IOQ"):
        return Identifier("vin", key, value, False, "a VIN has 17 characters and no I, O or Q")
    if vin_check_digit(key) != key[8]:
        problem = "check digit (9th character) does not match"
        if key[0] in _NORTH_AMERICA:
            return Identifier("vin", key, value, False, problem)
        return Identifier(
            "vin", key, value, True, problem + " (not compulsory outside North America)"
        )
    return Identifier("vin", key, value, True)


def clean_plate(value: str, country: str | None = None) -> Identifier:
    """Number plates: separators removed, upper case, the registering country in front.

    Cyrillic letters that national schemes use because they look Latin (А В Е К М Н О Р С Т У Х)
    are written as the Latin letters a camera or officer reads.
    """
    lookalikes = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")
    key = _compact(value.upper().translate(lookalikes))
    if not 2 <= len(key) <= 12:
        return Identifier("plate", key, value, False, "plates have 2–12 letters or digits")
    prefix = (country or "").upper()
    return Identifier("plate", f"{prefix}:{key}" if prefix else key, value, True)


FIREARM_MAKES = {
    "glock": "GLOCK",
    "glock ges m b h": "GLOCK",
    "beretta": "BERETTA",
    "pietro beretta": "BERETTA",
    "heckler koch": "HECKLER & KOCH",
    "h k": "HECKLER & KOCH",
    "hk": "HECKLER & KOCH",
    "sig sauer": "SIG SAUER",
    "sig": "SIG SAUER",
    "sig arms": "SIG SAUER",
    "walther": "WALTHER",
    "carl walther": "WALTHER",
    "cz": "CESKA ZBROJOVKA",
    "ceska zbrojovka": "CESKA ZBROJOVKA",
    "zastava": "ZASTAVA",
    "smith wesson": "SMITH & WESSON",
    "s w": "SMITH & WESSON",
    "colt": "COLT",
    "kalashnikov": "KALASHNIKOV",
    "kalashnikov concern": "KALASHNIKOV",
    "izhmash": "KALASHNIKOV",
    "fn": "FN HERSTAL",
    "fn herstal": "FN HERSTAL",
    "baikal": "BAIKAL",
}


def firearm_make(value: str) -> str:
    from liaison.matching.text import to_ascii

    words = " ".join(re.split(r"[^a-z0-9]+", to_ascii(value))).strip()
    return FIREARM_MAKES.get(words, words.upper())


def clean_firearm(value: str, country: str | None = None) -> Identifier:
    """Firearm serials: compacted; the key carries the make when given as ``make|serial``."""
    make, _, serial = value.rpartition("|")
    key = _compact(serial)
    if len(key) < 3:
        return Identifier("firearm", key, value, False, "serial numbers have at least 3 characters")
    return Identifier("firearm", f"{firearm_make(make)}:{key}" if make else key, value, True)


def clean_national_id(value: str, country: str | None = None) -> Identifier:
    key = _compact(value)
    if len(key) < 4:
        return Identifier("national_id", key, value, False, "too short for a national number")
    return Identifier("national_id", key, value, True)


Cleaner = Callable[[str, str | None], Identifier]
REGISTRY: dict[str, Cleaner] = {
    "document": clean_document,
    "phone": clean_phone,
    "email": clean_email,
    "iban": clean_iban,
    "bic": clean_bic,
    "vin": clean_vin,
    "plate": clean_plate,
    "firearm": clean_firearm,
    "national_id": clean_national_id,
}


def clean(kind: str, value: str, country: str | None = None) -> Identifier:
    """Clean an identifier of ``kind`` (one of REGISTRY)."""
    try:
        cleaner = REGISTRY[kind]
    except KeyError:
        raise ValueError(
            f"unknown identifier kind {kind!r}; known: {', '.join(REGISTRY)}"
        ) from None
    return cleaner(value, country)


def identifier_key(kind: str, value: str, country: str | None = None) -> str:
    """The exact-lookup key of an identifier (for alerts on documents, plates, VINs, firearms)."""
    return f"{kind}:{clean(kind, value, country).key}"
