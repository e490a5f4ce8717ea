"""Identifiers: one registry of value types, each owning its clean, validate, compare, specificity.

``clean(kind, value, country)`` gives an ``Identifier`` whose ``key`` is what equality, indexes
and alert look-ups use. **Invalid identifiers are kept as given and flagged**, never dropped: a
mistyped passport number is still evidence, just weaker. Keys leave the country out (it is often
missing on one side); ``Identifier.country`` keeps it for display and confirmation.
"""

from __future__ import annotations

import csv
import importlib
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import ModuleType
from typing import Any, ClassVar

import phonenumbers
from rapidfuzz.distance import OSA, Levenshtein
from stdnum import bic as stdnum_bic
from stdnum import numdb
from stdnum.iso7064 import mod_97_10
from stdnum.util import get_cc_module

from liaison.matching.countries import country_code
from liaison.matching.mrz import MRZ, mrz_check, parse_mrz
from liaison.matching.text import to_ascii

__all__ = [
    "MRZ",
    "REGISTRY",
    "Identifier",
    "IdentifierType",
    "clean",
    "identifier_key",
    "match_identifier",
    "mrz_check",
    "parse_mrz",
]

_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
# Letters national plate and document schemes borrow from Cyrillic and Greek because they look
# Latin; a camera or an officer reads them as the Latin letters.
_LOOKALIKES = str.maketrans("АВЕКМНОРСТУХІЈЅΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEKMHOPCTYXIJSABEZHIKMNOPTYX")


@dataclass(frozen=True, slots=True)
class Identifier:
    """A cleaned identifier: ``key`` is what equality and indexes use; ``valid`` may be False."""

    kind: str
    key: str
    raw: str
    valid: bool
    problem: str | None = None
    country: str | None = None


def _compact(value: str) -> str:
    return _NOT_ALNUM.sub("", value.upper().translate(_LOOKALIKES))


_NOT_ASCII_ALNUM = re.compile(r"[^0-9A-Za-z]")
_NO_DIGITS = str.maketrans("", "", "0123456789")


def _entropy_bits(key: str) -> float:
    """Bits of a value drawn uniformly from its character classes (digits 3.3, letters 4.7)."""
    core = _NOT_ASCII_ALNUM.sub("", key)
    digits = len(core) - len(core.translate(_NO_DIGITS))
    return 3.32 * digits + 4.7 * (len(core) - digits)


class IdentifierType:
    """Behaviour of one kind of identifier. Subclasses override what differs."""

    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""
    levels: ClassVar[tuple[str, ...]] = ("exact", "different")

    def normalise(self, value: str, country: str | None) -> str:
        """The canonical comparison key of ``value``."""
        return _compact(value)

    def validate(self, key: str, country: str | None) -> str | None:
        """What is wrong with ``key`` (None when it is valid)."""
        return None if key else "empty"

    def clean(self, value: str, country: str | None = None) -> Identifier:
        """Normalise and validate; the identifier is kept whatever the verdict."""
        country = country_code(country)
        key = self.normalise(value, country)
        problem = self.validate(key, country)
        return Identifier(self.kind, key, value, problem is None, problem, country)

    def compare(self, a: str, b: str) -> str:
        """The level at which two keys agree (one of ``levels``)."""
        return "exact" if a == b else "different"

    def specificity(self, key: str) -> float:
        """How identifying a value is, 0–1: 1 when it carries 40 bits or more (one in a
        trillion), less for short numbers that strangers may share by chance."""
        return min(1.0, _entropy_bits(key) / 40.0)


class DocumentType(IdentifierType):
    """Identity-document numbers: upper case, separators removed; one typo (a character
    changed, left out, added, or two neighbours swapped) is a near match."""

    kind = "document"
    label = "identity document number"
    levels = ("exact", "close", "different")

    def validate(self, key: str, country: str | None) -> str | None:
        if not 5 <= len(key) <= 20:
            return "document numbers have 5–20 letters or digits"
        return None

    def compare(self, a: str, b: str) -> str:
        if a == b:
            return "exact"
        if min(len(a), len(b)) >= 6 and OSA.distance(a, b, score_cutoff=1) <= 1:
            return "close"
        return "different"


@lru_cache(maxsize=1)
def _national_schemes() -> dict[str, str]:
    text = resources.files("liaison.matching").joinpath("data/national_ids.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#"))
    return {row["country"]: row["module"] for row in rows}


@lru_cache(maxsize=64)
def _national_module(country: str) -> ModuleType | None:
    name = _national_schemes().get(country)
    return importlib.import_module(f"stdnum.{name}") if name else None


class NationalIdType(DocumentType):
    """Personal identification numbers, checked with python-stdnum when the country is known."""

    kind = "national_id"
    label = "national identification number"

    def validate(self, key: str, country: str | None) -> str | None:
        if len(key) < 4:
            return "too short for a national number"
        module = _national_module(country) if country else None
        if module is not None and not module.is_valid(key):
            return f"not a valid {country} personal number ({module.__name__.split('.')[-1]})"
        return None


class PhoneType(IdentifierType):
    """Phones in E.164 (libphonenumber); a national number needs the country to be read."""

    kind = "phone"
    label = "phone number"

    def clean(self, value: str, country: str | None = None) -> Identifier:
        country = country_code(country)
        text = value.strip()
        if text.startswith("00"):
            text = "+" + text[2:]
        try:
            number = phonenumbers.parse(text, country)
        except phonenumbers.NumberParseException as exc:
            digits = re.sub(r"\D", "", value)
            return Identifier(
                self.kind, digits, value, False, f"unreadable phone number ({exc})", country
            )
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        region = phonenumbers.region_code_for_number(number) or country
        if not phonenumbers.is_valid_number(number):
            problem = "not a valid number for its country"
            return Identifier(self.kind, e164, value, False, problem, region)
        return Identifier(self.kind, e164, value, True, None, region)


_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
# Providers that ignore dots in the mailbox name and deliver name+tag to name.
_DOTLESS = frozenset({"gmail.com", "googlemail.com"})
# Providers that deliver name+tag to name (sub-addressing) but keep dots.
_PLUS_TAGS = frozenset(
    {"outlook.com", "hotmail.com", "live.com", "icloud.com", "me.com", "fastmail.com"}
    | {"proton.me", "protonmail.com", "yahoo.com", "gmx.de", "gmx.net", "web.de"}
)


def mailbox(address: str) -> str:
    """The mailbox an address delivers to: Gmail ignores dots and +tags, several providers
    ignore +tags; googlemail.com is gmail.com. Other addresses are returned unchanged."""
    local, _, domain = address.rpartition("@")
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain in _DOTLESS or domain in _PLUS_TAGS:
        local = local.split("+", 1)[0]
    if domain in _DOTLESS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


# Mailboxes this long or longer may differ by typing errors and still be one.
EMAIL_TYPO_LENGTH = 8
EMAIL_TYPO_EDITS = 2


def email_typo(a: str, b: str) -> bool:
    """Two mailboxes written with one or two typing errors (a letter left out, doubled, changed
    or moved: ``f.b@reese.com`` / ``fb@reese.com``); both at least ``EMAIL_TYPO_LENGTH`` long.
    Mailboxes that differ only in their digits (``anna1@`` / ``anna2@``) are numbered accounts,
    not typos."""
    if min(len(a), len(b)) < EMAIL_TYPO_LENGTH:
        return False
    if Levenshtein.distance(a, b, score_cutoff=EMAIL_TYPO_EDITS) > EMAIL_TYPO_EDITS:
        return False
    return a.translate(_NO_DIGITS) != b.translate(_NO_DIGITS)


class EmailType(IdentifierType):
    """E-mails: trimmed and lower-cased; the same mailbox (Gmail dots, +tags) is a near match,
    the same mailbox name at another provider a weaker one, and mailboxes one or two typing
    errors apart weaker still."""

    kind = "email"
    label = "e-mail"
    levels = ("exact", "mailbox", "close", "typo", "different")

    def normalise(self, value: str, country: str | None) -> str:
        return value.strip().lower()

    def validate(self, key: str, country: str | None) -> str | None:
        return None if _EMAIL.match(key) else "not an e-mail address"

    def compare(self, a: str, b: str) -> str:
        if a == b:
            return "exact"
        if mailbox(a) == mailbox(b):
            return "mailbox"
        local_a, local_b = mailbox(a).rpartition("@")[0], mailbox(b).rpartition("@")[0]
        if local_a == local_b and len(local_a) > 3:
            return "close"
        if email_typo(mailbox(a), mailbox(b)):
            return "typo"
        return "different"


@lru_cache(maxsize=256)
def _iban_format(country: str) -> tuple[re.Pattern[str] | None, Any]:
    """The national BBAN structure from python-stdnum's IBAN registry, and the country's own
    IBAN checks where stdnum has them (looked up once per country)."""
    info = numdb.get("iban").info(country)
    structure = info[0][1].get("bban") if info and info[0][1] else None
    if not structure:
        return None, None
    pattern = re.sub(
        r"(\d+)!([nac])",
        lambda m: {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Z0-9]"}[m.group(2)] + f"{{{m.group(1)}}}",
        structure,
    )
    return re.compile(f"^{pattern}$"), get_cc_module(country.lower(), "iban")


class IbanType(IdentifierType):
    """IBANs: compacted, mod-97 check digits and national format verified (python-stdnum's
    checksum, registry and national checks; the registry is read once per country)."""

    kind = "iban"
    label = "IBAN"

    def normalise(self, value: str, country: str | None) -> str:
        return _compact(value)

    def validate(self, key: str, country: str | None) -> str | None:
        if len(key) < 5 or not mod_97_10.is_valid(key[4:] + key[:4]):
            return "IBAN check digits wrong"
        pattern, national = _iban_format(key[:2])
        if pattern is None:
            return f"no IBAN format for country {key[:2]!r}"
        if not pattern.match(key[4:]):
            return f"not the {key[:2]} IBAN format"
        if national is not None and not national.is_valid(key):
            return f"fails the {key[:2]} national account checks"
        return None


class BicType(IdentifierType):
    """BICs (ISO 9362): a primary-office BIC is the same with or without ``XXX``."""

    kind = "bic"
    label = "BIC"

    def normalise(self, value: str, country: str | None) -> str:
        key = str(stdnum_bic.compact(value))
        return key[:8] if key[8:] == "XXX" else key

    def validate(self, key: str, country: str | None) -> str | None:
        return None if stdnum_bic.is_valid(key) else "not a BIC"


_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# The check digit is compulsory for vehicles made for North America (WMI 1–5); elsewhere
# makers may use the ninth position for other data, so only the structure is checked there.
_NORTH_AMERICA = frozenset("12345")


def vin_check_digit(vin: str) -> str:
    """The ISO 3779 / 49 CFR 565 check digit of a 17-character VIN."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    return "X" if total % 11 == 10 else str(total % 11)


class VinType(IdentifierType):
    """VINs (ISO 3779): 17 characters without I, O, Q; the check digit where it is compulsory."""

    kind = "vin"
    label = "VIN"

    def validate(self, key: str, country: str | None) -> str | None:
        if len(key) != 17 or set(key) & set("IOQ"):
            return "a VIN has 17 characters and no I, O or Q"
        if key[0] in _NORTH_AMERICA and vin_check_digit(key) != key[8]:
            return "check digit (9th character) does not match"
        return None


# Distinguishing signs of vehicles in international traffic (Vienna Convention) that are not
# ISO 3166 codes.
_PLATE_SIGNS = {
    "A": "AT",
    "B": "BE",
    "D": "DE",
    "E": "ES",
    "F": "FR",
    "H": "HU",
    "I": "IT",
    "L": "LU",
    "M": "MT",
    "N": "NO",
    "P": "PT",
    "S": "SE",
    "V": "VA",
    "FL": "LI",
    "UK": "GB",
    "GBZ": "GI",
    "GBJ": "JE",
    "GBG": "GG",
    "GBM": "IM",
    "SLO": "SI",
    "RSM": "SM",
    "NMK": "MK",
    "RKS": "XK",
}


def plate_country(value: str | None) -> str | None:
    """A registration country given as an ISO code, a name or an international plate sign."""
    if not value:
        return None
    return _PLATE_SIGNS.get(value.strip().upper()) or country_code(value)


class PlateType(IdentifierType):
    """Number plates: separators removed, upper case, Cyrillic and Greek look-alike letters read
    as Latin, and O/0 and I/1 folded together (misreadings no plate scheme tells apart by
    position alone). The registering country is kept beside the key."""

    kind = "plate"
    label = "number plate"

    def normalise(self, value: str, country: str | None) -> str:
        return _compact(value).replace("O", "0").replace("I", "1")

    def clean(self, value: str, country: str | None = None) -> Identifier:
        where = plate_country(country)
        key = self.normalise(value, where)
        problem = None if 2 <= len(key) <= 12 else "plates have 2–12 letters or digits"
        return Identifier(self.kind, key, value, problem is None, problem, where)


@lru_cache(maxsize=1)
def _firearm_makes() -> dict[str, str]:
    text = resources.files("liaison.matching").joinpath("data/firearm_makes.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#"))
    return {row["alias"]: row["make"] for row in rows}


def firearm_make(value: str) -> str:
    """The canonical make of a firearm maker as written (Heckler & Koch, H&K, HK → one)."""
    words = " ".join(re.split(r"[^a-z0-9]+", to_ascii(value))).strip()
    return _firearm_makes().get(words, words.upper())


class FirearmType(IdentifierType):
    """Firearm serials with their make (``make|serial``): serials repeat across makers, so the
    key carries the canonical make when one is given."""

    kind = "firearm"
    label = "firearm serial"

    def clean(self, value: str, country: str | None = None) -> Identifier:
        make, _, serial = value.rpartition("|")
        serial_key = _compact(serial)
        key = f"{firearm_make(make)}:{serial_key}" if make.strip() else serial_key
        problem = None if len(serial_key) >= 3 else "serial numbers have at least 3 characters"
        return Identifier(self.kind, key, value, problem is None, problem, country_code(country))

    def compare(self, a: str, b: str) -> str:
        if a == b:
            return "exact"
        # One side without a make: the serials alone agree.
        serial_a, serial_b = a.rpartition(":")[2], b.rpartition(":")[2]
        if serial_a == serial_b and (":" not in a or ":" not in b):
            return "exact"
        return "different"

    def specificity(self, key: str) -> float:
        return min(1.0, _entropy_bits(key.rpartition(":")[2]) / 40.0 + (0.2 if ":" in key else 0))


REGISTRY: dict[str, IdentifierType] = {
    t.kind: t
    for t in (
        DocumentType(),
        NationalIdType(),
        PhoneType(),
        EmailType(),
        IbanType(),
        BicType(),
        VinType(),
        PlateType(),
        FirearmType(),
    )
}


def identifier_type(kind: str) -> IdentifierType:
    try:
        return REGISTRY[kind]
    except KeyError:
        raise ValueError(
            f"unknown identifier kind {kind!r}; known: {', '.join(REGISTRY)}"
        ) from None


@lru_cache(maxsize=262_144)
def clean(kind: str, value: str, country: str | None = None) -> Identifier:
    """Clean an identifier of ``kind`` (one of REGISTRY). Never raises on the value."""
    return identifier_type(kind).clean(value, country)


def match_identifier(kind: str, value: str, country: str | None = None) -> str:
    """The exact-lookup key of an identifier, for alerts on documents, plates, VINs, firearms.

    Two writings of one identifier give one key (``b-ab 1234`` and ``BAB1234``; an e-mail's
    mailbox). The country is not part of the key because one side often lacks it.
    """
    ident = clean(kind, value, country)
    key = mailbox(ident.key) if kind == "email" else ident.key
    return f"{kind}:{key}"


identifier_key = match_identifier


def specificity(kind: str, key: str) -> float:
    """How identifying a value of ``kind`` is, 0–1 (see ``IdentifierType.specificity``)."""
    return identifier_type(kind).specificity(key)


def identifier_bits(kind: str, key: str) -> int:
    """Bits of identifying information in a value (0–40): two unrelated values agree by chance
    with probability 2^-bits at least, whatever the data say."""
    return round(40 * identifier_type(kind).specificity(key))
