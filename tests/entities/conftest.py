"""Two member agencies with officers, records to contribute, and helpers to run the cross-check."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from liaison.core.actor import Actor, Role
from liaison.core.agencies import Agency
from liaison.db.engine import Database
from liaison.entities.crosscheck import run_pending
from liaison.entities.model import Entity
from liaison.entities.service import contribute, parse_contribution
from liaison.identity.model import User
from tests.support.factories import actor_of, agency, user


@dataclass
class World:
    db: Database
    a: Agency
    b: Agency
    officer_a: User
    officer_b: User

    def actor(self, who: User, purpose: str | None = "investigation 2026/17") -> Actor:
        return actor_of(who, purpose)

    def add(self, who: User, raw: Mapping[str, Any]) -> Entity:
        with self.db.session() as s:
            entity, _ = contribute(s, self.actor(who), parse_contribution(raw))
            return entity

    def crosscheck(self) -> int:
        return run_pending(self.db)


@pytest.fixture
def world(db: Database) -> Iterator[World]:
    with db.session() as s:
        a = agency(s, "DE-BKA", country="DE")
        b = agency(s, "NL-NP", country="NL")
        officer_a = user(s, a, Role.OFFICER, username="a.officer")
        officer_b = user(s, b, Role.OFFICER, Role.ANALYST, username="b.officer")
    return World(db, a, b, officer_a, officer_b)


def person(ref: str, **props: str) -> dict[str, Any]:
    return {"type": "Person", "id": ref, "subject_category": "suspect", "properties": props}


def session_of(world: World) -> Session:
    return world.db.sessionmaker()
