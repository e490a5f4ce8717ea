"""The synthetic network: agencies with their partner frameworks, and one user per role each."""

from __future__ import annotations

from dataclasses import dataclass

# Every demo user signs in with this password; the demo prints it. Never used outside the demo.
DEMO_PASSWORD = "liaison-demo-2026"  # noqa: S105 - the documented demo password

ROLES = ("officer", "analyst", "piu_operator", "alert_manager", "dpo", "admin")


@dataclass(frozen=True, slots=True)
class AgencySpec:
    code: str
    name: str
    country: str | None
    framework: str
    accreditation: str
    personal_data_basis: str | None = None
    holds_person_records: bool = True


@dataclass(frozen=True, slots=True)
class UserSpec:
    username: str
    agency_code: str
    roles: tuple[str, ...]
    display_name: str


AGENCIES: tuple[AgencySpec, ...] = (
    AgencySpec("DE-BKA", "Bundeskriminalamt", "DE", "member_state", "secret"),
    AgencySpec(
        "FR-DCPJ", "Direction centrale de la police judiciaire", "FR", "member_state", "secret"
    ),
    AgencySpec(
        "NL-NP", "Politie Nederland – Landelijke Eenheid", "NL", "member_state", "confidential"
    ),
    AgencySpec("PL-KGP", "Komenda Główna Policji", "PL", "member_state", "confidential"),
    AgencySpec("ES-CNP", "Cuerpo Nacional de Policía", "ES", "member_state", "confidential"),
    AgencySpec(
        "IT-SCIP",
        "Servizio per la Cooperazione Internazionale di Polizia",
        "IT",
        "member_state",
        "secret",
    ),
    AgencySpec("GR-HP", "Ελληνική Αστυνομία – Hellenic Police", "GR", "member_state", "restricted"),
    AgencySpec("EU-HUB", "EU Law Enforcement Cooperation Hub", None, "eu_body", "top_secret"),
    AgencySpec(
        "UA-NPU", "National Police of Ukraine", "UA", "third_country_agreement", "restricted"
    ),
    AgencySpec(
        "JP-NPA",
        "National Police Agency of Japan",
        "JP",
        "third_country_working_arrangement",
        "restricted",
        holds_person_records=False,
    ),
    AgencySpec(
        "IO-ICPO",
        "International Criminal Police Organization liaison office",
        None,
        "international_organisation",
        "restricted",
        personal_data_basis="cooperation agreement recorded by the hub",
    ),
)


def _users() -> tuple[UserSpec, ...]:
    users = []
    for agency in AGENCIES:
        prefix = agency.code.split("-")[0].lower() if agency.country else agency.code.lower()
        for role in ROLES:
            users.append(
                UserSpec(
                    username=f"{prefix}.{role.replace('_', '')}",
                    agency_code=agency.code,
                    roles=(role,),
                    display_name=f"{agency.code} {role.replace('_', ' ')}",
                )
            )
    return tuple(users)


USERS: tuple[UserSpec, ...] = _users()
