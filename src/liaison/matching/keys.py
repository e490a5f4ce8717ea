"""Candidate (blocking) keys: what a record shares with the records that may be the same person.

Keys are plain strings ``kind:value`` so that the memory index and the database store the same
thing. A stored record gets its exact keys; a query adds tolerant variants of its date keys (day
and month swapped, a year either side), so every tolerance is paid once, at query time.

Kinds:

- ``nn`` two name-part skeletons (any order, any script): finds spelling and script variants
  of the same name;
- ``ny`` one name-part skeleton and the birth year: finds records with one name part changed
  (a married name, an alias given name);
- ``dd`` the full birth date and the initial of a name-part skeleton or consonant key: finds
  records whose names were written very differently;
- ``id`` an identifier (document, national number, phone, e-mail mailbox, IBAN, VIN, plate,
  firearm serial);
- ``ad`` postcode and house number;
- ``nd`` one name-part skeleton and the birth day and month: finds records whose birth year
  was mistyped or misremembered (``ny`` finds those whose day or month was);
- ``nh`` one name-part skeleton and the house number: finds records at one address whose
  postcode or town was mistyped (or left out);
- ``em`` parts of an e-mail mailbox: its name alone (another provider, a mistyped domain) and
  the domain with the name's first or last three letters (a typing error in the name).

Every kind is bounded by the same rule: deduplication pairs records within a key only when few
records hold it, and search skips keys held by many, so a common e-mail domain or name costs
nothing.
"""

from __future__ import annotations

import itertools

from liaison.matching.dates import PartialDate
from liaison.matching.features import abjad_keys
from liaison.matching.identifiers import mailbox
from liaison.matching.record import Prepared

KEY_KINDS = ("nn", "ny", "dd", "id", "ad", "nd", "em", "nh")
# E-mail names shorter than this say too little to be keys of their own.
MIN_MAILBOX_NAME = 4
# Name parts used for keys: the longest skeletons say the most; a record keeps at most this many.
MAX_KEY_PARTS = 8


def _years(dob: PartialDate | None, *, tolerant: bool) -> list[int]:
    if dob is None:
        return []
    return [dob.year, dob.year - 1, dob.year + 1] if tolerant else [dob.year]


def _dates(dob: PartialDate | None, *, tolerant: bool) -> list[str]:
    if dob is None or dob.day is None or dob.month is None:
        return []
    dates = [f"{dob.year}{dob.month:02d}{dob.day:02d}"]
    if tolerant:
        if dob.day <= 12 and dob.day != dob.month:
            dates.append(f"{dob.year}{dob.day:02d}{dob.month:02d}")
        dates += [f"{dob.year + d}{dob.month:02d}{dob.day:02d}" for d in (-1, 1)]
    return dates


def _days(dob: PartialDate | None, *, tolerant: bool) -> list[str]:
    if dob is None or dob.day is None or dob.month is None:
        return []
    days = [f"{dob.month:02d}{dob.day:02d}"]
    if tolerant and dob.day <= 12 and dob.day != dob.month:
        days.append(f"{dob.day:02d}{dob.month:02d}")
    return days


def mailbox_keys(address: str) -> list[str]:
    """The ``em`` keys of an e-mail address: the mailbox name alone, and the domain with the
    name's first and with its last three characters (one typing error leaves one of them)."""
    name, _, domain = mailbox(address).rpartition("@")
    if not name or not domain:
        return []
    keys = [f"em:@{domain}|{name[:3]}", f"em:@{domain}|~{name[-3:]}"]
    if len(name) >= MIN_MAILBOX_NAME:
        keys.append(f"em:{name}")
    return keys


def name_skeletons(p: Prepared) -> list[str]:
    """The skeletons keys are built from: longest (most telling) first, then alphabetical."""
    return sorted(p.skeletons, key=lambda s: (-len(s), s))[:MAX_KEY_PARTS]


def identifier_keys(p: Prepared) -> list[str]:
    keys = []
    for kind, key in sorted(p.identifiers.items()):
        if kind == "email":
            key = mailbox(key)
        keys.append(f"id:{kind}:{key}")
        if kind == "firearm" and ":" in key:
            keys.append(f"id:{kind}:{key.rpartition(':')[2]}")
    return keys


def _consonant_initials(p: Prepared) -> set[str]:
    """First letters of the name parts' consonant keys (``features.abjad_keys``, without the
    article): a name written without its vowels or its article (إبراهيم → brhym, الزين → lzyn)
    keeps the initial its vocalised spelling (Ibrahim, Zein) has there."""
    return {bare[0].upper() for alt in p.names for t in alt if (bare := abjad_keys(t)[1])}


def candidate_keys(p: Prepared, *, query: bool = False) -> set[str]:
    """The blocking keys of a record; ``query=True`` adds the tolerant date variants."""
    keys: set[str] = set()
    skeletons = name_skeletons(p)
    for a, b in itertools.combinations(sorted(skeletons), 2):
        keys.add(f"nn:{a}|{b}")
    # A query's year tolerance is for partial dates: with a full date, a year off by one is
    # found by the name + day and month keys (``nd``), and a day or month off as well by the
    # name + exact year; the tolerant years would treble the candidates for nothing.
    full = p.dob is not None and p.dob.day is not None and p.dob.month is not None
    for year in _years(p.dob, tolerant=query and not full):
        for s in skeletons:
            keys.add(f"ny:{s}|{year}")
    for day in _days(p.dob, tolerant=query):
        for s in skeletons:
            keys.add(f"nd:{s}|{day}")
    initials = sorted({s[0] for s in skeletons} | _consonant_initials(p))
    for date in _dates(p.dob, tolerant=query):
        for initial in initials:
            keys.add(f"dd:{date}|{initial}")
        if not initials:
            keys.add(f"dd:{date}")
    keys.update(identifier_keys(p))
    if "email" in p.identifiers:
        keys.update(mailbox_keys(p.identifiers["email"]))
    if p.postcode and p.street_number:
        keys.add(f"ad:{p.postcode}|{p.street_number}")
    if p.street_number:
        for s in skeletons:
            keys.add(f"nh:{s}|{p.street_number}")
    return keys


def key_kind(key: str) -> str:
    """The kind of a key (one of ``KEY_KINDS``)."""
    return key.partition(":")[0]
