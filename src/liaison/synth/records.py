"""What an agency records about a person: the same human, written down with realistic variation."""

from __future__ import annotations

import random
from typing import Any

from liaison.synth import identifiers as ids
from liaison.synth.agencies import AgencySpec
from liaison.synth.names_data import (
    ARABIC_FAMILY,
    ARABIC_GIVEN,
    CHINESE_FAMILY,
    CHINESE_SYLLABLES,
    NICKNAMES,
)
from liaison.synth.persons import Person
from liaison.synth.romanize import (
    BG_OLD,
    RS_ASCII,
    RS_ENGLISH,
    RU_BGN,
    RU_FRENCH,
    RU_GERMAN,
    RU_ISO9,
    UA_RUSSIAN_STYLE,
    romanize_cyrillic,
    romanize_greek_phonetic,
)
from liaison.synth.variation import KEYBOARD_OF_AGENCY_COUNTRY, date_slip, fold, typo

RECORD_FIELDS = (
    "record_id",
    "owner_agency",
    "given_name",
    "middle_name",
    "family_name",
    "full_name",
    "name_original",
    "dob",
    "gender",
    "nationality",
    "birth_place",
    "document_type",
    "document_number",
    "document_country",
    "document_expiry",
    "mrz_1",
    "mrz_2",
    "national_id",
    "phone",
    "email",
    "street",
    "street_number",
    "postcode",
    "city",
    "address_country",
    "iban",
    "vehicle_vin",
    "vehicle_make",
    "vehicle_plate",
    "vehicle_plate_country",
    "firearm_make",
    "firearm_serial",
    "handling",
    "h3_conditions",
    "classification",
    "source_reliability",
    "information_reliability",
    "crime_area",
    "subject_category",
    "minor",
    "variations",
)

_ARABIC_SPELLINGS = {
    native: spellings for pool in ARABIC_GIVEN.values() for native, spellings in pool
}
_ARABIC_SPELLINGS.update(dict(ARABIC_FAMILY))
_HAN_WADE = {han: wade for han, _py, wade in CHINESE_FAMILY}
for _pool in CHINESE_SYLLABLES.values():
    for _han, _py, _wade in _pool:
        _HAN_WADE.setdefault(_han, _wade)
_HAN_PINYIN = {han: py for han, py, _wade in CHINESE_FAMILY}
for _pool in CHINESE_SYLLABLES.values():
    for _han, _py, _wade in _pool:
        _HAN_PINYIN.setdefault(_han, _py)

# How an agency's clerks romanise Cyrillic when they do not copy the passport.
_CLERK_SYSTEM = {"DE": RU_GERMAN, "FR": RU_FRENCH, "PL": RU_BGN, "IT": RU_BGN, "ES": RU_BGN}
_H3_CONDITIONS = (
    "Not to be shared with third countries.",
    "Use only for case file 2026/114.",
    "Consult the provider before any operational action.",
)
_CATEGORIES = ("suspect", "suspect", "suspect", "convicted", "contact", "witness", "victim")


def _latin_name(
    person: Person, agency: AgencySpec, rng: random.Random, notes: list[str]
) -> tuple[str, str, str]:
    """Given, middle (patronymic) and family name as this agency writes them."""
    name = person.name
    given, family, middle = name.given_latin, name.family_latin, name.patronymic_latin or ""
    if name.script == "cyrillic" and rng.random() < 0.45:
        if person.nationality == "UA":
            system = UA_RUSSIAN_STYLE
        elif person.nationality == "BG":
            system = BG_OLD
        elif person.nationality == "RS":
            system = rng.choice((RS_ASCII, RS_ENGLISH))
        else:
            system = _CLERK_SYSTEM.get(agency.country or "", rng.choice((RU_BGN, RU_ISO9, RU_BGN)))
        given = romanize_cyrillic(name.given_native, system)
        family = romanize_cyrillic(name.family_native, system)
        middle = romanize_cyrillic(name.patronymic_native, system) if name.patronymic_native else ""
        notes.append("romanisation_system")
    elif name.script == "greek" and rng.random() < 0.35:
        given = romanize_greek_phonetic(name.given_native)
        family = romanize_greek_phonetic(name.family_native)
        notes.append("romanisation_system")
    elif name.script == "arabic" and rng.random() < 0.55:
        given = rng.choice(_ARABIC_SPELLINGS[name.keys[0]])
        family = rng.choice(_ARABIC_SPELLINGS[name.keys[1]])
        notes.append("arabic_spelling")
    elif name.script == "han":
        syllables = name.keys[1:]
        if rng.random() < 0.15:
            family = _HAN_WADE[name.keys[0]]
            given = "-".join(_HAN_WADE[s] for s in syllables).capitalize()
            notes.append("wade_giles")
        elif rng.random() < 0.2:
            given = " ".join(_HAN_PINYIN[s].capitalize() for s in syllables)
            notes.append("pinyin_split")
    if middle and rng.random() < 0.5:
        middle = ""
        notes.append("patronymic_dropped")
    return given, middle, family


def record_of(
    person: Person,
    agency: AgencySpec,
    rng: random.Random,
    record_id: str,
    *,
    primary: bool,
    crime_area: str,
    alias_source: Person | None,
) -> dict[str, Any]:
    """One agency's record of ``person``; the primary record is closest to the passport."""
    notes: list[str] = []
    if primary and rng.random() < 0.7:
        given, middle, family = (
            person.name.given_latin,
            person.name.patronymic_latin or "",
            person.name.family_latin,
        )
    else:
        given, middle, family = _latin_name(person, agency, rng, notes)
    if alias_source is not None:
        given, family, middle = alias_source.name.given_latin, alias_source.name.family_latin, ""
        notes.append("alias")
    if not primary:
        keyboard = KEYBOARD_OF_AGENCY_COUNTRY.get(agency.country or "", "qwerty")
        if rng.random() < 0.08:
            family = typo(family, rng, keyboard)
            notes.append("typo_family")
        if rng.random() < 0.08:
            given = typo(given, rng, keyboard)
            notes.append("typo_given")
        if rng.random() < 0.3 and agency.country != person.nationality:
            given, family = fold(given, rng), fold(family, rng)
            notes.append("folded")
        nick = NICKNAMES.get(person.name.given_native) or NICKNAMES.get(given)
        if nick and rng.random() < 0.12:
            native_nick = rng.choice(nick)
            given = (
                romanize_cyrillic(native_nick, RU_BGN)
                if person.name.script == "cyrillic"
                else romanize_greek_phonetic(native_nick)
                if person.name.script == "greek"
                else native_nick
            )
            notes.append("nickname")
        if person.nationality == "ES" and " " in family and rng.random() < 0.35:
            family = family.split(" ")[0]
            notes.append("second_surname_dropped")
        if " " in given and rng.random() < 0.3:
            given = given.split(" ")[0]
            notes.append("second_given_dropped")
    swapped = rng.random() < (0.3 if person.name.script == "han" else 0.05)
    full = f"{family} {given}" if swapped else " ".join(p for p in (given, middle, family) if p)
    if swapped:
        notes.append("name_order")
    if rng.random() < 0.15:
        given, middle, family, full = given.upper(), middle.upper(), family.upper(), full.upper()
    original = ""
    if person.name.script != "latin" and rng.random() < 0.4:
        parts = (
            person.name.given_native,
            person.name.patronymic_native or "",
            person.name.family_native,
        )
        original = (
            " ".join(p for p in parts if p) if person.name.script != "han" else parts[2] + parts[0]
        )
    dob, dob_note = (person.born.isoformat(), "exact") if primary else date_slip(person.born, rng)
    if dob_note != "exact":
        notes.append(dob_note)
    bonus = 0.3 if primary else 0.0  # the primary record is the most complete

    def keep(probability: float) -> bool:
        return rng.random() < probability + bonus

    document = person.passport
    if not primary and rng.random() < 0.1:
        document = ids.passport_number(rng, person.nationality)
        notes.append("other_document")
    has_doc = keep(0.7)
    vehicle = person.vehicle if person.vehicle and keep(0.6) else None
    handling_roll = rng.random()
    handling = (
        "H0"
        if handling_roll < 0.6
        else "H1"
        if handling_roll < 0.8
        else "H2"
        if handling_roll < 0.92
        else "H3"
    )
    return {
        "record_id": record_id,
        "owner_agency": agency.code,
        "given_name": given,
        "middle_name": middle,
        "family_name": family,
        "full_name": full,
        "name_original": original,
        "dob": dob,
        "gender": ("M" if person.gender == "m" else "F") if keep(0.9) else "",
        "nationality": person.nationality if keep(0.85) else "",
        "birth_place": person.birth_place if keep(0.6) else "",
        "document_type": "passport" if has_doc else "",
        "document_number": document if has_doc else "",
        "document_country": person.nationality if has_doc else "",
        "document_expiry": person.passport_expiry.isoformat() if has_doc and keep(0.5) else "",
        "mrz_1": person.mrz[0]
        if (with_mrz := has_doc and document == person.passport and rng.random() < 0.2)
        else "",
        "mrz_2": person.mrz[1] if with_mrz else "",
        "national_id": person.national_id if keep(0.2) else "",
        "phone": person.phone if keep(0.55) else "",
        "email": person.email if keep(0.45) else "",
        "street": person.street if (has_address := keep(0.5)) else "",
        "street_number": person.street_number if has_address else "",
        "postcode": person.postcode if has_address else "",
        "city": person.city if has_address else "",
        "address_country": person.residence if has_address else "",
        "iban": person.iban if keep(0.3) else "",
        "vehicle_vin": vehicle[0] if vehicle else "",
        "vehicle_make": vehicle[1] if vehicle else "",
        "vehicle_plate": vehicle[2] if vehicle else "",
        "vehicle_plate_country": vehicle[3] if vehicle else "",
        "firearm_make": person.firearm[0] if person.firearm and keep(0.7) else "",
        "firearm_serial": person.firearm[1] if person.firearm and keep(0.7) else "",
        "handling": handling,
        "h3_conditions": rng.choice(_H3_CONDITIONS) if handling == "H3" else "",
        "classification": "restricted" if rng.random() < 0.85 else "confidential",
        "source_reliability": rng.choice("AABBBCX"),
        "information_reliability": rng.choice("1223334"),
        "crime_area": crime_area,
        "subject_category": "victim"
        if person.minor and rng.random() < 0.5
        else rng.choice(_CATEGORIES),
        "minor": "1" if person.minor else "0",
        "variations": ";".join(notes),
    }
