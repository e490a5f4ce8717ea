"""Markings carried by every piece of shared information.

Meanings follow the reference texts exactly: handling codes from the Council Manual on Law
Enforcement Information Exchange (6261/18), evaluation codes from Article 29 of Regulation (EU)
2016/794, crime areas from Annex I of that Regulation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from functools import lru_cache
from pathlib import Path


class HandlingCode(StrEnum):
    """Conditions of use attached by the provider."""

    H0 = "H0"
    H1 = "H1"
    H2 = "H2"
    H3 = "H3"

    @property
    def meaning(self) -> str:
        return HANDLING_MEANINGS[self]


HANDLING_MEANINGS: dict[HandlingCode, str] = {
    HandlingCode.H0: (
        "This information may only be used for the purpose of preventing and combating crimes "
        "in line with the ER and any other applicable law."
    ),
    HandlingCode.H1: (
        "Not to be disclosed in judicial proceedings without the permission of the provider."
    ),
    HandlingCode.H2: ("Not to be disseminated without the permission of the provider."),
    HandlingCode.H3: "Other restrictions and comments",
}


class Classification(IntEnum):
    """Security classification levels, ordered: accreditation to a level admits everything below."""

    UNCLASSIFIED = 0
    RESTRICTED = 1
    CONFIDENTIAL = 2
    SECRET = 3
    TOP_SECRET = 4

    @property
    def label(self) -> str:
        return CLASSIFICATION_LABELS[self]

    @classmethod
    def parse(cls, value: str | int | Classification) -> Classification:
        """Accept the enum, its number or its name in any case (``secret``, ``TOP_SECRET``)."""
        if isinstance(value, Classification):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[value.strip().upper().replace(" ", "_").replace("-", "_")]
        except KeyError:
            raise ValueError(f"unknown classification {value!r}") from None


CLASSIFICATION_LABELS: dict[Classification, str] = {
    Classification.UNCLASSIFIED: "UNCLASSIFIED",
    Classification.RESTRICTED: "RESTREINT UE / EU RESTRICTED",
    Classification.CONFIDENTIAL: "CONFIDENTIEL UE / EU CONFIDENTIAL",
    Classification.SECRET: "SECRET UE / EU SECRET",
    Classification.TOP_SECRET: "TRÈS SECRET UE / EU TOP SECRET",
}


class SourceReliability(StrEnum):
    """Article 29(1) Regulation (EU) 2016/794: reliability of the source."""

    A = "A"
    B = "B"
    C = "C"
    X = "X"

    @property
    def meaning(self) -> str:
        return SOURCE_MEANINGS[self]


SOURCE_MEANINGS: dict[SourceReliability, str] = {
    SourceReliability.A: (
        "no doubt as to the authenticity, trustworthiness and competence of the source, or "
        "information provided by a source which has proved to be reliable in all instances"
    ),
    SourceReliability.B: "source which has in most instances proved to be reliable",
    SourceReliability.C: "source which has in most instances proved to be unreliable",
    SourceReliability.X: "reliability of the source cannot be assessed",
}


class InformationReliability(StrEnum):
    """Article 29(2) Regulation (EU) 2016/794: accuracy of the information."""

    ONE = "1"
    TWO = "2"
    THREE = "3"
    FOUR = "4"

    @property
    def meaning(self) -> str:
        return INFORMATION_MEANINGS[self]


INFORMATION_MEANINGS: dict[InformationReliability, str] = {
    InformationReliability.ONE: "information the accuracy of which is not in doubt",
    InformationReliability.TWO: (
        "information known personally to the source but not known personally to the official "
        "passing it on"
    ),
    InformationReliability.THREE: (
        "information not known personally to the source but corroborated by other information "
        "already recorded"
    ),
    InformationReliability.FOUR: (
        "information not known personally to the source and which cannot be corroborated"
    ),
}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The 4x4 evaluation code, e.g. ``B2``."""

    source: SourceReliability
    information: InformationReliability

    @classmethod
    def parse(cls, code: str) -> Evaluation:
        code = code.strip().upper()
        if len(code) != 2:
            raise ValueError(f"evaluation code must be a letter and a digit, e.g. B2; got {code!r}")
        try:
            return cls(SourceReliability(code[0]), InformationReliability(code[1]))
        except ValueError:
            raise ValueError(
                f"evaluation code {code!r}: source must be A, B, C or X and information 1–4"
            ) from None

    @property
    def code(self) -> str:
        return f"{self.source.value}{self.information.value}"

    def __str__(self) -> str:
        return self.code


# Annex I of Regulation (EU) 2016/794, in the Annex's order (domain reference §14).
EUROPOL_CRIME_AREAS: dict[str, str] = {
    "terrorism": "terrorism",
    "organised_crime": "organised crime",
    "drug_trafficking": "drug trafficking",
    "money_laundering": "money-laundering activities",
    "nuclear_radioactive": "crime connected with nuclear and radioactive substances",
    "immigrant_smuggling": "immigrant smuggling",
    "trafficking_in_human_beings": "trafficking in human beings",
    "motor_vehicle_crime": "motor vehicle crime",
    "murder_grievous_bodily_injury": "murder and grievous bodily injury",
    "organ_trafficking": "illicit trade in human organs and tissue",
    "kidnapping_hostage_taking": "kidnapping, illegal restraint and hostage-taking",
    "racism_xenophobia": "racism and xenophobia",
    "robbery_aggravated_theft": "robbery and aggravated theft",
    "cultural_goods_trafficking": (
        "illicit trafficking in cultural goods, including antiquities and works of art"
    ),
    "swindling_fraud": "swindling and fraud",
    "eu_financial_interests": "crime against the financial interests of the Union",
    "insider_dealing_market_manipulation": "insider dealing and financial market manipulation",
    "racketeering_extortion": "racketeering and extortion",
    "counterfeiting_product_piracy": "counterfeiting and product piracy",
    "document_forgery": "forgery of administrative documents and trafficking therein",
    "money_payment_forgery": "forgery of money and means of payment",
    "computer_crime": "computer crime",
    "corruption": "corruption",
    "arms_trafficking": "illicit trafficking in arms, ammunition and explosives",
    "endangered_animal_trafficking": "illicit trafficking in endangered animal species",
    "endangered_plant_trafficking": (
        "illicit trafficking in endangered plant species and varieties"
    ),
    "environmental_crime": "environmental crime, including ship-source pollution",
    "hormonal_substances_trafficking": (
        "illicit trafficking in hormonal substances and other growth promoters"
    ),
    "sexual_abuse_exploitation": (
        "sexual abuse and sexual exploitation, including child abuse material and solicitation "
        "of children for sexual purposes"
    ),
    "genocide_crimes_against_humanity": "genocide, crimes against humanity and war crimes",
}


@lru_cache(maxsize=8)
def crime_areas(path: Path | None = None) -> dict[str, str]:
    """The configured crime areas: code → label.

    A deployment may supply a file with one ``code`` or ``code<TAB>label`` per line; blank lines
    and ``#`` comments are ignored. Without a file, the Europol mandate list applies.
    """
    if path is None:
        return dict(EUROPOL_CRIME_AREAS)
    areas: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        code, _, label = line.partition("\t")
        code = code.strip()
        if not code.replace("_", "").isalnum():
            raise ValueError(
                f"{path}:{number}: crime-area code {code!r} must be letters, digits, _"
            )
        areas[code] = label.strip() or code.replace("_", " ")
    if not areas:
        raise ValueError(f"{path}: no crime areas listed")
    return areas


def configured_crime_areas() -> dict[str, str]:
    """Crime areas per the process settings."""
    from liaison.core.settings import get_settings

    return crime_areas(get_settings().crime_areas_file)


@dataclass(frozen=True, slots=True)
class Markings:
    """Everything that travels with a piece of shared information."""

    owner_agency_id: str
    handling: HandlingCode = HandlingCode.H0
    classification: Classification = Classification.UNCLASSIFIED
    evaluation: Evaluation | None = None
    crime_area: str | None = None
    h3_conditions: str | None = None
    retention_until: dt.date | None = None

    def __post_init__(self) -> None:
        if self.handling is HandlingCode.H3 and not (self.h3_conditions or "").strip():
            raise ValueError("H3 needs its conditions written out")
        if self.handling is not HandlingCode.H3 and self.h3_conditions:
            raise ValueError("conditions are only given with handling code H3")
        if self.crime_area is not None and self.crime_area not in configured_crime_areas():
            raise ValueError(f"unknown crime area {self.crime_area!r}")

    @property
    def judicial_use_warning(self) -> str | None:
        """H1 text shown wherever the information is shown or exported."""
        if self.handling is HandlingCode.H1:
            return "Not for use in judicial proceedings without permission of the provider (H1)."
        return None
