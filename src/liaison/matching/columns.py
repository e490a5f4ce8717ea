"""Prepared records as columns of numbers: what vectorised comparison and the index work on.

A ``Vocabulary`` numbers name parts and keeps, per part, what comparisons need (its
equivalence symbol, skeleton, length, initial). ``Columns`` holds one row per record: name-part
numbers, the birth date as integers, codes for sex and nationality, and for every identifier a
64-bit hash beside its text. The text stays for the comparisons that need it (near identifiers,
places, explanations): a row turns back into the ``Prepared`` record it came from.

Hashes are Python's string hashes: stable within a process and the processes it forks, which is
where columns live. They are never stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from liaison.matching.countries import known_codes
from liaison.matching.dates import PartialDate
from liaison.matching.features import abjad_keys, consonants, vowelless
from liaison.matching.identifiers import identifier_bits, mailbox
from liaison.matching.record import MAX_ADDRESS_PARTS, MAX_ALTERNATIVES, MAX_PARTS, Prepared
from liaison.matching.text import SCRIPTS, equivalent, skeleton

IDENTIFIER_KINDS = ("document", "national_id", "phone", "email", "iban", "vin", "plate", "firearm")
# The fields comparisons read, one bit each in ``Columns.present``.
PRESENCE = (
    "name",
    "birth_date",
    "gender",
    "nationality",
    "birth_place",
    "address",
    *IDENTIFIER_KINDS,
)
PRESENCE_BIT = {field: 1 << k for k, field in enumerate(PRESENCE)}
GENDERS = ("", "M", "F", "X")
COUNTRIES = ("", *sorted(known_codes()))
_COUNTRY_INDEX = {c: i for i, c in enumerate(COUNTRIES)}
_GENDER_INDEX = {g: i for i, g in enumerate(GENDERS)}
_SCRIPT_INDEX = {s: i for i, s in enumerate(SCRIPTS)}

T = TypeVar("T", bound=np.generic)
I32 = NDArray[np.int32]
I64 = NDArray[np.int64]
Objects = NDArray[np.object_]


def text_hash(text: str | None) -> int:
    """A non-zero 64-bit hash of a non-empty text, 0 for none."""
    if not text:
        return 0
    value = hash(text)
    return value if value != 0 else 1


@dataclass(frozen=True, slots=True)
class TokenTable:
    """Per name part (by number): its text and what comparisons need, as arrays."""

    strings: Objects
    symbol: I32
    skeleton: I32  # number of the skeleton when it has 3+ letters, else -1
    length: NDArray[np.int16]
    first: NDArray[np.uint8]
    vowelless: NDArray[np.bool_]
    consonants: Objects
    consonant_length: NDArray[np.int16]
    article: NDArray[np.bool_]  # the consonants start with l (al-, el- written joined)
    without_article: Objects
    abjad: I32  # number of the consonant key (features.abjad_keys), -1 for none
    abjad_bare: I32  # the same without a leading article l


def _resized(old: NDArray[T], capacity: int, fill: object) -> NDArray[T]:
    new = np.full(capacity, fill, dtype=old.dtype)
    new[: len(old)] = old
    return new


def _objects(values: list[Any]) -> Objects:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


class Vocabulary:
    """Name parts by number, with their properties in arrays that grow as parts are added."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.index: dict[str, int] = {}
        self._skeletons: dict[str, int] = {}
        capacity = 1024
        self._strings: Objects = np.full(capacity, "", dtype=object)
        self._consonants: Objects = np.full(capacity, "", dtype=object)
        self._symbol: I32 = np.full(capacity, -1, dtype=np.int32)
        self._skeleton: I32 = np.full(capacity, -1, dtype=np.int32)
        self._length: NDArray[np.int16] = np.zeros(capacity, dtype=np.int16)
        self._first: NDArray[np.uint8] = np.zeros(capacity, dtype=np.uint8)
        self._vowelless: NDArray[np.bool_] = np.zeros(capacity, dtype=bool)
        self._consonant_length: NDArray[np.int16] = np.zeros(capacity, dtype=np.int16)
        self._article: NDArray[np.bool_] = np.zeros(capacity, dtype=bool)
        self._without_article: Objects = np.full(capacity, "", dtype=object)
        self._abjad_keys: dict[str, int] = {}
        self._abjad: I32 = np.full(capacity, -1, dtype=np.int32)
        self._abjad_bare: I32 = np.full(capacity, -1, dtype=np.int32)

    def _grow(self) -> None:
        capacity = 2 * len(self._symbol)
        self._strings = _resized(self._strings, capacity, "")
        self._consonants = _resized(self._consonants, capacity, "")
        self._symbol = _resized(self._symbol, capacity, -1)
        self._skeleton = _resized(self._skeleton, capacity, -1)
        self._length = _resized(self._length, capacity, 0)
        self._first = _resized(self._first, capacity, 0)
        self._vowelless = _resized(self._vowelless, capacity, False)
        self._consonant_length = _resized(self._consonant_length, capacity, 0)
        self._article = _resized(self._article, capacity, False)
        self._without_article = _resized(self._without_article, capacity, "")
        self._abjad = _resized(self._abjad, capacity, -1)
        self._abjad_bare = _resized(self._abjad_bare, capacity, -1)

    def __len__(self) -> int:
        return len(self.tokens)

    def add(self, token: str) -> int:
        number = self.index.get(token)
        if number is not None:
            return number
        number = len(self.tokens)
        if number == len(self._symbol):
            self._grow()
        self.tokens.append(token)
        self.index[token] = number
        shape = skeleton(token)
        self._strings[number] = token
        shape_consonants = consonants(token)
        self._consonants[number] = shape_consonants
        self._consonant_length[number] = len(shape_consonants)
        self._article[number] = shape_consonants.startswith("l")
        self._without_article[number] = shape_consonants[1:]
        self._symbol[number] = number
        self._skeleton[number] = (
            self._skeletons.setdefault(shape, len(self._skeletons)) if len(shape) >= 3 else -1
        )
        self._length[number] = len(token)
        self._first[number] = ord(token[0]) if token and ord(token[0]) < 256 else 0
        self._vowelless[number] = vowelless(token)
        key, bare = abjad_keys(token)
        self._abjad[number] = self._abjad_keys.setdefault(key, len(self._abjad_keys)) if key else -1
        self._abjad_bare[number] = (
            self._abjad_keys.setdefault(bare, len(self._abjad_keys)) if bare else -1
        )
        symbol = equivalent(token)
        if symbol != token:
            self._symbol[number] = self.add(symbol)
        return number

    def symbol_of(self, number: int) -> int:
        return int(self._symbol[number])

    def table(self) -> TokenTable:
        """Views of the arrays for every part numbered so far."""
        size = len(self.tokens)
        return TokenTable(
            strings=self._strings[:size],
            symbol=self._symbol[:size],
            skeleton=self._skeleton[:size],
            length=self._length[:size],
            first=self._first[:size],
            vowelless=self._vowelless[:size],
            consonants=self._consonants[:size],
            consonant_length=self._consonant_length[:size],
            article=self._article[:size],
            without_article=self._without_article[:size],
            abjad=self._abjad[:size],
            abjad_bare=self._abjad_bare[:size],
        )


class Columns:
    """Rows of prepared records as arrays (grown by doubling)."""

    def __init__(self, vocabulary: Vocabulary | None = None, capacity: int = 256) -> None:
        self.vocabulary = vocabulary or Vocabulary()
        self.size = 0
        self._allocate(max(capacity, 16))

    def _allocate(self, capacity: int) -> None:
        old = self.__dict__.copy() if hasattr(self, "names") else None
        self.capacity = capacity
        self.names: I32 = np.full((capacity, MAX_ALTERNATIVES, MAX_PARTS), -1, dtype=np.int32)
        self.name_count: NDArray[np.int8] = np.zeros((capacity, MAX_ALTERNATIVES), dtype=np.int8)
        self.year: NDArray[np.int16] = np.zeros(capacity, dtype=np.int16)
        self.month: NDArray[np.int8] = np.zeros(capacity, dtype=np.int8)
        self.day: NDArray[np.int8] = np.zeros(capacity, dtype=np.int8)
        self.gender: NDArray[np.int8] = np.zeros(capacity, dtype=np.int8)
        self.nationality: NDArray[np.int16] = np.zeros(capacity, dtype=np.int16)
        self.script: NDArray[np.int8] = np.zeros(capacity, dtype=np.int8)
        self.place_hash: I64 = np.zeros(capacity, dtype=np.int64)
        self.place: Objects = np.full(capacity, None, dtype=object)
        self.ident_hash: I64 = np.zeros((capacity, len(IDENTIFIER_KINDS)), dtype=np.int64)
        self.ident: Objects = np.full((capacity, len(IDENTIFIER_KINDS)), None, dtype=object)
        self.ident_bits: NDArray[np.int8] = np.zeros((capacity, len(IDENTIFIER_KINDS)), np.int8)
        self.mailbox_hash: I64 = np.zeros(capacity, dtype=np.int64)
        self.mailbox_name_hash: I64 = np.zeros(capacity, dtype=np.int64)
        self.serial_hash: I64 = np.zeros(capacity, dtype=np.int64)
        self.has_make: NDArray[np.bool_] = np.zeros(capacity, dtype=bool)
        self.address_hash: I64 = np.zeros((capacity, MAX_ADDRESS_PARTS), dtype=np.int64)
        self.address_count: NDArray[np.int8] = np.zeros(capacity, dtype=np.int8)
        # Which fields each row has (``PRESENCE_BIT``): one read per pair tells them all.
        self.present: NDArray[np.uint16] = np.zeros(capacity, dtype=np.uint16)
        self.address: Objects = np.full(capacity, None, dtype=object)
        self.refs: Objects = np.full(capacity, None, dtype=object)
        self.display: Objects = np.full(capacity, None, dtype=object)
        self.flags: Objects = np.full(capacity, None, dtype=object)
        self.postcode: Objects = np.full(capacity, None, dtype=object)
        self.street_number: Objects = np.full(capacity, None, dtype=object)
        if old is not None:
            for name, value in old.items():
                if isinstance(value, np.ndarray):
                    getattr(self, name)[: self.size] = value[: self.size]

    def __len__(self) -> int:
        return self.size

    def append(self, p: Prepared) -> int:
        """Add one prepared record as a row; returns its row number."""
        row = self.size
        self.extend([p])
        return row

    def extend(self, records: Iterable[Prepared]) -> None:
        """Add records as rows, column by column (much faster than one value at a time)."""
        batch = list(records)
        start = self.size
        if start + len(batch) > self.capacity:
            capacity = self.capacity
            while capacity < start + len(batch):
                capacity *= 2
            self._allocate(capacity)
        self.size += len(batch)
        rows = range(start, start + len(batch))
        add = self.vocabulary.add
        name_at: list[tuple[int, int, int]] = []
        name_ids: list[int] = []
        counts: list[tuple[int, int, int]] = []
        ident_at: list[tuple[int, int]] = []
        ident_values: list[tuple[int, str, int]] = []
        address_at: list[tuple[int, int]] = []
        address_hashes: list[int] = []
        for row, p in zip(rows, batch, strict=True):
            for a, parts in enumerate(p.names):
                counts.append((row, a, len(parts)))
                for k, token in enumerate(parts):
                    name_at.append((row, a, k))
                    name_ids.append(add(token))
            for k, kind in enumerate(IDENTIFIER_KINDS):
                key = p.identifiers.get(kind)
                if key:
                    ident_at.append((row, k))
                    ident_values.append((text_hash(key), key, identifier_bits(kind, key)))
            for k, token in enumerate(p.address):
                address_at.append((row, k))
                address_hashes.append(text_hash(token))
        if name_at:
            r, a, k = np.array(name_at, dtype=np.int64).T
            self.names[r, a, k] = name_ids
        if counts:
            r, a, n = np.array(counts, dtype=np.int64).T
            self.name_count[r, a] = n
        if ident_at:
            r, k = np.array(ident_at, dtype=np.int64).T
            hashes, keys, bits = zip(*ident_values, strict=True)
            self.ident_hash[r, k] = hashes
            self.ident_bits[r, k] = bits
            values = np.empty(len(keys), dtype=object)
            values[:] = keys
            self.ident[r, k] = values
        if address_at:
            r, k = np.array(address_at, dtype=np.int64).T
            self.address_hash[r, k] = address_hashes
        window = slice(start, start + len(batch))
        self.year[window] = [p.dob.year if p.dob else 0 for p in batch]
        self.month[window] = [(p.dob.month or 0) if p.dob else 0 for p in batch]
        self.day[window] = [(p.dob.day or 0) if p.dob else 0 for p in batch]
        self.gender[window] = [_GENDER_INDEX.get(p.gender or "", 0) for p in batch]
        self.nationality[window] = [_COUNTRY_INDEX.get(p.nationality or "", 0) for p in batch]
        self.script[window] = [_SCRIPT_INDEX.get(p.script, 0) for p in batch]
        self.place_hash[window] = [text_hash(p.birth_place) for p in batch]
        self.place[window] = _objects([p.birth_place for p in batch])
        self.address_count[window] = [len(p.address) for p in batch]
        self.address[window] = _objects([" ".join(p.address) or None for p in batch])
        mailboxes = [mailbox(p.identifiers.get("email") or "") for p in batch]
        self.mailbox_hash[window] = [
            text_hash(box) if p.identifiers.get("email") else 0
            for box, p in zip(mailboxes, batch, strict=True)
        ]
        names = [box.rpartition("@")[0] for box in mailboxes]
        self.mailbox_name_hash[window] = [
            text_hash(name) if len(name) > 3 and p.identifiers.get("email") else 0
            for name, p in zip(names, batch, strict=True)
        ]
        firearms = [p.identifiers.get("firearm") or "" for p in batch]
        self.serial_hash[window] = [text_hash(f.rpartition(":")[2]) for f in firearms]
        self.has_make[window] = [":" in f for f in firearms]
        self.refs[window] = _objects([p.ref for p in batch])
        self.display[window] = _objects([p.display_name for p in batch])
        self.postcode[window] = _objects([p.postcode for p in batch])
        self.street_number[window] = _objects([p.street_number for p in batch])
        for row, p in zip(rows, batch, strict=True):
            if p.flags:
                self.flags[row] = p.flags
        self._presence(window)

    def _presence(self, window: slice) -> None:
        has = {
            "name": (self.name_count[window] > 0).any(axis=1),
            "birth_date": self.year[window] != 0,
            "gender": self.gender[window] != 0,
            "nationality": self.nationality[window] != 0,
            "birth_place": self.place_hash[window] != 0,
            "address": self.address_count[window] != 0,
            **{kind: self.ident_hash[window, k] != 0 for k, kind in enumerate(IDENTIFIER_KINDS)},
        }
        bits = np.zeros(window.stop - window.start, dtype=np.uint16)
        for field, mask in has.items():
            bits[mask] |= PRESENCE_BIT[field]
        self.present[window] = bits

    def prepared(self, row: int) -> Prepared:
        """The prepared record of a row (for explanations and keys)."""
        tokens = self.vocabulary.tokens
        names = tuple(
            tuple(tokens[t] for t in self.names[row, a, : self.name_count[row, a]])
            for a in range(MAX_ALTERNATIVES)
            if self.name_count[row, a]
        )
        year, month, day = int(self.year[row]), int(self.month[row]), int(self.day[row])
        dob = PartialDate(year, month or None, day or None) if year else None
        identifiers = {
            kind: str(self.ident[row, k])
            for k, kind in enumerate(IDENTIFIER_KINDS)
            if self.ident[row, k] is not None
        }
        address = self.address[row]
        flags = self.flags[row]
        return Prepared(
            ref=str(self.refs[row]),
            names=names,
            script=SCRIPTS[int(self.script[row])],
            dob=dob,
            gender=GENDERS[int(self.gender[row])] or None,
            nationality=COUNTRIES[int(self.nationality[row])] or None,
            birth_place=self.place[row],
            identifiers=identifiers,
            address=tuple(address.split()) if address else (),
            postcode=self.postcode[row],
            street_number=self.street_number[row],
            flags=tuple(flags) if flags else (),
            display_name=str(self.display[row]),
        )

    def ref(self, row: int) -> str:
        return str(self.refs[row])
