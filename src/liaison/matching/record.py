"""Records to match: raw fields in, prepared (normalised once) fields and candidate keys out."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

from liaison.matching import identifiers as ids
from liaison.matching.dates import PartialDate, parse_date
from liaison.matching.text import content_tokens, equivalent, skeleton, to_ascii, tokens

# Every field a person record may carry. Everything recognised takes part in the comparison.
FIELDS = (
    "full_name",
    "given_name",
    "middle_name",
    "family_name",
    "name_original",
    "dob",
    "gender",
    "nationality",
    "birth_place",
    "document_number",
    "document_country",
    "national_id",
    "phone",
    "email",
    "address",
    "street",
    "street_number",
    "suburb",
    "city",
    "state",
    "postcode",
    "country",
    "iban",
    "vin",
    "plate",
    "plate_country",
    "firearm_make",
    "firearm_serial",
)

_GENDERS = {
    "m": "M",
    "male": "M",
    "man": "M",
    "f": "F",
    "female": "F",
    "woman": "F",
    "w": "F",
    "x": "X",
}


@dataclass(slots=True)
class Prepared:
    """A record normalised for matching. Built once, at write time."""

    ref: str
    names: tuple[
        tuple[str, ...], ...
    ]  # alternative token lists (Latin as written, original script)
    given: tuple[str, ...]
    family: tuple[str, ...]
    symbols: frozenset[str]
    skeletons: frozenset[str]
    dob: PartialDate | None
    gender: str | None
    nationality: str | None
    birth_place: str | None
    identifiers: dict[str, str] = field(default_factory=dict)
    address: tuple[str, ...] = ()
    postcode: str | None = None
    street_number: str | None = None
    flags: tuple[str, ...] = ()
    display_name: str = ""

    def name_tokens(self) -> tuple[str, ...]:
        return self.names[0] if self.names else ()


def _get(raw: Mapping[str, object], name: str) -> str:
    value = raw.get(name)
    return str(value).strip() if value is not None else ""


def _country(value: str) -> str | None:
    value = value.strip().upper()
    return value[:3] if value and value.isalpha() else None


def prepare(raw: Mapping[str, object], ref: str | None = None) -> Prepared:
    """Normalise one record (a mapping of FIELDS) for comparison and indexing. Never raises."""
    given_raw, middle_raw, family_raw = (
        _get(raw, "given_name"),
        _get(raw, "middle_name"),
        _get(raw, "family_name"),
    )
    full_raw, original_raw = _get(raw, "full_name"), _get(raw, "name_original")
    given = tuple(content_tokens(tokens(given_raw)))
    middle = tuple(content_tokens(tokens(middle_raw)))
    family = tuple(content_tokens(tokens(family_raw)))
    alternatives: list[tuple[str, ...]] = []
    structured = given + middle + family
    if structured:
        alternatives.append(structured)
    if full_raw:
        full = tuple(content_tokens(tokens(full_raw)))
        if full and sorted(full) != sorted(structured):
            alternatives.append(full)
    if original_raw:
        original = tuple(content_tokens(tokens(original_raw)))
        if original:
            alternatives.append(original)
    all_tokens = {t for alt in alternatives for t in alt}
    symbols = frozenset(equivalent(t) for t in all_tokens)
    skeletons = frozenset(s for s in (skeleton(t) for t in all_tokens | symbols) if s)
    country = _country(_get(raw, "document_country")) or _country(_get(raw, "nationality"))
    residence = _country(_get(raw, "country")) or country
    identifiers: dict[str, str] = {}
    flags: list[str] = []
    for kind, value, where in (
        ("document", _get(raw, "document_number"), country),
        ("national_id", _get(raw, "national_id"), None),
        ("phone", _get(raw, "phone"), residence),
        ("email", _get(raw, "email"), None),
        ("iban", _get(raw, "iban"), None),
        ("vin", _get(raw, "vin"), None),
        ("plate", _get(raw, "plate"), _country(_get(raw, "plate_country"))),
        (
            "firearm",
            f"{_get(raw, 'firearm_make')}|{_get(raw, 'firearm_serial')}"
            if _get(raw, "firearm_serial")
            else "",
            None,
        ),
    ):
        if not value:
            continue
        ident = ids.clean(kind, value, where)
        # Documents are compared without the country prefix: the country is often missing.
        identifiers[kind] = (
            ident.key.split(":", 1)[-1] if kind in ("document", "plate") else ident.key
        )
        if not ident.valid:
            flags.append(f"{kind}: {ident.problem}")
    address_parts = [
        _get(raw, k)
        for k in ("address", "street", "street_number", "suburb", "city", "state", "postcode")
    ]
    address = tuple(t for part in address_parts if part for t in tokens(part))
    gender = _GENDERS.get(_get(raw, "gender").lower())
    place = " ".join(tokens(_get(raw, "birth_place"))) or None
    dob_raw = _get(raw, "dob")
    dob = parse_date(dob_raw)
    if dob_raw and dob is None:
        flags.append(f"dob: unreadable date {dob_raw[:40]!r}")
    display = (
        " ".join(p for p in (given_raw, middle_raw, family_raw) if p) or full_raw or original_raw
    )
    return Prepared(
        ref=ref if ref is not None else _get(raw, "id"),
        names=tuple(alternatives),
        given=given,
        family=family,
        symbols=symbols,
        skeletons=skeletons,
        dob=dob,
        gender=gender,
        nationality=_country(_get(raw, "nationality")),
        birth_place=place,
        identifiers=identifiers,
        address=address,
        postcode=_get(raw, "postcode") or None,
        street_number=_get(raw, "street_number") or None,
        flags=tuple(flags),
        display_name=display,
    )


def _date_variants(dob: PartialDate | None, *, tolerant: bool) -> list[str]:
    if dob is None:
        return []
    years = [dob.year, dob.year - 1, dob.year + 1] if tolerant else [dob.year]
    return [str(y) for y in years]


def _full_dates(dob: PartialDate | None, *, tolerant: bool) -> list[str]:
    if dob is None or dob.day is None or dob.month is None:
        return []
    dates = [f"{dob.year}{dob.month:02d}{dob.day:02d}"]
    if tolerant:
        if dob.day <= 12 and dob.day != dob.month:
            dates.append(f"{dob.year}{dob.day:02d}{dob.month:02d}")
        dates += [f"{dob.year + d}{dob.month:02d}{dob.day:02d}" for d in (-1, 1)]
    return dates


def candidate_keys(p: Prepared, *, query: bool = False) -> set[str]:
    """Blocking keys: name-skeleton pairs, name + birth year, birth date + initial, identifiers.

    A query uses tolerant variants (day/month swapped, ±1 year) of the date keys, so that the
    stored side needs only its own exact keys.
    """
    keys: set[str] = set()
    skeletons = sorted(p.skeletons)[:12]
    for a, b in itertools.combinations(skeletons, 2):
        keys.add(f"nn:{a}|{b}")
    for year in _date_variants(p.dob, tolerant=query):
        for s in skeletons:
            keys.add(f"ny:{s}|{year}")
    initials = {s[0] for s in skeletons}
    for date in _full_dates(p.dob, tolerant=query):
        for initial in initials:
            keys.add(f"dd:{date}|{initial}")
        if not initials:
            keys.add(f"dd:{date}")
    for kind, key in p.identifiers.items():
        keys.add(f"id:{kind}:{key}")
    if p.postcode and p.street_number:
        keys.add(f"ad:{p.postcode}|{p.street_number}")
    return keys


def ascii_name(p: Prepared) -> str:
    return " ".join(p.name_tokens())


def place_key(value: str) -> str:
    return " ".join(tokens(to_ascii(value)))
