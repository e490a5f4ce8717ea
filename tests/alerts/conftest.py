"""Agencies of every partner framework with alert managers and officers, and one-line helpers
to issue alerts and run checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from liaison.alerts import checks, service
from liaison.alerts.checks import CheckResult
from liaison.alerts.drafts import parse_alert
from liaison.alerts.model import Alert
from liaison.core.actor import Actor, Role
from liaison.core.agencies import Agency, PartnerFramework
from liaison.core.markings import Classification
from liaison.db.engine import Database
from liaison.identity.model import User
from tests.support.factories import actor_of, agency, user

PURPOSE = "border check, Terminal 2"


@dataclass
class World:
    db: Database
    a: Agency  # DE: issues most alerts
    b: Agency  # NL: checks
    manager_a: User
    officer_a: User
    manager_b: User
    officer_b: User
    officer_wa: User  # third country under a working arrangement (no personal data)
    officer_io: User  # international organisation without a personal-data agreement
    officer_low: User  # member state accredited only to RESTRICTED
    officer_fr: User  # FR: a diffusion's selected country in some tests

    def actor(self, who: User, purpose: str | None = PURPOSE) -> Actor:
        return actor_of(who, purpose)

    def issue(self, raw: Mapping[str, Any], who: User | None = None) -> Alert:
        with self.db.session() as s:
            return service.issue(s, self.actor(who or self.manager_a), parse_alert(raw))

    def check_person(self, who: User, purpose: str | None = PURPOSE, **fields: str) -> CheckResult:
        with self.db.session() as s:
            return checks.check_person(s, self.actor(who, purpose), fields)

    def check_object(self, who: User, purpose: str | None = PURPOSE, **fields: str) -> CheckResult:
        with self.db.session() as s:
            return checks.check_object(s, self.actor(who, purpose), fields)


@pytest.fixture
def world(db: Database) -> World:
    with db.session() as s:
        a = agency(s, "DE-BKA", country="DE")
        b = agency(s, "NL-NP", country="NL")
        fr = agency(s, "FR-DCPJ", country="FR")
        wa = agency(
            s,
            "JP-NPA",
            country="JP",
            framework=PartnerFramework.THIRD_COUNTRY_WORKING_ARRANGEMENT,
            accreditation=Classification.RESTRICTED,
        )
        io = agency(
            s,
            "IO-X",
            country=None,
            framework=PartnerFramework.INTERNATIONAL_ORGANISATION,
            accreditation=Classification.RESTRICTED,
        )
        low = agency(s, "GR-HP", country="GR", accreditation=Classification.RESTRICTED)
        return World(
            db,
            a,
            b,
            manager_a=user(s, a, Role.ALERT_MANAGER, username="a.manager"),
            officer_a=user(s, a, Role.OFFICER, username="a.officer"),
            manager_b=user(s, b, Role.ALERT_MANAGER, username="b.manager"),
            officer_b=user(s, b, Role.OFFICER, username="b.officer"),
            officer_wa=user(s, wa, Role.OFFICER, username="wa.officer"),
            officer_io=user(s, io, Role.OFFICER, username="io.officer"),
            officer_low=user(s, low, Role.OFFICER, username="low.officer"),
            officer_fr=user(s, fr, Role.OFFICER, username="fr.officer"),
        )


def arrest(**subject: Any) -> dict[str, Any]:
    """An arrest alert (EAW) on Aleksandr Ivanov unless told otherwise."""
    props = {
        "given_name": "Aleksandr",
        "family_name": "Ivanov",
        "name_original": "Александр Иванов",
        "dob": "1980-03-12",
        "nationality": "RU",
        "judicial_authority": "Amtsgericht Köln",
        "warrant_reference": "EAW-2026-0042",
    }
    props.update(subject)
    return {
        "category": "arrest_surrender",
        "subject": {k: v for k, v in props.items() if v is not None},
        "reason": "wanted for armed robbery (EAW of 2026-01-10)",
        "warnings": ["armed", "violent"],
        "crime_area": "robbery_aggravated_theft",
    }


def stolen_car(plate: str = "B-AB 1234", vin: str = "WVWZZZ1JZXW000001") -> dict[str, Any]:
    return {
        "category": "vehicle",
        "subject": {"plate": plate, "plate_country": "DE", "vin": vin, "make": "Volkswagen"},
        "reason": "stolen in Berlin on 2026-02-01",
    }


def passport(number: str = "C01X00T47", status: str = "stolen") -> dict[str, Any]:
    return {
        "category": "document_issued",
        "subject": {
            "number": number,
            "issuing_country": "DE",
            "document_type": "passport",
            "document_status": status,
        },
        "reason": f"passport reported {status}",
    }
