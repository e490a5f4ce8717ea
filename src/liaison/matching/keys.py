"""Candidate (blocking) keys: what a record shares with the records that may be the same person.

Keys are plain strings ``kind:value`` so that the memory index and the database store the same
thing. A stored record gets its exact keys; a query adds tolerant variants of its date keys (day
and month swapped, a year either side), so every tolerance is paid once, at query time.

Kinds:

- ``nn`` two name-part skeletons (any order, any script): finds spelling and script variants
  of the same name;
- ``ny`` one name-part skeleton and the birth year: finds records with one name part changed
  (a married name, an alias given name);
- ``dd`` the full birth date and the initial of a name-part skeleton: finds records whose
  names were written very differently;
- ``id`` an identifier (document, national number, phone, e-mail mailbox, IBAN, VIN, plate,
  firearm serial);
- ``ad`` postcode and house number.
"""

from __future__ import annotations

import itertools

from liaison.matching.dates import PartialDate
from liaison.matching.identifiers import mailbox
from liaison.matching.record import Prepared

KEY_KINDS = ("nn", "ny", "dd", "id", "ad")
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


def candidate_keys(p: Prepared, *, query: bool = False) -> set[str]:
    """The blocking keys of a record; ``query=True`` adds the tolerant date variants."""
    keys: set[str] = set()
    skeletons = name_skeletons(p)
    for a, b in itertools.combinations(sorted(skeletons), 2):
        keys.add(f"nn:{a}|{b}")
    for year in _years(p.dob, tolerant=query):
        for s in skeletons:
            keys.add(f"ny:{s}|{year}")
    initials = sorted({s[0] for s in skeletons})
    for date in _dates(p.dob, tolerant=query):
        for initial in initials:
            keys.add(f"dd:{date}|{initial}")
        if not initials:
            keys.add(f"dd:{date}")
    keys.update(identifier_keys(p))
    if p.postcode and p.street_number:
        keys.add(f"ad:{p.postcode}|{p.street_number}")
    return keys


def key_kind(key: str) -> str:
    """The kind of a key (``nn``, ``ny``, ``dd``, ``id``, ``ad``)."""
    return key.partition(":")[0]
