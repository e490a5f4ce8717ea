"""The demo's alerts: a few hundred alerts issued from the synthetic world by its agencies'
alert managers — persons wanted, missing or to be checked, notices and diffusions, stolen
vehicles, passports and firearms — with a couple of flags and confirmed hits.

``seed_alerts(session, persons=…, seed=…)`` issues them in a session; ``seed_demo`` is the
entry point the demo command calls.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from typing import Any

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from liaison.alerts import hits, service
from liaison.alerts.categories import CATEGORIES
from liaison.alerts.drafts import parse_alert
from liaison.alerts.model import Alert
from liaison.core.actor import Actor, Role
from liaison.core.errors import LiaisonError
from liaison.db.engine import Database
from liaison.entities.synthetic import person_contribution
from liaison.identity.model import User
from liaison.identity.service import actor_for
from liaison.synth.world import Unit, iter_world

# One unit in this many carries an alert.
EVERY = 6
PERSON_KEYS = (
    "given_name",
    "middle_name",
    "family_name",
    "name_original",
    "dob",
    "gender",
    "nationality",
    "birth_place",
    "document_number",
    "document_country",
)
PERSON_CATEGORIES = (
    "arrest_surrender",
    "arrest_surrender",
    "arrest_extradition",
    "notice_red",
    "discreet_check",
    "specific_check",
    "inquiry_check",
    "judicial_procedure",
    "missing_adult",
    "notice_blue",
    "notice_green",
    "notice_yellow",
    "diffusion",
    "refusal_entry_stay",
    "return",
)


def _managers(session: Session) -> dict[str, Actor]:
    """One alert manager per agency, by agency code (the demo's ``xx.alertmanager`` users)."""
    users = session.scalars(select(User).where(User.username.like("%.alertmanager"))).all()
    out = {}
    for user in users:
        actor = actor_for(user)
        if actor.has(Role.ALERT_MANAGER):
            out[actor.agency_code] = actor
    return out


def _person_alert(
    rng: random.Random, unit: Unit, record: Mapping[str, Any]
) -> dict[str, Any] | None:
    props = person_contribution(record)["properties"]
    subject = {k: props[k] for k in PERSON_KEYS if props.get(k)}
    category = "missing_child" if unit.person.minor else rng.choice(PERSON_CATEGORIES)
    if category in ("refusal_entry_stay", "return") and (
        unit.person.nationality in CATEGORIES[category].excluded_nationalities
    ):
        category = "discreet_check"
    extra: dict[str, Any] = {}
    raw: dict[str, Any] = {
        "category": category,
        "id": f"DEMO-{record['record_id']}",
        "reason": f"synthetic case {record['record_id']} ({record.get('crime_area') or 'n/a'})",
        "crime_area": record.get("crime_area") or None,
        "classification": "restricted",
    }
    if category in ("arrest_surrender", "arrest_extradition", "notice_red"):
        extra = {
            "judicial_authority": "Investigating judge, synthetic court",
            "warrant_reference": f"W-{record['record_id']}",
        }
        raw["warnings"] = rng.sample(["armed", "violent", "escape_risk"], k=rng.randint(0, 2))
    elif category == "judicial_procedure":
        extra = {"judicial_authority": "Synthetic district court", "procedure": "witness"}
    elif category == "missing_adult":
        extra = {"protection_needed": rng.choice(["yes", "no"])}
    elif category == "missing_child":
        extra = {"protection_needs": "missing since the reference date; may be with a relative"}
    elif category == "notice_green":
        extra = {"offences": "repeated fraud against elderly persons"}
    elif category in ("refusal_entry_stay", "return"):
        extra = {"decision_reference": f"D-{record['record_id']}"}
    elif category == "diffusion":
        extra = {"purpose": "locate"}
        raw["diffusion_countries"] = rng.sample(["DE", "FR", "NL", "PL", "ES", "IT"], k=3)
    if category in ("inquiry_check", "diffusion"):
        raw["instructions"] = "Ask about the purpose and route of the journey; report at once."
    raw["subject"] = subject | extra
    return raw


def _object_alerts(
    rng: random.Random, unit: Unit, record: Mapping[str, Any]
) -> Iterator[dict[str, Any]]:
    person = unit.person
    if person.vehicle and rng.random() < 0.5:
        vin, make, plate, plate_country = person.vehicle
        yield {
            "category": "vehicle",
            "id": f"DEMO-{record['record_id']}-V",
            "subject": {"vin": vin, "make": make, "plate": plate, "plate_country": plate_country},
            "reason": "reported stolen (synthetic)",
        }
    if rng.random() < 0.3:
        yield {
            "category": "document_issued",
            "id": f"DEMO-{record['record_id']}-D",
            "subject": {
                "number": person.passport,
                "issuing_country": person.nationality,
                "document_type": "passport",
                "document_status": rng.choice(["stolen", "lost", "invalidated"]),
            },
            "reason": "reported by the holder (synthetic)",
        }
    if person.firearm and rng.random() < 0.7:
        make, serial = person.firearm
        yield {
            "category": "firearm",
            "id": f"DEMO-{record['record_id']}-F",
            "subject": {"make": make, "serial": serial, "firearm_status": "stolen"},
            "reason": "stolen from a licensed holder (synthetic)",
        }


def _issue(session: Session, actor: Actor, raw: Mapping[str, Any]) -> bool:
    try:
        with session.begin_nested():
            service.issue(session, actor, parse_alert(raw))
    except LiaisonError:
        return False
    return True


def seed_alerts(session: Session, *, persons: int = 2000, seed: int = 7) -> int:
    """Issue alerts from the synthetic world (about one person in six, and objects they
    hold) by the agency holding the person's primary record; returns how many were issued.
    Flags and confirmed hits follow on a few of them."""
    managers = _managers(session)
    rng = random.Random(seed * 7919)  # noqa: S311 - a seeded demo, not a secret
    issued = 0
    for number, unit in enumerate(iter_world(persons, seed)):
        if number % EVERY or not unit.records:
            continue
        record = unit.records[0]
        actor = managers.get(record["owner_agency"])
        if actor is None or not actor.personal_data_allowed:
            continue
        raw = _person_alert(rng, unit, record)
        if raw is not None and _issue(session, actor, raw):
            issued += 1
        for obj in _object_alerts(rng, unit, record):
            issued += _issue(session, actor, obj)
    _follow_ups(session)
    return issued


def _follow_ups(session: Session) -> None:
    """A flag and two confirmed hits, so that the flag, the hit-report queue and its deadlines
    have something to show."""
    officer = session.scalar(select(User).where(User.username == "nl.officer"))
    manager = session.scalar(select(User).where(User.username == "nl.alertmanager"))
    if officer is None or manager is None:
        return
    candidates = list(
        session.scalars(
            select(Alert)
            .where(
                Alert.category == "arrest_surrender", Alert.issuer_agency_id != officer.agency_id
            )
            .order_by(Alert.id)
            .limit(3)
        )
    )
    checker = actor_for(officer, "border check (demo)")
    for alert in candidates[:2]:
        try:
            with session.begin_nested():
                hits.confirm_hit(
                    session,
                    checker,
                    alert.id,
                    check_details={"place": "Schiphol, passport control", "document": "seen"},
                    circumstances="presented a passport at the border (demo)",
                    action_taken="held pending the issuing agency's answer",
                )
        except LiaisonError:
            continue
    if len(candidates) > 2:
        try:
            with session.begin_nested():
                service.flag(
                    session,
                    actor_for(manager),
                    candidates[2].id,
                    reason="the offence is not punishable here (demo)",
                )
        except LiaisonError:
            pass


def seed_demo(database: Database, *, persons: int, seed: int, console: Console) -> None:
    """The demo command's entry point: ``seed_alerts`` in one unit of work."""
    with database.session() as session:
        issued = seed_alerts(session, persons=persons, seed=seed)
    console.print(f"issued {issued} alerts")
