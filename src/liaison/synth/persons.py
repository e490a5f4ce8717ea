"""Real persons of the synthetic world: names in their own script, identity data, belongings."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from liaison.synth import identifiers as ids
from liaison.synth.names_data import (
    ARABIC_FAMILY,
    ARABIC_GIVEN,
    ARABIC_STYLE,
    CHINESE_FAMILY,
    CHINESE_SYLLABLES,
    CYRILLIC,
    GREEK,
    LATIN,
    PLACES,
    RU_PATRONYMICS,
    STREETS,
)
from liaison.synth.romanize import (
    BG_OFFICIAL,
    RS_LATIN,
    RU_ICAO,
    UA_NATIONAL,
    romanize_cyrillic,
    romanize_greek_elot,
)

# A fixed reference date keeps ages (and the minor flag) deterministic whatever the clock says.
REFERENCE_DATE = dt.date(2026, 11, 1)

NATIONALITIES = (
    ("DE", 12),
    ("FR", 10),
    ("NL", 6),
    ("PL", 8),
    ("ES", 8),
    ("IT", 9),
    ("RO", 6),
    ("TR", 6),
    ("RU", 7),
    ("UA", 6),
    ("BG", 3),
    ("RS", 3),
    ("GR", 5),
    ("MA", 5),
    ("EG", 2),
    ("SY", 3),
    ("CN", 4),
)
_NATIONALITY_CODES = tuple(code for code, _ in NATIONALITIES)
_NATIONALITY_WEIGHTS = tuple(weight for _, weight in NATIONALITIES)

SCRIPT_OF = {
    **dict.fromkeys(LATIN, "latin"),
    **dict.fromkeys(CYRILLIC, "cyrillic"),
    "GR": "greek",
    "MA": "arabic",
    "EG": "arabic",
    "SY": "arabic",
    "CN": "han",
}
PASSPORT_SYSTEM = {"RU": RU_ICAO, "UA": UA_NATIONAL, "BG": BG_OFFICIAL, "RS": RS_LATIN}
EMAIL_DOMAINS = (
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "proton.me",
    "gmx.de",
    "mail.ru",
    "orange.fr",
    "libero.it",
    "wp.pl",
    "163.com",
    "hotmail.com",
)


@dataclass(slots=True)
class NameForms:
    """A person's name: native form and the official Latin form in their passport."""

    script: str
    given_native: str
    family_native: str
    patronymic_native: str | None
    given_latin: str
    family_latin: str
    patronymic_latin: str | None
    # Keys into the variant tables (Arabic spellings, Chinese syllables) for later variation.
    keys: tuple[str, ...] = ()


@dataclass(slots=True)
class Person:
    person_id: str
    nationality: str
    gender: str
    name: NameForms
    born: dt.date
    birth_place: str
    passport: str
    passport_expiry: dt.date
    mrz: tuple[str, str]
    national_id: str
    phone: str
    email: str
    street: str
    street_number: str
    postcode: str
    city: str
    residence: str
    iban: str
    vehicle: tuple[str, str, str, str] | None  # vin, make, plate, plate country
    firearm: tuple[str, str] | None  # make, serial
    group_id: str | None = None
    role: str | None = None
    extra_phones: list[str] = field(default_factory=list)

    @property
    def minor(self) -> bool:
        age = (
            REFERENCE_DATE.year
            - self.born.year
            - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (self.born.month, self.born.day))
        )
        return age < 18


def _gendered(surname: str, gender: str) -> str:
    masculine, _, feminine = surname.partition("|")
    return feminine if gender == "f" and feminine else masculine


def draw_name(rng: random.Random, nationality: str, gender: str) -> NameForms:
    """A name as written in the person's country, with its passport romanisation."""
    script = SCRIPT_OF[nationality]
    if script == "latin":
        table = LATIN[nationality]
        given = rng.choice(table[gender])
        if rng.random() < 0.12:
            second = rng.choice(table[gender])
            if second != given:
                given = f"{given} {second}"
        family = _gendered(rng.choice(table["s"]), gender)
        if nationality == "ES":
            family = f"{family} {_gendered(rng.choice(table['s']), gender)}"
        return NameForms(script, given, family, None, given, family, None)
    if script == "cyrillic":
        table = CYRILLIC[nationality]
        given = rng.choice(table[gender])
        family = _gendered(rng.choice(table["s"]), gender)
        patronymic = None
        if nationality == "RU":
            patronymic = rng.choice(RU_PATRONYMICS)[0 if gender == "m" else 1]
        system = PASSPORT_SYSTEM[nationality]
        return NameForms(
            script,
            given,
            family,
            patronymic,
            romanize_cyrillic(given, system),
            romanize_cyrillic(family, system),
            romanize_cyrillic(patronymic, system) if patronymic else None,
        )
    if script == "greek":
        given = rng.choice(GREEK[gender])
        family = _gendered(rng.choice(GREEK["s"]), gender)
        return NameForms(
            script,
            given,
            family,
            None,
            romanize_greek_elot(given),
            romanize_greek_elot(family),
            None,
        )
    if script == "arabic":
        g_native, g_spellings = rng.choice(ARABIC_GIVEN[gender])
        f_native, f_spellings = rng.choice(ARABIC_FAMILY)
        style = ARABIC_STYLE.get(nationality, {})
        given = style.get(g_native, g_spellings[0])
        family = f_spellings[0]
        return NameForms(
            script, g_native, f_native, None, given, family, None, keys=(g_native, f_native)
        )
    family_han, family_py, _ = rng.choice(CHINESE_FAMILY)
    syllables = CHINESE_SYLLABLES[gender]
    syllable_1, syllable_2 = rng.choice(syllables), rng.choice(syllables)
    given_han = syllable_1[0] + syllable_2[0]
    given_py = (syllable_1[1] + syllable_2[1]).capitalize()
    return NameForms(
        script,
        given_han,
        family_han,
        None,
        given_py,
        family_py,
        None,
        keys=(family_han, syllable_1[0], syllable_2[0]),
    )


def _birth_date(rng: random.Random) -> dt.date:
    # Mostly adults 18–75; about 4 % minors.
    age_days = (
        rng.randint(4 * 365, 17 * 365) if rng.random() < 0.04 else rng.randint(18 * 365, 75 * 365)
    )
    return REFERENCE_DATE - dt.timedelta(days=age_days)


def _email(rng: random.Random, name: NameForms, born: dt.date) -> str:
    given = (
        "".join(c for c in name.given_latin.lower() if c.isascii() and c.isalpha())[:12] or "user"
    )
    family = (
        "".join(c for c in name.family_latin.lower() if c.isascii() and c.isalpha())[:14] or "mail"
    )
    pattern = rng.random()
    local = (
        f"{given}.{family}"
        if pattern < 0.4
        else f"{given[0]}{family}{born.year % 100:02d}"
        if pattern < 0.7
        else f"{family}.{given}{rng.randint(1, 999)}"
    )
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def make_person(rng: random.Random, person_id: str, *, like: Person | None = None) -> Person:
    """A new person; with ``like``, a namesake (same name, sometimes same birth year)."""
    if like is not None:
        nationality, gender, name = like.nationality, like.gender, like.name
        born = _birth_date(rng)
        if rng.random() < 0.5:
            born = born.replace(year=like.born.year, day=min(born.day, 28))
    else:
        nationality = rng.choices(_NATIONALITY_CODES, _NATIONALITY_WEIGHTS)[0]
        gender = "m" if rng.random() < 0.62 else "f"  # offenders are more often men
        name = draw_name(rng, nationality, gender)
        born = _birth_date(rng)
    passport = ids.passport_number(rng, nationality)
    expiry = REFERENCE_DATE + dt.timedelta(days=rng.randint(30, 3650))
    mrz = ids.td3_mrz(
        doc_type="P",
        issuing=ids.ALPHA3[nationality],
        family=name.family_latin,
        given=name.given_latin,
        number=passport,
        nationality=ids.ALPHA3[nationality],
        birth=f"{born.year % 100:02d}{born.month:02d}{born.day:02d}",
        sex="M" if gender == "m" else "F",
        expiry=f"{expiry.year % 100:02d}{expiry.month:02d}{expiry.day:02d}",
    )
    residence = (
        nationality if rng.random() < 0.7 else rng.choice(("DE", "FR", "NL", "ES", "IT", "PL"))
    )
    vehicle = None
    if rng.random() < 0.35:
        vin, make = ids.vin(rng)
        vehicle = (vin, make, ids.plate(rng, residence), residence)
    firearm = None
    if rng.random() < 0.04:
        make = rng.choice(ids.FIREARM_MAKES)
        firearm = (make, ids.firearm_serial(rng, make))
    streets = STREETS.get(residence, STREETS["DE"])
    return Person(
        person_id=person_id,
        nationality=nationality,
        gender=gender,
        name=name,
        born=born,
        birth_place=rng.choice(PLACES[nationality]),
        passport=passport,
        passport_expiry=expiry,
        mrz=mrz,
        national_id=f"{nationality}{rng.randrange(10**9):09d}",
        phone=ids.phone(rng, residence if rng.random() < 0.8 else nationality),
        email=_email(rng, name, born),
        street=rng.choice(streets),
        street_number=str(rng.randint(1, 240)),
        postcode=f"{rng.randint(10000, 99999)}",
        city=rng.choice(PLACES.get(residence, PLACES["DE"])),
        residence=residence,
        iban=ids.iban(rng, residence),
        vehicle=vehicle,
        firearm=firearm,
    )
