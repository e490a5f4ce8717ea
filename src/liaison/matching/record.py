"""Records to match: raw fields in, a prepared (normalised once, at write time) record out."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from liaison.matching import identifiers as ids
from liaison.matching.countries import country_code
from liaison.matching.dates import PartialDate, parse_date
from liaison.matching.mrz import MRZ, parse_mrz
from liaison.matching.text import (
    content_tokens,
    equivalent,
    han_family_reading,
    script_of,
    skeleton,
    tokens,
    ukrainian_latin,
)

# A name keeps at most this many parts and a record this many spellings of its name; longer
# names keep their first parts and their last (the family name in most conventions).
MAX_PARTS = 6
MAX_ALTERNATIVES = 3
MAX_ADDRESS_PARTS = 10


@dataclass(slots=True)
class PersonRecord:
    """The raw fields of a person record as a capability holds them (all optional text).

    ``mrz`` takes the lines of a machine-readable zone (joined by line breaks); what it says
    fills the fields the record leaves empty.
    """

    full_name: str = ""
    given_name: str = ""
    middle_name: str = ""
    family_name: str = ""
    name_original: str = ""
    dob: str = ""
    gender: str = ""
    nationality: str = ""
    birth_place: str = ""
    document_number: str = ""
    document_country: str = ""
    national_id: str = ""
    national_id_country: str = ""
    mrz: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    street: str = ""
    street_number: str = ""
    suburb: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    country: str = ""
    iban: str = ""
    vin: str = ""
    plate: str = ""
    plate_country: str = ""
    firearm_make: str = ""
    firearm_serial: str = ""


# Every field a person record may carry. Everything recognised takes part in the comparison.
FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(PersonRecord))

_GENDERS = {
    "m": "M",
    "male": "M",
    "man": "M",
    "mann": "M",
    "h": "M",
    "homme": "M",
    "f": "F",
    "female": "F",
    "woman": "F",
    "w": "F",
    "frau": "F",
    "femme": "F",
    "k": "F",
    "x": "X",
}


@dataclass(slots=True)
class Prepared:
    """A record normalised for matching. Built once, at write time; never mutated after.

    ``names`` holds up to three spellings of the name (as structured fields, as a full name,
    in the original script), each a tuple of ASCII name parts without particles and titles.
    ``identifiers`` maps each identifier kind to its comparison key (see ``identifiers``).
    """

    ref: str
    names: tuple[tuple[str, ...], ...] = ()
    script: str = "latin"
    dob: PartialDate | None = None
    gender: str | None = None
    nationality: str | None = None
    birth_place: str | None = None
    identifiers: dict[str, str] = field(default_factory=dict)
    address: tuple[str, ...] = ()
    postcode: str | None = None
    street_number: str | None = None
    flags: tuple[str, ...] = ()
    display_name: str = ""

    def name_tokens(self) -> tuple[str, ...]:
        return self.names[0] if self.names else ()

    @property
    def symbols(self) -> frozenset[str]:
        """Name-equivalence symbols of every name part (Mohamed and Muhammad share one)."""
        return frozenset(equivalent(t) for alt in self.names for t in alt)

    @property
    def skeletons(self) -> frozenset[str]:
        """Consonant skeletons of every name part and of its symbol (for candidate keys)."""
        parts = {t for alt in self.names for t in alt}
        return frozenset(s for s in (skeleton(t) for t in parts | self.symbols) if s)


def _fields(raw: Mapping[str, object] | PersonRecord) -> dict[str, str]:
    """The non-empty fields of a record, as stripped text."""
    if isinstance(raw, PersonRecord):
        items: list[tuple[str, object]] = [(name, getattr(raw, name)) for name in FIELDS]
    else:
        items = list(raw.items())
    fields = {}
    for name, value in items:
        if value is None or value == "":
            continue
        text = (value if isinstance(value, str) else str(value)).strip()
        if text:
            fields[str(name)] = text
    return fields


def _limit(parts: tuple[str, ...]) -> tuple[str, ...]:
    if len(parts) <= MAX_PARTS:
        return parts
    return parts[: MAX_PARTS - 1] + parts[-1:]


@lru_cache(maxsize=200_000)
def _name_parts(text: str) -> tuple[str, ...]:
    if not text:
        return ()
    return _limit(content_tokens(tokens(text), titles=script_of(text) == "latin"))


def _add(alternatives: list[tuple[str, ...]], parts: tuple[str, ...]) -> None:
    new = all(sorted(parts) != sorted(alt) for alt in alternatives)
    if parts and new and len(alternatives) < MAX_ALTERNATIVES:
        alternatives.append(parts)


@lru_cache(maxsize=100_000)
def _names(
    given: str, middle: str, family: str, full: str, original: str
) -> tuple[tuple[str, ...], ...]:
    alternatives: list[tuple[str, ...]] = []
    structured = _limit(_name_parts(given) + _name_parts(middle) + _name_parts(family))
    _add(alternatives, structured)
    _add(alternatives, _name_parts(full))
    _add(alternatives, _name_parts(original))
    # Ukrainian names as Ukrainian passports spell them (Сергій → Serhii as well as sergii).
    for text in (" ".join(t for t in (given, middle, family) if t), full, original):
        ukrainian = ukrainian_latin(text) if text else None
        if ukrainian:
            _add(alternatives, _name_parts(ukrainian))
    # A Han family name with a reading of its own (单 is Shan, not Dan). Full names in Han are
    # written family name first.
    if family and script_of(family) == "han":
        reading = han_family_reading(family)
        if reading:
            first = _name_parts(given) + _name_parts(middle)
            _add(alternatives, _limit(first + _name_parts(reading)))
    for text in (full, original):
        if text and script_of(text) == "han":
            reading = han_family_reading(text)
            if reading:
                _add(alternatives, _name_parts(reading))
    return tuple(alternatives)


@lru_cache(maxsize=10_000)
def _read_mrz(text: str) -> MRZ | str:
    try:
        return parse_mrz(text)
    except ValueError as exc:
        return str(exc)


def _mrz(raw: dict[str, str], flags: list[str]) -> MRZ | None:
    text = raw.get("mrz", "")
    if not text:
        return None
    zone = _read_mrz(text)
    if isinstance(zone, str):
        flags.append(f"mrz: {zone}")
        return None
    if zone.errors:
        flags.append(f"mrz: check digit wrong for {', '.join(zone.errors)}")
    return zone


def prepare(raw: Mapping[str, object] | PersonRecord, ref: str | None = None) -> Prepared:
    """Normalise one record (a ``PersonRecord`` or a mapping of ``FIELDS``). Never raises.

    Invalid identifiers and unreadable dates are kept as given and listed in ``flags``.
    """
    flags: list[str] = []
    fields = _fields(raw)
    zone = _mrz(fields, flags)
    given, middle = fields.get("given_name", ""), fields.get("middle_name", "")
    family, full, original = (
        fields.get("family_name", ""),
        fields.get("full_name", ""),
        fields.get("name_original", ""),
    )
    if zone and not (given or family or full):
        given, family = zone.given, zone.family
    alternatives = _names(given, middle, family, full, original)
    nationality = country_code(fields.get("nationality", "")) or (
        zone.nationality_country() if zone else None
    )
    document_country = country_code(fields.get("document_country", "")) or (
        zone.issuing_country() if zone else None
    )
    residence = country_code(fields.get("country", "")) or document_country or nationality
    identifiers: dict[str, str] = {}
    firearm_serial = fields.get("firearm_serial", "")
    for kind, value, where in (
        (
            "document",
            fields.get("document_number", "") or (zone.number if zone else ""),
            document_country,
        ),
        (
            "national_id",
            fields.get("national_id", ""),
            fields.get("national_id_country", "") or nationality,
        ),
        ("phone", fields.get("phone", ""), residence),
        ("email", fields.get("email", ""), None),
        ("iban", fields.get("iban", ""), None),
        ("vin", fields.get("vin", ""), None),
        ("plate", fields.get("plate", ""), fields.get("plate_country", "") or None),
        (
            "firearm",
            f"{fields.get('firearm_make', '')}|{firearm_serial}" if firearm_serial else "",
            None,
        ),
    ):
        if not value:
            continue
        ident = ids.clean(kind, value, where)
        if not ident.key:
            flags.append(f"{kind}: nothing usable in {value[:40]!r}")
            continue
        identifiers[kind] = ident.key
        if not ident.valid:
            flags.append(f"{kind}: {ident.problem}")
    address_parts: list[str] = []
    for key in ("address", "street", "street_number", "suburb", "city", "state", "postcode"):
        for token in tokens(fields.get(key, "")):
            if token not in address_parts and len(address_parts) < MAX_ADDRESS_PARTS:
                address_parts.append(token)
    dob_raw = fields.get("dob", "")
    dob = parse_date(dob_raw)
    if dob_raw and dob is None:
        flags.append(f"dob: unreadable date {dob_raw[:40]!r}")
    if dob is None and zone is not None:
        dob = zone.birth_date()
    gender = _GENDERS.get(fields.get("gender", "").lower()) or (zone.gender() if zone else None)
    place = " ".join(tokens(fields.get("birth_place", ""))) or None
    display = " ".join(p for p in (given, middle, family) if p) or full or original
    script = script_of(original or full or display)
    return Prepared(
        ref=ref if ref is not None else fields.get("id", ""),
        names=alternatives,
        script=script,
        dob=dob,
        gender=gender,
        nationality=nationality,
        birth_place=place,
        identifiers=identifiers,
        address=tuple(address_parts),
        postcode=fields.get("postcode", "").upper().replace(" ", "") or None,
        street_number=fields.get("street_number", "") or None,
        flags=tuple(flags),
        display_name=display,
    )
