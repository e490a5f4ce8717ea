"""Agencies of every framework with exchange users, and a helper to send drafts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from liaison.core.actor import Actor, Role
from liaison.core.agencies import Agency, PartnerFramework
from liaison.core.markings import Classification
from liaison.core.settings import Settings
from liaison.db.engine import Database
from liaison.exchange import service
from liaison.exchange.model import Accessibility, Message, MessageType, Priority
from liaison.exchange.service import Draft
from liaison.identity.model import User
from tests.support.factories import actor_of, agency, user


@dataclass
class Net:
    db: Database
    settings: Settings
    de: Agency
    nl: Agency
    fr: Agency
    wa: Agency  # third country, working arrangement only
    hub: Agency
    de_officer: User
    nl_officer: User
    fr_officer: User
    wa_officer: User
    hub_analyst: User
    de_dpo: User

    def actor(self, who: User) -> Actor:
        return actor_of(who, "investigation 2026/17")

    def send(self, who: User, draft: Draft, **kwargs: Any) -> Message:
        with self.db.session() as s:
            return service.send(s, self.actor(who), draft, settings=self.settings, **kwargs)


def draft(**changes: Any) -> Draft:
    base = Draft(
        to=("NL-NP",),
        subject="Identity of the driver of NL plate 12-ABC-3",
        body="Please provide the registered keeper. Suspect: Jan de Vries, born 7 March 1984.",
        legal_basis="Directive (EU) 2023/977 Art. 4",
        purpose="investigation of armed robbery DE-2026-0412",
        message_type=MessageType.REQUEST,
        priority=Priority.URGENT,
        accessibility=Accessibility.DIRECT,
        crime_area="robbery_aggravated_theft",
        classification=Classification.RESTRICTED,
    )
    return replace(base, **changes)


@pytest.fixture
def net(db: Database, settings: Settings) -> Iterator[Net]:
    with db.session() as s:
        de = agency(s, "DE-BKA", country="DE")
        nl = agency(s, "NL-NP", country="NL", accreditation=Classification.RESTRICTED)
        fr = agency(s, "FR-PN", country="FR")
        wa = agency(
            s,
            "XA-POL",
            country="RS",
            framework=PartnerFramework.THIRD_COUNTRY_WORKING_ARRANGEMENT,
        )
        hub = agency(s, "EU-HUB", country=None, framework=PartnerFramework.EU_BODY)
        users = (
            user(s, de, Role.OFFICER, username="de.officer"),
            user(s, nl, Role.OFFICER, username="nl.officer"),
            user(s, fr, Role.OFFICER, username="fr.officer"),
            user(s, wa, Role.OFFICER, username="xa.officer"),
            user(s, hub, Role.ANALYST, username="hub.analyst"),
            user(s, de, Role.DPO, username="de.dpo"),
        )
    return Net(db, settings, de, nl, fr, wa, hub, *users)
