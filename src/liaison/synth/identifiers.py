"""Identifiers with valid check digits: ICAO 9303 MRZ, IBAN, VIN, E.164 phones, plates.

Everything here is computed from the published algorithms directly; phone number ranges are
prepared once per country from libphonenumber's metadata so the hot loop only draws digits.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from functools import lru_cache

ALPHA3 = {
    "DE": "D",
    "FR": "FRA",
    "NL": "NLD",
    "PL": "POL",
    "ES": "ESP",
    "IT": "ITA",
    "RO": "ROU",
    "TR": "TUR",
    "RU": "RUS",
    "UA": "UKR",
    "BG": "BGR",
    "RS": "SRB",
    "GR": "GRC",
    "MA": "MAR",
    "EG": "EGY",
    "SY": "SYR",
    "CN": "CHN",
    "JP": "JPN",
}

# ── ICAO 9303 machine-readable zone ─────────────────────────────────────────────────────────

_MRZ_VALUES = {
    **{str(d): d for d in range(10)},
    **{c: i + 10 for i, c in enumerate(string.ascii_uppercase)},
    "<": 0,
}


_MRZ_WEIGHTS = (7, 3, 1) * 15


def mrz_check_digit(field: str) -> str:
    """ICAO 9303 part 3 §4.9: weights 7, 3, 1 repeating, sum modulo 10."""
    values = _MRZ_VALUES
    # The weights tuple outlasts any MRZ field, so zip stops at the field's end.
    total = sum([values[c] * w for c, w in zip(field, _MRZ_WEIGHTS, strict=False)])
    return str(total % 10)


def mrz_name(text: str) -> str:
    """Names in the MRZ: A–Z only, spaces and hyphens as ``<`` (already transliterated)."""
    out = []
    for ch in text.upper():
        if "A" <= ch <= "Z":
            out.append(ch)
        elif ch in " -'":
            out.append("<")
    return "".join(out)


def td3_mrz(
    *,
    doc_type: str,
    issuing: str,
    family: str,
    given: str,
    number: str,
    nationality: str,
    birth: str,
    sex: str,
    expiry: str,
    personal: str = "",
) -> tuple[str, str]:
    """The two 44-character lines of a passport (TD3). Dates as YYMMDD, names already Latin."""
    names = f"{mrz_name(family)}<<{mrz_name(given)}"
    line1 = f"{doc_type:<2}{issuing:<3}{names}"[:44].ljust(44, "<").replace(" ", "<")
    number_field = number.ljust(9, "<")[:9]
    personal_field = personal.ljust(14, "<")[:14]
    personal_check = mrz_check_digit(personal_field) if personal else "<"
    composite = (
        number_field
        + mrz_check_digit(number_field)
        + birth
        + mrz_check_digit(birth)
        + expiry
        + mrz_check_digit(expiry)
        + personal_field
        + personal_check
    )
    line2 = (
        number_field
        + mrz_check_digit(number_field)
        + nationality.ljust(3, "<")
        + birth
        + mrz_check_digit(birth)
        + sex
        + expiry
        + mrz_check_digit(expiry)
        + personal_field
        + personal_check
        + mrz_check_digit(composite)
    )
    return line1, line2


_DOC_ALNUM = "0123456789CFGHJKLMNPRTVWXYZ"  # letters that are not confused with digits


def passport_number(rng: random.Random, country: str) -> str:
    """A plausible passport number in the country's pattern."""
    digits = string.digits
    if country == "DE":
        return "C" + "".join(rng.choice(_DOC_ALNUM) for _ in range(8))
    if country == "FR":
        return (
            "".join(rng.choices(digits, k=2))
            + "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=2))
            + "".join(rng.choices(digits, k=5))
        )
    if country == "NL":
        return (
            "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=2))
            + "".join(rng.choice(_DOC_ALNUM) for _ in range(6))
            + rng.choice(digits)
        )
    if country in ("PL", "UA", "RO"):
        return "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=2)) + "".join(
            rng.choices(digits, k=7)
        )
    if country == "ES":
        return "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=3)) + "".join(
            rng.choices(digits, k=6)
        )
    if country == "IT":
        return "Y" + rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") + "".join(rng.choices(digits, k=7))
    if country == "RU":
        return "".join(rng.choices(digits, k=9))
    if country == "CN":
        return "E" + "".join(rng.choices(digits, k=8))
    return rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") + "".join(rng.choices(digits, k=8))


# ── IBAN ────────────────────────────────────────────────────────────────────────────────────

# Countries whose BBAN is all digits, with their BBAN length (ISO 13616 registry).
_NUMERIC_BBAN = {"DE": 18, "PL": 24, "AT": 16, "BE": 12, "EE": 16, "FI": 14, "SI": 15, "LT": 16}
_ALPHA_BANK = {"NL": (4, 10), "GB": (4, 14), "RO": (4, 16), "BG": (4, 14)}  # letters, then digits


def _iban_check(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    number = "".join(str(int(c, 36)) for c in rearranged)
    return f"{98 - int(number) % 97:02d}"


def iban(rng: random.Random, country: str) -> str:
    """A checksum-valid IBAN for ``country`` (or for Germany when its format is not modelled)."""
    if country in _ALPHA_BANK:
        letters, digits = _ALPHA_BANK[country]
        if country == "BG":
            bban = (
                "".join(rng.choices(string.ascii_uppercase, k=4))
                + "".join(rng.choices(string.digits, k=6))
                + "".join(rng.choices(string.digits + string.ascii_uppercase, k=8))
            )
        elif country == "RO":
            bban = "".join(rng.choices(string.ascii_uppercase, k=4)) + "".join(
                rng.choices(string.digits, k=16)
            )
        else:
            bban = "".join(rng.choices(string.ascii_uppercase, k=letters)) + "".join(
                rng.choices(string.digits, k=digits)
            )
    else:
        if country not in _NUMERIC_BBAN:
            country = "DE"
        bban = "".join(rng.choices(string.digits, k=_NUMERIC_BBAN[country]))
    return country + _iban_check(country, bban) + bban


# ── VIN (ISO 3779; check digit per the North American rule, widely computed elsewhere) ─────

_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
WMI = {
    "WVW": "Volkswagen",
    "WBA": "BMW",
    "WDD": "Mercedes-Benz",
    "VF1": "Renault",
    "VF3": "Peugeot",
    "ZFA": "Fiat",
    "TMB": "Škoda",
    "YV1": "Volvo",
    "JHM": "Honda",
    "SAL": "Land Rover",
    "VSS": "SEAT",
    "SUU": "Solaris",
    "XTA": "Lada",
    "LSV": "SAIC VW",
}
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"


def vin_check_digit(vin: str) -> str:
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def vin(rng: random.Random) -> tuple[str, str]:
    """A VIN with a valid check digit, and the make its manufacturer code stands for."""
    wmi = rng.choice(sorted(WMI))
    vds = "".join(rng.choices(_VIN_CHARS, k=5))
    vis = (
        rng.choice(_YEAR_CODES) + rng.choice(_VIN_CHARS) + "".join(rng.choices(string.digits, k=6))
    )
    partial = wmi + vds + "0" + vis
    return wmi + vds + vin_check_digit(partial) + vis, WMI[wmi]


# ── Number plates (plausible national formats) ─────────────────────────────────────────────

_PLATE_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def plate(rng: random.Random, country: str) -> str:
    """A plate in a plausible national format (letters that national schemes actually use)."""

    def letters(k: int, alphabet: str = _PLATE_LETTERS) -> str:
        return "".join(rng.choices(alphabet, k=k))

    def digits(k: int) -> str:
        return "".join(rng.choices(string.digits, k=k))

    cyrillic_lookalikes = "ABEKMHOPCTYX"
    if country == "DE":
        district = rng.choice(["B", "M", "HH", "K", "F", "D", "S", "L"])
        return f"{district}-{letters(2)} {rng.randint(1, 9999)}"
    if country == "FR":
        return f"{letters(2)}-{digits(3)}-{letters(2)}"
    if country == "NL":
        return f"{letters(2)}-{digits(3)}-{letters(1)}"
    if country == "PL":
        return f"W{letters(1)} {digits(5)}"
    if country == "ES":
        return f"{digits(4)} {letters(3, 'BCDFGHJKLMNPRSTVWXYZ')}"
    if country == "IT":
        return f"{letters(2)} {digits(3)}{letters(2)}"
    if country == "GR":
        return f"{letters(3, 'ABEHIKMNOPTXYZ')}-{digits(4)}"
    if country == "RO":
        return f"B {digits(3)} {letters(3)}"
    if country == "BG":
        return f"CA {digits(4)} {letters(2, cyrillic_lookalikes)}"
    if country == "UA":
        return f"AA {digits(4)} {letters(2, cyrillic_lookalikes)}"
    if country == "RU":
        region = rng.choice(["77", "99", "197", "50"])
        series = letters(1, cyrillic_lookalikes), letters(2, cyrillic_lookalikes)
        return f"{series[0]}{digits(3)}{series[1]} {region}"
    return f"{letters(3)} {digits(3)}"


# ── Phones (E.164, drawn from number ranges libphonenumber considers valid) ─────────────────


@dataclass(frozen=True, slots=True)
class PhoneRange:
    country_code: int
    prefix: str
    random_digits: int


@lru_cache(maxsize=64)
def phone_range(region: str) -> PhoneRange:
    """A mobile range of ``region``: the example number's prefix with random trailing digits.

    The prefix is kept as short as still gives valid numbers for a sample of random suffixes,
    checked once here with libphonenumber, so the hot loop draws digits without parsing.
    """
    import phonenumbers

    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None or example.country_code is None or example.national_number is None:
        raise ValueError(f"no mobile example number for {region}")
    national = str(example.national_number)
    check = random.Random(region)
    for keep in range(2, len(national)):
        free = len(national) - keep
        prefix = national[:keep]
        ok = all(
            phonenumbers.is_valid_number(
                phonenumbers.parse(
                    f"+{example.country_code}{prefix}{check.randrange(10**free):0{free}d}"
                )
            )
            for _ in range(60)
        )
        if ok and free >= 4:
            return PhoneRange(example.country_code, prefix, free)
    return PhoneRange(example.country_code, national[:-4], 4)


def phone(rng: random.Random, region: str) -> str:
    """A valid E.164 mobile number of ``region``."""
    r = phone_range(region)
    return f"+{r.country_code}{r.prefix}{rng.randrange(10**r.random_digits):0{r.random_digits}d}"


FIREARM_MAKES = (
    "Glock",
    "Beretta",
    "Heckler & Koch",
    "SIG Sauer",
    "Walther",
    "CZ",
    "Zastava",
    "Smith & Wesson",
    "Colt",
    "Kalashnikov Concern",
    "FN Herstal",
    "Baikal",
)


def firearm_serial(rng: random.Random, make: str) -> str:
    if make == "Glock":
        return "".join(rng.choices(_PLATE_LETTERS, k=3)) + "".join(rng.choices(string.digits, k=3))
    if make == "Kalashnikov Concern":
        return (
            "".join(rng.choices(string.digits, k=2))
            + "-"
            + "".join(rng.choices(string.digits, k=6))
        )
    return "".join(rng.choices(string.ascii_uppercase, k=2)) + "".join(
        rng.choices(string.digits, k=6)
    )
