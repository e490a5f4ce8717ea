"""Identifiers of alert objects: canonical exact-lookup keys, strictly validated.

Documents, plates, VINs, firearms and IBANs use the matching engine (``clean`` and
``match_identifier``), so an alert and a check written differently (``B-AB 1234`` and
``bab1234``; ``H&K`` and ``Heckler & Koch``) meet on one key. Kinds the engine does not know
(hull and registration marks, serials, banknotes, card numbers, IMEIs) are compacted the same
way here. An alert refuses an identifier that fails its check — unlike a shared record, an
alert with a wrong number would stop the wrong object or miss the right one.

Firearms and banknotes have a *strong* key (make or currency with the serial) and a *weak*
one (the serial alone): a check that agrees only on the weak key is a possible hit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from stdnum import imei as stdnum_imei
from stdnum import luhn

from liaison.matching import clean, match_identifier
from liaison.matching.countries import country_code
from liaison.matching.identifiers import plate_country
from liaison.matching.text import to_ascii

# Kinds the matching engine cleans, and kinds cleaned here.
ENGINE_KINDS = ("document", "plate", "vin", "firearm", "iban")
LOCAL_KINDS = (
    "hull",
    "boat_registration",
    "aircraft_registration",
    "serial",
    "banknote",
    "card",
    "imei",
)
KINDS = (*ENGINE_KINDS, *LOCAL_KINDS)
KIND_LABELS = {
    "document": "identity, travel or registration document number",
    "plate": "number plate",
    "vin": "vehicle identification number (VIN)",
    "firearm": "firearm serial number (with its make)",
    "iban": "IBAN",
    "hull": "hull identification number",
    "boat_registration": "boat registration number",
    "aircraft_registration": "aircraft registration mark",
    "serial": "serial number",
    "banknote": "banknote serial number (with its currency)",
    "card": "payment card number",
    "imei": "IMEI",
}
# Kinds whose number is only unique within its issuing country: a country that differs makes
# the hit a possible one.
COUNTRY_KINDS = frozenset({"document", "plate", "boat_registration", "aircraft_registration"})
# Kinds with a make (or currency) that makes the key strong.
MAKE_KINDS = frozenset({"firearm", "banknote"})
MAX_VALUE = 100
_LENGTHS = {
    "hull": (8, 20),
    "boat_registration": (2, 20),
    "aircraft_registration": (2, 10),
    "serial": (3, 40),
    "banknote": (4, 20),
}
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


@dataclass(frozen=True, slots=True)
class ObjectKey:
    """An identifier as an alert stores it and a check looks it up.

    ``key`` is the strong key; ``weak`` the key of the serial alone (firearms, banknotes) or
    None; ``problem`` says why the value fails its check (None when valid).
    """

    kind: str
    value: str
    key: str
    weak: str | None = None
    country: str | None = None
    problem: str | None = None

    @property
    def valid(self) -> bool:
        return self.problem is None

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.key,) if self.weak is None or self.weak == self.key else (self.key, self.weak)


def compact(value: str) -> str:
    """Upper-case letters and digits only, other scripts' look-alikes read as Latin."""
    return _NOT_ALNUM.sub("", to_ascii(value).upper())


def text_problem(value: str) -> str | None:
    """Why a typed value cannot be read at all: control characters, unassigned or private-use
    code points (None when it can)."""
    if value.isascii() and value.isprintable():  # the common case, without a look per character
        return None
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cc" and ch not in "\t\n\r":
            return f"holds a control character (U+{ord(ch):04X})"
        if category in ("Cn", "Co", "Cs"):
            return f"holds an unassigned or private-use character (U+{ord(ch):04X})"
    return None


def object_key(
    kind: str, value: str, *, country: str | None = None, make: str | None = None
) -> ObjectKey:
    """The keys of one identifier, validated. Never raises on the value: ``problem`` says."""
    if kind not in KINDS:
        raise ValueError(f"unknown identifier kind {kind!r}; known: {', '.join(KINDS)}")
    text = " ".join(str(value).split())
    make_text = " ".join(str(make or "").split())
    problem = text_problem(str(value)) or text_problem(make_text)
    if problem is None and len(text) > MAX_VALUE:
        problem = f"is longer than {MAX_VALUE} characters"
    if problem is not None:
        return ObjectKey(kind, text[:MAX_VALUE], f"{kind}:", problem=problem)
    where = plate_country(country) if kind == "plate" else country_code(country)
    if kind in ENGINE_KINDS:
        return _engine(kind, text, where, make_text)
    return _local(kind, text, where, make_text)


def _engine(kind: str, text: str, country: str | None, make: str) -> ObjectKey:
    if kind == "firearm":
        serial = compact(text.rpartition("|")[2] if "|" in text else text)
        given_make = make or (text.rpartition("|")[0] if "|" in text else "")
        weak = f"firearm:{serial}"
        if not serial:
            return ObjectKey(kind, text, weak, problem="holds no letters or digits")
        ident = clean("firearm", f"{given_make}|{serial}" if given_make else serial)
        key = match_identifier("firearm", f"{given_make}|{serial}") if given_make else weak
        return ObjectKey(kind, text, key, weak, country, ident.problem)
    ident = clean(kind, text, country)
    key = match_identifier(kind, text, country)
    if not ident.key:
        return ObjectKey(kind, text, key, country=country, problem="holds no letters or digits")
    return ObjectKey(kind, text, key, None, country, ident.problem)


def _local(kind: str, text: str, country: str | None, make: str) -> ObjectKey:
    core = compact(text)
    if kind == "card":
        digits = re.sub(r"[\s-]", "", text)
        key = f"card:{digits}"
        if not digits.isdigit() or not 12 <= len(digits) <= 19:
            return ObjectKey(kind, text, key, problem="card numbers have 12–19 digits")
        if not luhn.is_valid(digits):
            return ObjectKey(kind, text, key, problem="card number check digit (Luhn) is wrong")
        return ObjectKey(kind, text, key)
    if kind == "imei":
        digits = re.sub(r"[\s/-]", "", text)
        key = f"imei:{digits[:14]}"  # the check digit and software version are not identity
        if not stdnum_imei.is_valid(digits):
            return ObjectKey(kind, text, key, problem="not a valid IMEI (15 digits, Luhn check)")
        return ObjectKey(kind, text, key)
    low, high = _LENGTHS[kind]
    problem = None if low <= len(core) <= high else f"has {low}–{high} letters or digits"
    if kind == "banknote":
        weak = f"banknote:{core}"
        currency = compact(make)
        key = f"banknote:{currency}:{core}" if currency else weak
        return ObjectKey(kind, text, key, weak, None, problem)
    return ObjectKey(kind, text, f"{kind}:{core}", None, country, problem)


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)
