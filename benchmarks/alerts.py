"""Alerts and checks at scale: object and person checks over a million alerts in force.

``python -m benchmarks.alerts [--alerts N] [--persons-share S] [--backend sqlite|postgresql|both]``

1. *The store*: N alerts in force, a share S of them on persons (by default 1,000,000 and 0.2).
   Person alerts are issued from the synthetic world (``iter_world``), one per person, from the
   person's primary record as ``alerts.demo`` writes them (arrest, missing persons, checks,
   notices, diffusions…) by the agency holding that record. Object alerts spread over the object
   categories, documents the majority (SLTD-like), then vehicles (plate and VIN), firearms
   (make and serial), plates, banknotes, IT equipment, registration documents, boats, aircraft,
   payment cards and other objects, with identifiers in national formats and valid check digits.
2. *Bulk fill*: every alert goes through ``drafts.parse_alert`` (the validation and
   normalisation of the issue path, ``identifiers.object_key`` included), under the issuing
   agency's ``can_issue_alert``; the service's own ``_apply`` and ``snapshot`` give its columns
   and first version, its identifier keys are written as ``_store_keys_and_links`` writes them
   (the smoke test checks the rows equal ``service.issue``'s). The rows are built once and
   inserted per backend with SQLAlchemy Core executemany; no audit entries are written for the
   bulk fill. A sample of the alerts is issued through ``service.issue`` instead
   (one unit of work each, audited) and its rate reported.
3. *Checks*, through ``checks.check_object``, ``checks.check_person`` and ``checks.check_batch``
   by an officer with a stated purpose, audited as in production, one unit of work per single
   check: object checks by identifier (half hits, written differently from the alert, half
   no-hits), person checks (other agencies' records of persons with and without alerts, names in
   their own script and in other romanisations, with the world's typos and date slips), batch
   throughput, and the time and memory to build the person index. Each beside a reference: the
   bare indexed SQL lookup of the same keys on the same table (on a connection of its own), and
   the same queries run straight on the matching engine's ``Index``. The SQL statements an
   object check and a batch chunk send are counted (the audit log's apart).
4. *Recall* of the synthetic truth by variation and band, and the false-hit rate (hits on
   another person's alert), on persons with and without alerts.

Each backend runs in its own process (peak RSS is that process's; the PostgreSQL server is not
included). Prints a table with the targets beside the figures, writes JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import random
import resource
import secrets
import string
import subprocess
import sys
import tempfile
import time
import traceback
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, create_engine, event, func, insert, select, text, update
from stdnum import luhn

from benchmarks.entities import machine, revision
from benchmarks.metrics import percentile
from liaison.alerts import checks, demo, service
from liaison.alerts.drafts import AlertDraft, parse_alert
from liaison.alerts.index import alert_index
from liaison.alerts.model import (
    Alert,
    AlertIdentifier,
    AlertSequence,
    AlertStatus,
    AlertVersion,
)
from liaison.core.actor import Actor, Role
from liaison.core.agencies import Agency
from liaison.core.audit import AuditEntry
from liaison.core.clock import utcnow
from liaison.core.errors import LiaisonError, ValidationFailed
from liaison.core.ids import new_id
from liaison.core.markings import Classification
from liaison.core.policy import alert_view, can_issue_alert
from liaison.db.engine import Database, make_engine
from liaison.db.migrate import upgrade
from liaison.identity.model import User
from liaison.identity.passwords import hash_password
from liaison.identity.service import actor_for
from liaison.matching import prepare
from liaison.synth import identifiers as ids
from liaison.synth.agencies import AGENCIES
from liaison.synth.variation import date_slip, fold, typo
from liaison.synth.world import Unit, iter_world

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "alerts.json"
DEFAULT_ALERTS = 1_000_000
DEFAULT_PERSONS_SHARE = 0.2
DEFAULT_OBJECT_QUERIES = 2_000
DEFAULT_PERSON_QUERIES = 1_000
DEFAULT_BATCH_OBJECTS = 10_000
DEFAULT_RECALL_PERSONS = 2_000
DEFAULT_NEGATIVES = 2_000
DEFAULT_SAMPLE = 2_000
BACKENDS = ("sqlite", "postgresql")
PURPOSE = "benchmark of alert checks"
CHECKER = "NL-NP"  # the checking officer's agency (a member state, accredited CONFIDENTIAL)
CHUNK = 2_000  # alerts per bulk transaction and per pickled chunk
WARMUP = 20
NO_ALERT_EVERY = 10  # one person in ten has no alert: the false-hit probes come from them
# An agency record written under another person's name (an alias) cannot be found by name.
UNFINDABLE = "alias"
TARGETS = {
    "object_check_p95_ms": 5.0,
    "person_check_p95_ms": 50.0,
    "batch_objects_per_s": 5_000.0,
    "batch_persons_per_s": 500.0,
}
# The recall criteria of tests/alerts/test_recall.py, applied at this size.
RECALL_CRITERIA = {
    "findable_recall_min": 0.97,
    "all_recall_min": 0.95,
    "per_variation_recall_min": 0.75,
    "false_hit_match_max": 0.03,
    "false_hit_any_max": 0.08,
}
PROBE_FIELDS = (
    "given_name",
    "middle_name",
    "family_name",
    "full_name",
    "name_original",
    "dob",
    "gender",
    "nationality",
    "birth_place",
    "document_number",
    "document_country",
)

# ── The network ──────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Member:
    """One synthetic agency with the ids of its rows: an alert manager and an officer."""

    code: str
    agency_id: str
    manager_id: str
    officer_id: str


def network() -> dict[str, Member]:
    return {a.code: Member(a.code, new_id(), new_id(), new_id()) for a in AGENCIES}


def network_rows(members: Mapping[str, Member], password_hash: str) -> list[Agency | User]:
    """Agencies and users with the given ids (transient rows)."""
    out: list[Agency | User] = []
    for spec in AGENCIES:
        m = members[spec.code]
        agency = Agency(
            id=m.agency_id,
            code=spec.code,
            name=spec.name,
            country=spec.country,
            framework=spec.framework,
            accreditation=int(Classification.parse(spec.accreditation)),
            personal_data_basis=spec.personal_data_basis,
            active=True,
        )
        out.append(agency)
        for user_id, role in ((m.manager_id, Role.ALERT_MANAGER), (m.officer_id, Role.OFFICER)):
            user = User(
                id=user_id,
                agency_id=agency.id,
                username=f"bench.{spec.code.lower()}.{role.value.replace('_', '')}",
                display_name=f"{spec.code} {role.label}",
                password_hash=password_hash,  # a random password nobody knows: never signs in
                roles_csv=role.value,
                active=True,
                failed_logins=0,
            )
            user.agency = agency
            out.append(user)
    return out


def managers(members: Mapping[str, Member]) -> dict[str, Actor]:
    """Agency code → its alert manager as ``actor_for`` makes it (from transient rows)."""
    rows = network_rows(members, "-")
    by_id = {r.id: r for r in rows if isinstance(r, User)}
    return {code: actor_for(by_id[m.manager_id]) for code, m in members.items()}


# ── Object alerts ────────────────────────────────────────────────────────────────────────────

ISSUER_COUNTRIES = ("DE", "FR", "NL", "PL", "ES", "IT", "GR", "UA")
PLATE_COUNTRIES = ("DE", "FR", "NL", "PL", "ES", "IT", "GR", "RO", "BG", "UA")
# Category (subject type) → share of the object alerts.
OBJECT_MIX: tuple[tuple[str, str, float], ...] = (
    ("document_issued", "IdentityDocument", 0.50),
    ("document_blank", "BlankDocument", 0.06),
    ("vehicle", "Vehicle", 0.12),
    ("object_discreet_check", "Vehicle", 0.02),
    ("number_plate", "NumberPlate", 0.05),
    ("vehicle_registration_document", "RegistrationDocument", 0.03),
    ("firearm", "Firearm", 0.08),
    ("banknote", "Banknote", 0.05),
    ("it_equipment", "ITEquipment", 0.04),
    ("boat", "Boat", 0.015),
    ("aircraft", "Aircraft", 0.005),
    ("payment_means", "PaymentMeans", 0.015),
    ("other_object", "OtherObject", 0.015),
)
LAPTOP_MAKES = ("Lenovo", "Dell", "HP", "Apple", "Asus", "Acer")
PHONE_MAKES = ("Samsung", "Apple", "Xiaomi", "Huawei", "Google")
BOAT_MAKES = ("Bayliner", "Beneteau", "Jeanneau", "Quicksilver", "Zodiac")
AIRCRAFT = (("DE", "D-E"), ("FR", "F-G"), ("NL", "PH-"), ("PL", "SP-"), ("IT", "I-"), ("ES", "EC-"))
CURRENCIES = (("EUR", 0.8), ("USD", 0.15), ("GBP", 0.05))


def _alnum(
    rng: random.Random, k: int, alphabet: str = string.ascii_uppercase + string.digits
) -> str:
    return "".join(rng.choices(alphabet, k=k))


def _digits(rng: random.Random, k: int) -> str:
    return "".join(rng.choices(string.digits, k=k))


def _with_check(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + _digits(rng, length - len(prefix) - 1)
    return body + luhn.calc_check_digit(body)


def _banknote(rng: random.Random, currency: str) -> str:
    if currency == "USD":
        return _alnum(rng, 2, string.ascii_uppercase) + _digits(rng, 8) + rng.choice("ABCDEFGHJK")
    if currency == "GBP":
        return _alnum(rng, 2, string.ascii_uppercase) + _digits(rng, 8)
    return rng.choice("NSUVXYZ") + rng.choice(string.ascii_uppercase) + _digits(rng, 10)


def object_subject(
    rng: random.Random, category: str, type_name: str, country: str
) -> dict[str, Any]:
    """One object alert's subject, in ``country``'s formats where it has any."""
    if type_name == "IdentityDocument":
        return {
            "number": ids.passport_number(rng, country),
            "issuing_country": country,
            "document_type": "passport" if rng.random() < 0.6 else "id_card",
            "document_status": rng.choice(("stolen", "lost", "lost", "invalidated")),
        }
    if type_name == "BlankDocument":
        return {
            "number": ids.passport_number(rng, country),
            "issuing_country": country,
            "document_type": rng.choice(("passport", "id_card", "residence_permit", "visa")),
            "document_status": rng.choice(("stolen", "lost")),
        }
    if type_name == "Vehicle":
        vin, make = ids.vin(rng)
        plate_country = rng.choice(PLATE_COUNTRIES)
        roll = rng.random()
        subject: dict[str, Any] = {"make": make}
        if roll < 0.9:
            subject["vin"] = vin
        if roll >= 0.8:
            subject |= {"plate": ids.plate(rng, plate_country), "plate_country": plate_country}
        subject["vehicle_type"] = rng.choice(("car", "car", "car", "van", "motorcycle", "truck"))
        return subject
    if type_name == "NumberPlate":
        plate_country = rng.choice(PLATE_COUNTRIES)
        return {"plate": ids.plate(rng, plate_country), "plate_country": plate_country}
    if type_name == "RegistrationDocument":
        return {
            "number": country[:1] + _alnum(rng, 8, "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"),
            "issuing_country": country,
            "vin": ids.vin(rng)[0],
            "document_status": rng.choice(("stolen", "lost", "invalidated")),
        }
    if type_name == "Firearm":
        make = rng.choice(ids.FIREARM_MAKES)
        return {
            "make": make,
            "serial": ids.firearm_serial(rng, make),
            "firearm_status": rng.choice(("lost", "stolen", "stolen", "trafficked")),
            "firearm_type": rng.choice(("pistol", "pistol", "revolver", "rifle", "shotgun")),
        }
    if type_name == "Banknote":
        currency = rng.choices([c for c, _ in CURRENCIES], [w for _, w in CURRENCIES])[0]
        return {
            "currency": currency,
            "serial_number": _banknote(rng, currency),
            "denomination": rng.choice((20, 50, 100, 200, 500)),
        }
    if type_name == "ITEquipment":
        if rng.random() < 0.5:
            return {
                "equipment_type": "phone",
                "make": rng.choice(PHONE_MAKES),
                "imei": _with_check(rng, rng.choice(("35", "86", "01")), 15),
            }
        return {
            "equipment_type": rng.choice(("laptop", "tablet", "storage")),
            "make": rng.choice(LAPTOP_MAKES),
            "serial_number": _alnum(rng, rng.randint(8, 12)),
        }
    if type_name == "Boat":
        return {
            "hull_number": _alnum(rng, 3, string.ascii_uppercase)
            + _alnum(rng, 5)
            + rng.choice("ABCDEFGHIJKL")
            + _digits(rng, 3),
            "registration": f"{country}-{_digits(rng, 4)}-{_alnum(rng, 2, string.ascii_uppercase)}",
            "flag_country": country,
            "boat_type": rng.choice(("motor_boat", "sailing_boat", "jet_ski", "yacht")),
            "make": rng.choice(BOAT_MAKES),
        }
    if type_name == "Aircraft":
        registry, prefix = rng.choice(AIRCRAFT)
        return {
            "registration": prefix + _alnum(rng, 3, string.ascii_uppercase),
            "registration_country": registry,
            "serial_number": f"{_digits(rng, 3)}-{_digits(rng, 5)}",
            "aircraft_type": rng.choice(("aeroplane", "helicopter", "glider", "drone")),
        }
    if type_name == "PaymentMeans":
        return {
            "card_number": _with_check(rng, rng.choice(("4", "51", "55", "37")), 16),
            "issuer_name": rng.choice(("Visa", "Mastercard", "American Express")),
        }
    return {  # OtherObject
        "description": rng.choice(("Painting, oil on canvas", "Wristwatch", "Bicycle", "Drone")),
        "object_type": rng.choice(("artwork", "watch", "bicycle", "drone")),
        "serial_number": f"{_alnum(rng, 3, string.ascii_uppercase)}-{_digits(rng, 6)}",
    }


def object_raw(
    rng: random.Random, number: int, code: str, country: str, category: str | None = None
) -> dict[str, Any]:
    """An object alert as its issuer submits it: of ``category``, else one drawn by the mix."""
    if category is None:
        category, type_name, _ = rng.choices(OBJECT_MIX, [w for *_, w in OBJECT_MIX])[0]
    else:
        type_name = next(t for c, t, _ in OBJECT_MIX if c == category)
    raw: dict[str, Any] = {
        "category": category,
        "subject_type": type_name,
        "id": f"O-{number:08d}",
        "subject": object_subject(rng, category, type_name, country),
        "reason": f"reported to {code} (synthetic case {number})",
    }
    if category == "object_discreet_check":
        raw["instructions"] = "Record the occupants and the route; do not stop the vehicle."
    return raw


# What an object check gives for each identifier kind: (value, country, make) of a subject.
KEY_FIELDS: dict[str, tuple[tuple[str, str, str | None, str | None], ...]] = {
    "IdentityDocument": (("document", "number", "issuing_country", None),),
    "BlankDocument": (("document", "number", "issuing_country", None),),
    "RegistrationDocument": (
        ("document", "number", "issuing_country", None),
        ("vin", "vin", None, None),
    ),
    "Vehicle": (("vin", "vin", None, None), ("plate", "plate", "plate_country", None)),
    "NumberPlate": (("plate", "plate", "plate_country", None),),
    "Firearm": (("firearm", "serial", None, "make"),),
    "Banknote": (("banknote", "serial_number", None, "currency"),),
    "ITEquipment": (("imei", "imei", None, None), ("serial", "serial_number", None, None)),
    "Boat": (
        ("hull", "hull_number", None, None),
        ("boat_registration", "registration", "flag_country", None),
    ),
    "Aircraft": (
        ("aircraft_registration", "registration", "registration_country", None),
        ("serial", "serial_number", None, None),
    ),
    "PaymentMeans": (("card", "card_number", None, None),),
    "OtherObject": (("serial", "serial_number", None, None),),
}


def rewrite(rng: random.Random, value: str) -> str:
    """The identifier as another officer types it: case, spaces and hyphens differ."""
    roll = rng.random()
    if roll < 0.3:
        return value.lower()
    if roll < 0.55:
        return value.replace("-", "").replace(" ", "")
    if roll < 0.7 and len(value) > 4:
        cut = rng.randrange(2, len(value) - 1)
        return f"{value[:cut]} {value[cut:]}"
    return value


def object_fields(
    rng: random.Random, type_name: str, subject: Mapping[str, Any], *, rewritten: bool
) -> dict[str, Any] | None:
    """An object check's fields for one of the subject's identifiers."""
    options = [spec for spec in KEY_FIELDS[type_name] if subject.get(spec[1])]
    if not options:
        return None
    kind, value_name, country_name, make_name = rng.choice(options)
    value = str(subject[value_name])
    fields: dict[str, Any] = {"kind": kind, "value": rewrite(rng, value) if rewritten else value}
    if country_name and subject.get(country_name):
        fields["country"] = subject[country_name]
    if make_name and subject.get(make_name):
        fields["make"] = subject[make_name]
    return fields


# ── Person probes ────────────────────────────────────────────────────────────────────────────


def non_latin(value: str) -> bool:
    return any(c.isalpha() and not unicodedata.name(c, "").startswith("LATIN") for c in value)


def record_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in PROBE_FIELDS if record.get(k)}


def spoken_probe(rng: random.Random, unit: Unit) -> tuple[dict[str, Any], list[str]]:
    """A check typed from what the person shows or says: a non-Latin name in its own script,
    a Latin name as in the passport or with one slip (``variation.typo`` or ``fold``); the
    birth date through ``variation.date_slip`` (swapped, a year off, partial or missing, as
    often as in the world's records); the nationality left out as often as records leave it."""
    person = unit.person
    name = person.name
    notes: list[str] = []
    fields: dict[str, Any] = {}
    if name.script != "latin":
        fields["full_name"] = (
            name.family_native + name.given_native
            if name.script == "han"
            else f"{name.given_native} {name.family_native}"
        )
        notes.append("own_script")
    else:
        given, family = name.given_latin, name.family_latin
        roll = rng.random()
        if roll < 1 / 3:
            family = typo(family, rng)
            notes.append("typo_family")
        elif roll < 2 / 3:
            given, family = fold(given, rng), fold(family, rng)
            notes.append("folded")
        fields |= {"given_name": given, "family_name": family}
    dob, dob_note = date_slip(person.born, rng)
    if dob:
        fields["dob"] = dob
    if dob_note != "exact":
        notes.append(dob_note)
    if rng.random() < 0.85:
        fields["nationality"] = person.nationality
    else:
        notes.append("nationality_missing")
    fields["gender"] = "M" if person.gender == "m" else "F"
    return fields, notes


@dataclass(frozen=True, slots=True)
class PersonProbe:
    """A person check with what the truth says: the alert of the person (its source reference)
    or None when the person has no alert, the variations it carries, its script and form."""

    fields: dict[str, Any]
    person: str
    alert_ref: str | None
    variations: tuple[str, ...]
    script: str
    form: str  # record (another agency's record) or spoken (name typed from the person)
    alert: dict[str, Any] | None = None  # what visibility depends on


@dataclass(frozen=True, slots=True)
class ObjectProbe:
    fields: dict[str, Any]
    alert_ref: str | None  # None: no alert has this identifier (by construction)
    category: str | None


# ── Building the store (once, shared by the backends) ───────────────────────────────────────


def _columns(row: Any) -> dict[str, Any]:
    """A mapped row's column values by name."""
    return {c.key: getattr(row, c.key) for c in type(row).__table__.columns}


ALERT_COLUMNS = tuple(c.key for c in Alert.__table__.columns)


def identifier_rows(alert_id: str, draft: AlertDraft) -> list[dict[str, Any]]:
    """The ``alert_identifiers`` rows of a new alert, as ``service._store_keys_and_links``
    writes them: each key once, strong when any identifier gives it as its strong key."""
    rows: dict[str, dict[str, Any]] = {}
    for key in draft.keys:
        for value in key.keys:
            strong = value == key.key
            if value in rows:
                rows[value]["strong"] = rows[value]["strong"] or strong
                continue
            rows[value] = {
                "alert_id": alert_id,
                "key": value[:200],
                "kind": key.kind,
                "country": key.country,
                "strong": strong,
            }
    return list(rows.values())


def alert_rows(
    draft: AlertDraft, actor: Actor, change_seq: int, now: dt.datetime
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """The rows ``service.issue`` writes for ``draft`` — the alert, its identifier keys, its
    first version — under the same policy (``can_issue_alert``); the audit entry is left out.

    The alert's columns come from the service's own ``_apply`` and the version's content from
    its ``snapshot``, on a plain object (an ORM instance per alert costs more than the
    validation); ``tests/benchmarks/test_alerts_bench.py`` checks the rows equal those of
    ``service.issue`` for every category."""
    can_issue_alert(
        actor, personal_data=draft.etype.personal_data, classification=draft.classification
    ).enforce()
    alert = SimpleNamespace(
        id=new_id(),
        issuer_agency_id=actor.agency_id,
        source_ref=draft.source_ref,
        status=AlertStatus.ACTIVE.value,
        version=1,
        change_seq=change_seq,
        created_at=now,
        updated_at=now,
        created_by=actor.username,
    )
    service._apply(alert, draft)  # type: ignore[arg-type]
    version = {
        "alert_id": alert.id,
        "version": 1,
        "change": "issued",
        "snapshot": service.snapshot(alert),  # type: ignore[arg-type]
        "note": None,
        "changed_by": actor.username,
        "changed_agency_id": actor.agency_id,
        "changed_at": now,
    }
    row = {name: getattr(alert, name) for name in ALERT_COLUMNS}
    return row, identifier_rows(alert.id, draft), version


@dataclass(slots=True)
class BuildStats:
    alerts: int = 0
    persons: int = 0
    objects: int = 0
    sample: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    world_persons: int = 0
    world_s: float = 0.0
    parse_s: float = 0.0
    rows_s: float = 0.0
    seconds: float = 0.0
    by_category: Counter[str] = field(default_factory=Counter)
    keys: int = 0

    def as_dict(self) -> dict[str, Any]:
        built = self.alerts - self.sample
        return {
            "alerts": self.alerts,
            "person_alerts": self.persons,
            "object_alerts": self.objects,
            "bulk_rows_built": built,
            "service_sample": self.sample,
            "identifier_keys": self.keys,
            "by_category": dict(self.by_category.most_common()),
            "world_persons": self.world_persons,
            "rejected": dict(self.rejected.most_common(5)),
            "seconds": round(self.seconds, 2),
            "world_s": round(self.world_s, 2),
            "parse_alert_s": round(self.parse_s, 2),
            "rows_s": round(self.rows_s, 2),
            "alerts_per_s": round(self.alerts / self.seconds, 1) if self.seconds else None,
            "parse_alert_per_s": round(built / self.parse_s, 1) if self.parse_s else None,
            "rows_per_s": round(built / (self.parse_s + self.rows_s), 1)
            if self.parse_s + self.rows_s
            else None,
        }


@dataclass(slots=True)
class Header:
    """What the children need besides the rows: the network, the probes, the build's figures."""

    alerts: int
    persons_share: float
    seed: int
    members: dict[str, Member]
    person_probes: list[PersonProbe]
    object_probes: list[ObjectProbe]
    build: dict[str, Any]


class _Reservoir:
    """A uniform sample of at most ``size`` items of a stream."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self.size = size
        self.rng = rng
        self.items: list[Any] = []
        self.seen = 0

    def offer(self, make: Callable[[], Any]) -> None:
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append(make())
        elif (slot := self.rng.randrange(self.seen)) < self.size:
            self.items[slot] = make()


def _persons_of(
    persons_wanted: int, seed: int, allowed: set[str], stats: BuildStats
) -> Iterator[tuple[Unit, bool]]:
    """(unit, has an alert) until ``persons_wanted`` persons have one; one in ten has none, nor
    has a person whose holding agency may not issue alerts with personal data."""
    given = 0
    for number, unit in enumerate(iter_world(max(4 * persons_wanted, 100), seed)):
        if given >= persons_wanted:
            return
        stats.world_persons += 1
        has_alert = number % NO_ALERT_EVERY != NO_ALERT_EVERY - 1 and bool(unit.records)
        has_alert = has_alert and unit.records[0]["owner_agency"] in allowed
        given += has_alert
        yield unit, has_alert


def build_store(args: argparse.Namespace, path: Path, log: Callable[[str], None]) -> Header:
    """Generate and validate every alert once; write the rows to ``path`` in chunks."""
    started = time.perf_counter()
    rng = random.Random(args.seed * 1_000_003 + 7)
    probe_rng = random.Random(args.seed * 7919 + 3)
    members = network()
    actors = managers(members)
    allowed = {code for code, a in actors.items() if a.personal_data_allowed}
    object_issuers = [
        (spec.code, spec.country)
        for spec in AGENCIES
        if spec.country in ISSUER_COUNTRIES and spec.code in allowed
    ]
    total = args.alerts
    persons_wanted = round(total * args.persons_share)
    sample_every = max(1, total // args.sample) if args.sample else 0
    stats = BuildStats()
    positives = _Reservoir(args.recall_persons, probe_rng)
    negatives = _Reservoir(args.negatives, probe_rng)
    object_hits = _Reservoir(max(args.object_queries, args.batch_objects) // 2, probe_rng)
    persons = _persons_of(persons_wanted, args.seed, allowed, stats)
    chunk: list[tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]] = []
    sample: list[tuple[str, dict[str, Any]]] = []
    demo_rng = random.Random(args.seed * 7919)
    seq = 0
    object_number = 0
    with path.open("wb") as out:
        slot = 0
        while slot < total:
            is_person = (slot + 1) * persons_wanted // total > slot * persons_wanted // total
            t0 = time.perf_counter()
            if is_person:
                unit = None
                for candidate, has_alert in persons:
                    if has_alert:
                        unit = candidate
                        break
                    if len(candidate.records):
                        _offer_negative(negatives, candidate)
                if unit is None:  # the world ran out (cannot happen with 4× persons)
                    raise RuntimeError("the synthetic world is too small")
                record = unit.records[0]
                code = record["owner_agency"]
                raw = demo._person_alert(demo_rng, unit, record)
                assert raw is not None
                raw["id"] = f"P-{record['record_id']}"
            else:
                object_number += 1
                code, country = object_issuers[rng.randrange(len(object_issuers))]
                raw = object_raw(rng, object_number, code, str(country))
            t1 = time.perf_counter()
            stats.world_s += t1 - t0
            slot += 1
            if sample_every and slot % sample_every == 0 and len(sample) < args.sample:
                sample.append((code, raw))
                stats.sample += 1
            else:
                try:
                    draft = parse_alert(raw)
                except ValidationFailed as exc:
                    stats.rejected[exc.detail[:120]] += 1
                    slot -= 1  # another one takes its place
                    continue
                t2 = time.perf_counter()
                seq += 1
                rows = alert_rows(draft, actors[code], seq, utcnow())
                chunk.append(rows)
                stats.keys += len(rows[1])
                stats.parse_s += t2 - t1
                stats.rows_s += time.perf_counter() - t2
            stats.alerts += 1
            stats.by_category[raw["category"]] += 1
            if is_person:
                stats.persons += 1
                if len(unit.records) > 1:
                    positives.offer(lambda u=unit, r=raw: _positive(probe_rng, u, r))
            else:
                stats.objects += 1
                object_hits.offer(lambda r=raw: _object_hit(probe_rng, r))
            if len(chunk) >= CHUNK:
                pickle.dump(chunk, out, protocol=pickle.HIGHEST_PROTOCOL)
                chunk = []
            if stats.alerts % 100_000 == 0:
                log(f"  built {stats.alerts:,} alerts ({time.perf_counter() - started:.0f} s)")
        for candidate, has_alert in persons:  # the rest of the world's negatives, if any
            if not has_alert:
                _offer_negative(negatives, candidate)
        if chunk:
            pickle.dump(chunk, out, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(("sample", sample, seq), out, protocol=pickle.HIGHEST_PROTOCOL)
    stats.seconds = time.perf_counter() - started
    person_probes = [p for group in positives.items for p in group]
    person_probes += [p for group in negatives.items for p in group]
    object_probes = [p for p in object_hits.items if p is not None]
    object_probes += no_hit_objects(random.Random(args.seed * 31 + 5), len(object_probes))
    return Header(
        alerts=total,
        persons_share=args.persons_share,
        seed=args.seed,
        members=members,
        person_probes=person_probes,
        object_probes=object_probes,
        build=stats.as_dict(),
    )


def _positive(rng: random.Random, unit: Unit, raw: Mapping[str, Any]) -> list[PersonProbe]:
    """Every other record of a person with an alert, and one check typed from the person."""
    script = unit.person.name.script
    alert = {
        "category": raw["category"],
        "classification": raw.get("classification"),
        "diffusion_countries": list(raw.get("diffusion_countries") or []),
        "owner": unit.records[0]["owner_agency"],
    }
    probes = [
        PersonProbe(
            record_fields(record),
            unit.person.person_id,
            raw["id"],
            tuple(v for v in record["variations"].split(";") if v) or ("none",),
            script,
            "record",
            alert,
        )
        for record in unit.records[1:]
    ]
    fields, notes = spoken_probe(rng, unit)
    probes.append(
        PersonProbe(
            fields,
            unit.person.person_id,
            raw["id"],
            tuple(notes) or ("none",),
            script,
            "spoken",
            alert,
        )
    )
    return probes


def _offer_negative(reservoir: _Reservoir, unit: Unit) -> None:
    def make() -> list[PersonProbe]:
        record = reservoir.rng.choice(unit.records)
        return [
            PersonProbe(
                record_fields(record),
                unit.person.person_id,
                None,
                tuple(v for v in record["variations"].split(";") if v) or ("none",),
                unit.person.name.script,
                "record",
            )
        ]

    reservoir.offer(make)


def _object_hit(rng: random.Random, raw: Mapping[str, Any]) -> ObjectProbe | None:
    fields = object_fields(rng, raw["subject_type"], raw["subject"], rewritten=True)
    return None if fields is None else ObjectProbe(fields, raw["id"], raw["category"])


def no_hit_objects(rng: random.Random, count: int) -> list[ObjectProbe]:
    """Identifiers of the same kinds and formats that no alert has (drawn from another stream;
    a coincidence with a stored one is counted, not assumed away)."""
    out = []
    while len(out) < count:
        category, type_name, _ = rng.choices(OBJECT_MIX, [w for *_, w in OBJECT_MIX])[0]
        country = rng.choice(ISSUER_COUNTRIES)
        subject = object_subject(rng, category, type_name, country)
        fields = object_fields(rng, type_name, subject, rewritten=False)
        if fields is not None:
            out.append(ObjectProbe(fields, None, category))
    return out


def read_store(path: Path) -> Iterator[Any]:
    with path.open("rb") as f:
        while True:
            try:
                yield pickle.load(f)  # noqa: S301 - this run's own file
            except EOFError:
                return


# ── One backend ──────────────────────────────────────────────────────────────────────────────


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _latencies(values: Sequence[float]) -> dict[str, Any]:
    total = sum(values) / 1000
    return {
        "queries": len(values),
        "p50_ms": round(percentile(values, 50), 3),
        "p95_ms": round(percentile(values, 95), 3),
        "p99_ms": round(percentile(values, 99), 3),
        "mean_ms": round(sum(values) / len(values), 3) if values else None,
        "queries_per_s": round(len(values) / total, 1) if total else None,
    }


def _ratio(a: Any, b: Any) -> float | None:
    return round(a / b, 2) if a and b else None


def _database_url(backend: str, workdir: Path, postgres_url: str | None) -> tuple[str, Any]:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'alerts.db'}", lambda: None
    cluster = None
    if postgres_url:
        admin_url, name = postgres_url, f"liaison_bench_alerts_{os.getpid()}"
    else:
        from tests.support.postgres import start_cluster

        cluster = start_cluster()
        admin_url, name = cluster.admin_url, "liaison_bench_alerts"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()

    def cleanup() -> None:
        if cluster is not None:
            cluster.stop()
            return
        drop = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with drop.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        drop.dispose()

    return f"{admin_url.rsplit('/', 1)[0]}/{name}", cleanup


def bulk_fill(database: Database, path: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Insert the prepared rows, ``CHUNK`` alerts per transaction; then the change number."""
    load_s = insert_s = 0.0
    alerts = keys = 0
    sample: list[tuple[str, dict[str, Any]]] = []
    top = 0
    stream = read_store(path)
    while True:
        t0 = time.perf_counter()
        item = next(stream, None)
        load_s += time.perf_counter() - t0
        if item is None:
            break
        if isinstance(item, tuple):
            _, sample, top = item
            continue
        t0 = time.perf_counter()
        with database.engine.begin() as conn:
            conn.execute(insert(Alert.__table__), [a for a, _, _ in item])
            key_rows = [k for _, ks, _ in item for k in ks]
            if key_rows:
                conn.execute(insert(AlertIdentifier.__table__), key_rows)
            conn.execute(insert(AlertVersion.__table__), [v for _, _, v in item])
        insert_s += time.perf_counter() - t0
        alerts += len(item)
        keys += len(key_rows)
        if alerts % 100_000 < CHUNK:
            log(f"  inserted {alerts:,} alerts ({insert_s:.0f} s)")
    t0 = time.perf_counter()
    with database.engine.begin() as conn:
        conn.execute(update(AlertSequence).where(AlertSequence.id == 1).values(value=top))
    insert_s += time.perf_counter() - t0
    return {
        "alerts": alerts,
        "identifier_keys": keys,
        "versions": alerts,
        "insert_s": round(insert_s, 2),
        "alerts_per_s": round(alerts / insert_s, 1) if insert_s else None,
        "rows_per_s": round((2 * alerts + keys) / insert_s, 1) if insert_s else None,
        "load_s": round(load_s, 2),
        "audit_entries": 0,
        "_sample": sample,
    }


def issue_sample(
    database: Database, actors: Mapping[str, Actor], sample: Sequence[tuple[str, dict[str, Any]]]
) -> dict[str, Any]:
    """The sample through the issue path: ``parse_alert`` and ``service.issue`` (policy, keys,
    version, change number, audit entry), one unit of work each."""
    latencies = []
    refused = Counter[str]()
    for code, raw in sample:
        started = time.perf_counter()
        try:
            with database.session() as session:
                service.issue(session, actors[code], parse_alert(raw))
        except LiaisonError as exc:
            refused[str(exc)[:120]] += 1
            continue
        latencies.append((time.perf_counter() - started) * 1000)
    out = _latencies(latencies) if latencies else {"queries": 0}
    out["issued"] = out.pop("queries")
    out["alerts_per_s"] = out.pop("queries_per_s", None)
    out["refused"] = dict(refused)
    return out


def _audit_count(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _counts(database: Database) -> dict[str, Any]:
    with database.session() as session:
        by_kind = dict(
            session.execute(
                select(Alert.subject_kind, func.count())
                .where(Alert.status == AlertStatus.ACTIVE.value)
                .group_by(Alert.subject_kind)
            ).all()
        )
        keys = int(session.scalar(select(func.count()).select_from(AlertIdentifier)) or 0)
    return {
        "active_alerts": sum(by_kind.values()),
        "active_by_kind": by_kind,
        "identifier_keys": keys,
    }


def build_index(database: Database) -> dict[str, Any]:
    """The first check's cost: the person index filled from every person alert in force."""
    before = _rss_mb()
    started = time.perf_counter()
    with database.session() as session:
        index = alert_index(session)
        size = len(index)
    seconds = time.perf_counter() - started
    after = _rss_mb()
    return {
        "persons": size,
        "seconds": round(seconds, 2),
        "persons_per_s": round(size / seconds, 1) if seconds else None,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "rss_growth_mb": round(after - before, 1),
    }


def statements(database: Database, run: Callable[[], Any]) -> dict[str, int]:
    """The SQL statements ``run`` sends, and how many of them write the audit log. BEGIN,
    COMMIT and the pool's connection check are sent by the driver outside them."""
    seen = Counter[str]()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen["audit" if "audit_" in statement else "other"] += 1

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    return {"statements": seen["audit"] + seen["other"], "audit_statements": seen["audit"]}


def object_checks(
    database: Database, actor: Actor, probes: Sequence[ObjectProbe], count: int
) -> dict[str, Any]:
    """Single object checks, one unit of work each, beside the bare indexed key lookup.

    The bare lookup runs on a connection of its own: ending without a commit, it rolls back,
    and psycopg drops every prepared statement of a connection on rollback, so on the checks'
    connection each check would be planned afresh, which units of work (ending in COMMIT) are
    not."""
    hits = [p for p in probes if p.alert_ref][: count // 2]
    misses = [p for p in probes if not p.alert_ref][: count - len(hits)]
    chosen = hits + misses
    random.Random(5).shuffle(chosen)
    lookup = select(AlertIdentifier.alert_id).where(AlertIdentifier.key == bindparam("k"))
    reference = make_engine(database.url)

    def bare_lookup(probe: ObjectProbe) -> float:
        key = checks.object_query(probe.fields).key
        started = time.perf_counter()
        with reference.connect() as conn:
            for value in key.keys:
                conn.execute(lookup, {"k": value}).all()
        return (time.perf_counter() - started) * 1000

    for probe in chosen[:WARMUP]:
        with database.session() as session:
            checks.check_object(session, actor, probe.fields)
        bare_lookup(probe)
    latencies, bare = [], []
    found = expected = unexpected = 0
    bands = Counter[str]()
    for probe in chosen:
        started = time.perf_counter()
        with database.session() as session:
            result = checks.check_object(session, actor, probe.fields)
            refs = {h.view.alert.source_ref: h.band for h in result.hits}
        latencies.append((time.perf_counter() - started) * 1000)
        if probe.alert_ref:
            expected += 1
            if probe.alert_ref in refs:
                found += 1
                bands[refs[probe.alert_ref]] += 1
        elif refs:
            unexpected += 1
        bare.append(bare_lookup(probe))
    reference.dispose()
    out = _latencies(latencies)
    out |= {
        "hit_queries": expected,
        "hit_queries_found": found,
        "hit_bands": dict(bands),
        "no_hit_queries": len(chosen) - expected,
        "no_hit_queries_with_a_hit": unexpected,
        "reference": _latencies(bare),
    }
    out["ratio_p50"] = _ratio(out["p50_ms"], out["reference"]["p50_ms"])
    out["ratio_p95"] = _ratio(out["p95_ms"], out["reference"]["p95_ms"])

    def one(probe: ObjectProbe) -> Callable[[], Any]:
        def run() -> None:
            with database.session() as session:
                checks.check_object(session, actor, probe.fields)

        return run

    out["statements_per_check"] = {
        "hit": statements(database, one(next(p for p in chosen if p.alert_ref))),
        "no_hit": statements(database, one(next(p for p in chosen if not p.alert_ref))),
        "reference": len(checks.object_query(chosen[0].fields).key.keys),
    }
    return out


def person_checks(
    database: Database, actor: Actor, probes: Sequence[PersonProbe], count: int
) -> dict[str, Any]:
    """Single person checks, one unit of work each, beside the same query on the ``Index``."""
    chosen = list(probes)
    random.Random(7).shuffle(chosen)
    chosen = [p for p in chosen if _valid({"type": "person", **p.fields})][:count]
    for probe in chosen[:WARMUP]:
        with database.session() as session:
            checks.check_person(session, actor, probe.fields)
    with database.session() as session:
        index = alert_index(session)
    th = checks.thresholds()
    latencies, bare = [], []
    hits = refused = 0
    for probe in chosen:
        started = time.perf_counter()
        try:
            with database.session() as session:
                result = checks.check_person(session, actor, probe.fields)
        except ValidationFailed:
            refused += 1
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        hits += bool(result.hits)
        query = checks.person_query(probe.fields)
        started = time.perf_counter()
        index.search([prepare(query.record, query.ref)], thresholds=th, limit=checks.MAX_HITS)
        bare.append((time.perf_counter() - started) * 1000)
    out = _latencies(latencies)
    out |= {
        "with_hits": hits,
        "refused": refused,
        "persons_with_alert": sum(1 for p in chosen if p.alert_ref),
        "reference": _latencies(bare),
    }
    out["ratio_p50"] = _ratio(out["p50_ms"], out["reference"]["p50_ms"])
    out["ratio_p95"] = _ratio(out["p95_ms"], out["reference"]["p95_ms"])
    return out


def _valid(fields: Mapping[str, Any]) -> bool:
    try:
        checks.parse_item(fields, "probe")
    except ValidationFailed:
        return False
    return True


def _run_batch(
    database: Database, actor: Actor, items: Sequence[Mapping[str, Any]]
) -> tuple[float, list[checks.CheckResult], int]:
    """Items as the batch API takes them (``MAX_BATCH`` at most per request): ``parse_item``
    each, then ``check_batch`` (one audit entry and commit per chunk), each result serialised
    as the API streams it. Returns the seconds, the results and the chunks audited."""
    started = time.perf_counter()
    results: list[checks.CheckResult] = []
    chunks = 0
    for start in range(0, len(items), checks.MAX_BATCH):
        part = items[start : start + checks.MAX_BATCH]
        queries = [checks.parse_item(item, str(n)) for n, item in enumerate(part, start=start)]
        with database.session() as session:
            for result in checks.check_batch(session, actor, queries):
                json.dumps(result.as_dict(), ensure_ascii=False, default=str)
                results.append(result)
        chunks += -(-len(queries) // checks.CHUNK)
    return time.perf_counter() - started, results, chunks


def object_batch(
    database: Database, actor: Actor, probes: Sequence[ObjectProbe], count: int
) -> dict[str, Any]:
    chosen = [p for p in probes if p.alert_ref][: count // 2]
    chosen += [p for p in probes if not p.alert_ref][: count - len(chosen)]
    random.Random(11).shuffle(chosen)
    valid = [p for p in chosen if _valid({"type": "object", **p.fields})]
    refused = len(chosen) - len(valid)
    chosen = valid
    items = [{"type": "object", **p.fields} for p in chosen]
    seconds, results, chunks = _run_batch(database, actor, items)
    found = sum(
        1
        for p, r in zip(chosen, results, strict=True)
        if p.alert_ref and any(h.view.alert.source_ref == p.alert_ref for h in r.hits)
    )
    keys = sorted({k for p in chosen for k in checks.object_query(p.fields).key.keys})
    started = time.perf_counter()
    with database.engine.connect() as conn:
        for start in range(0, len(keys), 900):
            conn.execute(
                select(AlertIdentifier.alert_id, AlertIdentifier.key).where(
                    AlertIdentifier.key.in_(keys[start : start + 900])
                )
            ).all()
    bare_s = time.perf_counter() - started
    chunk = items[: checks.CHUNK]
    per_chunk = statements(database, lambda: _run_batch(database, actor, chunk))
    out = {
        "items": len(items),
        "refused": refused,
        "audited_chunks": chunks,
        "seconds": round(seconds, 3),
        "checks_per_s": round(len(items) / seconds, 1),
        "hit_queries": sum(1 for p in chosen if p.alert_ref),
        "hit_queries_found": found,
        "reference": {
            "what": "bare indexed SQL lookups of the same keys, 900 per statement",
            "seconds": round(bare_s, 3),
            "checks_per_s": round(len(items) / bare_s, 1) if bare_s else None,
        },
        "statements_per_chunk": {"items": len(chunk), **per_chunk},
    }
    out["ratio"] = _ratio(out["reference"]["checks_per_s"], out["checks_per_s"])
    return out


def person_batch(
    database: Database, actor: Actor, given: Sequence[PersonProbe]
) -> tuple[dict[str, Any], list[PersonProbe], list[checks.CheckResult]]:
    probes = [p for p in given if _valid({"type": "person", **p.fields})]
    refused = len(given) - len(probes)
    items = [{"type": "person", **p.fields} for p in probes]
    seconds, results, chunks = _run_batch(database, actor, items)
    with database.session() as session:
        index = alert_index(session)
    queries = [checks.person_query(p.fields, str(n)) for n, p in enumerate(probes)]
    th = checks.thresholds()
    started = time.perf_counter()
    for start in range(0, len(queries), checks.CHUNK):
        index.search(
            [prepare(q.record, q.ref) for q in queries[start : start + checks.CHUNK]],
            thresholds=th,
            limit=checks.MAX_HITS,
        )
    bare_s = time.perf_counter() - started
    out = {
        "items": len(items),
        "refused": refused,
        "audited_chunks": chunks,
        "seconds": round(seconds, 3),
        "checks_per_s": round(len(items) / seconds, 1),
        "reference": {
            "what": f"prepare + Index.search_many, {checks.CHUNK} queries at a time",
            "seconds": round(bare_s, 3),
            "checks_per_s": round(len(items) / bare_s, 1) if bare_s else None,
        },
    }
    out["ratio"] = _ratio(out["reference"]["checks_per_s"], out["checks_per_s"])
    return out, probes, results


def _recall_block(
    scored: Sequence[tuple[PersonProbe, checks.CheckResult, bool]],
) -> dict[str, Any]:
    """Recall over (probe, result, alert visible to the checker) by variation, script and band;
    false hits (another person's alert) over every probe and over persons without an alert."""
    seen, found, strong = Counter[str](), Counter[str](), Counter[str]()
    hidden = false_any = false_match = neg_any = neg_match = negatives = 0
    for probe, result, visible in scored:
        others = [h for h in result.hits if h.view.alert.source_ref != probe.alert_ref]
        false_any += bool(others)
        false_match += any(h.band == "match" for h in others)
        if probe.alert_ref is None:
            negatives += 1
            neg_any += bool(others)
            neg_match += any(h.band == "match" for h in others)
            continue
        if not visible:
            hidden += 1
            continue
        band = next(
            (h.band for h in result.hits if h.view.alert.source_ref == probe.alert_ref), None
        )
        groups = ["all", f"script:{probe.script}", *(f"variation:{v}" for v in probe.variations)]
        if UNFINDABLE not in probe.variations:
            groups.append("all findable")
        for group in groups:
            seen[group] += 1
            found[group] += band is not None
            strong[group] += band == "match"

    def block(group: str) -> dict[str, Any]:
        n = seen[group]
        return {
            "probes": n,
            "found": found[group],
            "recall": round(found[group] / n, 4) if n else None,
            "recall_match_band": round(strong[group] / n, 4) if n else None,
        }

    def rate(count: int, total: int) -> float | None:
        return round(count / total, 4) if total else None

    total = len(scored)
    return {
        "probes": total,
        "persons_with_alert_probes": total - negatives,
        "not_visible_to_checker": hidden,
        "all": block("all"),
        "all_findable": block("all findable"),
        "by_script": {
            g.split(":", 1)[1]: block(g) for g in sorted(seen) if g.startswith("script:")
        },
        "by_variation": {
            g.split(":", 1)[1]: block(g) for g in sorted(seen) if g.startswith("variation:")
        },
        "false_hits": {
            "rate_any_band": rate(false_any, total),
            "rate_match_band": rate(false_match, total),
            "persons_without_alert": negatives,
            "rate_any_band_without_alert": rate(neg_any, negatives),
            "rate_match_band_without_alert": rate(neg_match, negatives),
        },
    }


def recall(
    actor: Actor,
    country: str | None,
    agency_ids: Mapping[str, str],
    probes: Sequence[PersonProbe],
    results: Sequence[checks.CheckResult],
) -> dict[str, Any]:
    """Recall of the persons' alerts that the checking officer may see (``policy.alert_view``:
    a diffusion is seen only in the countries it was sent to) and false hits: for other
    agencies' records of the persons (``record``, what tests/alerts/test_recall.py measures,
    with the records of persons without an alert), for the checks typed from the person
    (``spoken``), and for both."""
    scored = []
    for probe, result in zip(probes, results, strict=True):
        visible = True
        if probe.alert is not None:
            a = probe.alert
            visible = alert_view(
                actor,
                issuer_agency_id=agency_ids[a["owner"]],
                person=True,
                personal_data=True,
                classification=Classification.parse(a["classification"] or 0),
                diffusion_countries=a["diffusion_countries"],
                actor_country=country,
            ).allowed
        scored.append((probe, result, visible))
    return {
        "record": _recall_block([s for s in scored if s[0].form == "record"]),
        "spoken": _recall_block([s for s in scored if s[0].form == "spoken"]),
        "all_forms": _recall_block(scored),
    }


def run_backend(
    backend: str, header: Header, store: Path, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    def log(line: str) -> None:
        print(f"[{backend} {time.strftime('%H:%M:%S')}] {line}", flush=True)

    url, cleanup = _database_url(backend, workdir, args.postgres_url)
    database = None
    try:
        upgrade(url)
        database = Database(url)
        with database.session() as session:
            session.add_all(network_rows(header.members, hash_password(secrets.token_urlsafe(32))))
        with database.session() as session:
            users = {u.id: u for u in session.scalars(select(User))}
            members = header.members
            issuers = {c: actor_for(users[m.manager_id]) for c, m in members.items()}
            officer = actor_for(users[members[CHECKER].officer_id], PURPOSE)
            country = session.scalar(select(Agency.country).where(Agency.code == CHECKER))
        agency_ids = {c: m.agency_id for c, m in members.items()}
        out: dict[str, Any] = {"backend": backend}

        log(f"bulk fill of {header.alerts - header.build['service_sample']:,} alerts")
        fill = bulk_fill(database, store, log)
        sample = fill.pop("_sample")
        validate_s = header.build["parse_alert_s"] + header.build["rows_s"]
        fill["validated_and_inserted_alerts_per_s"] = round(
            fill["alerts"] / (validate_s + fill["insert_s"]), 1
        )
        out["fill"] = fill
        log(f"  {fill['alerts']:,} alerts in {fill['insert_s']:.1f} s ({fill['alerts_per_s']:,}/s)")
        if database.dialect == "postgresql":
            started = time.perf_counter()
            with database.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
            out["after_fill"] = f"ANALYZE after the fill ({time.perf_counter() - started:.1f} s)"
        else:
            out["after_fill"] = None
        log(f"service.issue of {len(sample):,} alerts")
        out["service_issue"] = issue_sample(database, issuers, sample)
        log(f"  {out['service_issue']['alerts_per_s']} alerts/s")
        out["store"] = _counts(database)
        log(f"store: {out['store']}")

        log("person index")
        out["person_index"] = build_index(database)
        log(
            f"  {out['person_index']['persons']:,} persons in {out['person_index']['seconds']} s, "
            f"RSS +{out['person_index']['rss_growth_mb']} MB"
        )
        audit_before = _audit_count(database)
        log(f"object checks ({args.object_queries:,})")
        out["object_check"] = object_checks(
            database, officer, header.object_probes, args.object_queries
        )
        log(f"  p95 {out['object_check']['p95_ms']} ms")
        log(f"person checks ({args.person_queries:,})")
        out["person_check"] = person_checks(
            database, officer, header.person_probes, args.person_queries
        )
        log(f"  p95 {out['person_check']['p95_ms']} ms")
        log(f"object batch ({args.batch_objects:,})")
        out["object_batch"] = object_batch(
            database, officer, header.object_probes, args.batch_objects
        )
        log(f"  {out['object_batch']['checks_per_s']:,} checks/s")
        log(f"person batch ({len(header.person_probes):,}): recall and false hits")
        out["person_batch"], checked, results = person_batch(
            database, officer, header.person_probes
        )
        log(f"  {out['person_batch']['checks_per_s']:,} checks/s")
        out["recall"] = recall(officer, country, agency_ids, checked, results)
        # The two object checks and the one chunk whose statements were counted are audited too.
        single = out["object_check"]["queries"] + out["person_check"]["queries"] + 2 * WARMUP + 2
        chunks = out["object_batch"]["audited_chunks"] + out["person_batch"]["audited_chunks"] + 1
        out["audit"] = {
            "entries_written_by_checks": _audit_count(database) - audit_before,
            "expected": single + chunks,
            "single_checks": single,
            "batch_chunks": chunks,
        }
        out["targets"] = targets(out)
        out["notes"] = notes(out, database.dialect)
        out["peak_rss_mb"] = _peak_rss_mb()
        return out
    finally:
        if database is not None:
            database.dispose()
        cleanup()


def targets(result: Mapping[str, Any]) -> dict[str, Any]:
    """The issue's targets beside the measured figures."""
    r = result["recall"]["record"]
    variations = {
        v: b["recall"] for v, b in r["by_variation"].items() if b["probes"] >= 5 and v != UNFINDABLE
    }
    worst = min(variations.items(), key=lambda kv: kv[1]) if variations else (None, None)
    c = RECALL_CRITERIA
    fh = r["false_hits"]
    recall_met = (
        (r["all_findable"]["recall"] or 0) >= c["findable_recall_min"]
        and (r["all"]["recall"] or 0) >= c["all_recall_min"]
        and all(v >= c["per_variation_recall_min"] for v in variations.values())
        and (fh["rate_match_band"] or 0) <= c["false_hit_match_max"]
        and (fh["rate_any_band"] or 0) <= c["false_hit_any_max"]
    )
    rows = {
        "object_check_p95_ms": (result["object_check"]["p95_ms"], "<="),
        "person_check_p95_ms": (result["person_check"]["p95_ms"], "<="),
        "batch_objects_per_s": (result["object_batch"]["checks_per_s"], ">="),
        "batch_persons_per_s": (result["person_batch"]["checks_per_s"], ">="),
    }
    out: dict[str, Any] = {
        name: {
            "target": TARGETS[name],
            "measured": value,
            "met": value <= TARGETS[name] if op == "<=" else value >= TARGETS[name],
        }
        for name, (value, op) in rows.items()
    }
    out["recall"] = {
        "target": "found under every variation; the criteria of tests/alerts/test_recall.py "
        "on other agencies' records of the persons: " + ", ".join(f"{k} {v}" for k, v in c.items()),
        "measured": {
            "recall_findable": r["all_findable"]["recall"],
            "recall_all": r["all"]["recall"],
            "worst_variation": worst[0],
            "worst_variation_recall": worst[1],
            "false_hit_rate_any_band": fh["rate_any_band"],
            "false_hit_rate_match_band": fh["rate_match_band"],
        },
        "met": recall_met,
    }
    return out


def notes(result: Mapping[str, Any], dialect: str) -> list[str]:
    out = [
        "bulk fill: rows built by parse_alert under can_issue_alert, the columns by the service's "
        "_apply and the version by its snapshot (rows equal to service.issue's, checked by the "
        "smoke test), once for both backends, inserted with SQLAlchemy Core executemany; no "
        "audit entries are written for the bulk fill",
        f"service.issue sample: {result['service_issue']['issued']:,} alerts, one unit of work "
        "each (policy, keys, version, change number, audit entry)",
        "checks: one unit of work per single check, audit entry and commit included; batches "
        f"as the batch API runs them (parse_item, check_batch: one audit entry and commit per "
        f"{checks.CHUNK} items, each result serialised)",
        "statements: SQL statements sent per object check (one hit, one no-hit) and per batch "
        "chunk, those writing the audit log counted apart; BEGIN, COMMIT and the pool's "
        "connection check come on top of them (the bare lookup: one statement per key, its "
        "connection check, BEGIN and ROLLBACK, on a connection of its own so that its rollback "
        "does not drop the prepared statements of the checks' connection)",
        f"checking officer: {CHECKER}, purpose stated; recall counts the alerts that officer may "
        "see (diffusions not sent to its country are left out and counted)",
    ]
    if dialect == "postgresql":
        out.append(f"PostgreSQL: {result['after_fill']}")
    else:
        out.append("SQLite: no ANALYZE after the fill (the product never runs it)")
    return out


# ── Running, printing, writing ───────────────────────────────────────────────────────────────


def _log(line: str) -> None:
    print(f"[build {time.strftime('%H:%M:%S')}] {line}", flush=True)


def _prepare(args: argparse.Namespace, workdir: Path) -> tuple[Header, Path]:
    """The store file and its header: built here unless ``--store`` names one."""
    if args.store:
        store = Path(args.store)
        with store.with_suffix(".header").open("rb") as f:
            return pickle.load(f), store  # noqa: S301 - this run's own file
    store = workdir / "alerts.store"
    _log(f"building {args.alerts:,} alerts ({args.persons_share:.0%} on persons)")
    header = build_store(args, store, _log)
    with store.with_suffix(".header").open("wb") as f:
        pickle.dump(header, f, protocol=pickle.HIGHEST_PROTOCOL)
    b = header.build
    _log(
        f"built {b['alerts']:,} alerts in {b['seconds']:.1f} s ({b['alerts_per_s']:,}/s; "
        f"parse_alert {b['parse_alert_s']:.1f} s, rows {b['rows_s']:.1f} s, world "
        f"{b['world_s']:.1f} s); probes: {len(header.person_probes):,} persons, "
        f"{len(header.object_probes):,} objects"
    )
    return header, store


def _in_this_process(
    args: argparse.Namespace, backend: str, header: Header, store: Path, workdir: Path
) -> dict[str, Any]:
    code_revision = revision()
    try:
        result = run_backend(backend, header, store, args, workdir)
    except Exception as exc:
        traceback.print_exc()
        result = {"backend": backend, "error": f"{type(exc).__name__}: {exc}"[-2000:]}
    result["revision"] = code_revision
    return result


def _in_a_child(args: argparse.Namespace, backend: str, store: Path, out: Path) -> dict[str, Any]:
    """Run one backend in its own interpreter, so its peak memory is its own."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.alerts",
        "--backend",
        backend,
        "--alerts",
        str(args.alerts),
        "--persons-share",
        str(args.persons_share),
        "--object-queries",
        str(args.object_queries),
        "--person-queries",
        str(args.person_queries),
        "--batch-objects",
        str(args.batch_objects),
        "--seed",
        str(args.seed),
        "--store",
        str(store),
        "--out",
        str(out),
        *(["--workdir", args.workdir] if args.workdir else []),
        *(["--postgres-url", args.postgres_url] if args.postgres_url else []),
    ]
    process = subprocess.run(command, cwd=ROOT, check=False)
    if process.returncode != 0 or not out.exists():
        return {"backend": backend, "error": f"exit status {process.returncode}"}
    return dict(json.loads(out.read_text(encoding="utf-8"))["backends"][backend])


def _get(value: Any, path: str) -> Any:
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def table(results: Sequence[dict[str, Any]], build: Mapping[str, Any]) -> str:
    width = 27
    lines = [f"{'':44}" + "".join(f"{r['backend']:>{width}}" for r in results)]
    for result in results:
        if "error" in result:
            lines.append(f"{result['backend']}: {result['error']}")
    ok = [r for r in results if "error" not in r]
    if build:
        lines.append(
            f"rows built once: {build['bulk_rows_built']:,} alerts validated into rows at "
            f"{build['rows_per_s']:,.0f}/s (parse_alert {build['parse_alert_per_s']:,.0f}/s); "
            f"with the synthetic world's generation {build['alerts_per_s']:,.0f}/s"
        )
    if not ok:
        return "\n".join(lines)

    def row(label: str, cell: Callable[[dict[str, Any]], str]) -> None:
        cells = []
        for r in ok:
            try:
                cells.append(cell(r))
            except (KeyError, TypeError, ValueError):
                cells.append("—")
        lines.append(f"{label:44}" + "".join(f"{c:>{width}}" for c in cells))

    def fmt3(q: Any) -> str:
        return f"{q['p50_ms']:.2f} / {q['p95_ms']:.2f} / {q['p99_ms']:.2f}"

    def target(name: str, fmt: str) -> Callable[[dict[str, Any]], str]:
        def cell(r: dict[str, Any]) -> str:
            t = r["targets"][name]
            return fmt.format(t["measured"]) + (" met" if t["met"] else " NOT met")

        return cell

    row(
        "active alerts (persons)",
        lambda r: "{:,} ({:,})".format(
            r["store"]["active_alerts"], r["store"]["active_by_kind"].get("person", 0)
        ),
    )
    row("bulk insert alerts/s (not audited)", lambda r: f"{r['fill']['alerts_per_s']:,.0f}")
    row(
        "  with validation (parse_alert, rows) /s",
        lambda r: f"{r['fill']['validated_and_inserted_alerts_per_s']:,.0f}",
    )
    row("service.issue alerts/s (audited)", lambda r: f"{r['service_issue']['alerts_per_s']:,.1f}")
    row("person index build s", lambda r: f"{r['person_index']['seconds']:,.1f}")
    row("person index RSS growth MB", lambda r: f"{r['person_index']['rss_growth_mb']:,.0f}")
    row("object check p50 / p95 / p99 ms", lambda r: fmt3(r["object_check"]))
    row("  bare SQL key lookup p50 / p95 / p99", lambda r: fmt3(r["object_check"]["reference"]))
    row("  ratio p95", lambda r: f"×{r['object_check']['ratio_p95']}")
    row(
        "  statements hit / no hit (audit's)",
        lambda r: "{} ({}) / {} ({})".format(
            *(
                r["object_check"]["statements_per_check"][k][n]
                for k in ("hit", "no_hit")
                for n in ("statements", "audit_statements")
            )
        ),
    )
    row(
        "  hit queries found",
        lambda r: "{hit_queries_found}/{hit_queries}".format(**r["object_check"]),
    )
    row("person check p50 / p95 / p99 ms", lambda r: fmt3(r["person_check"]))
    row("  Index.search p50 / p95 / p99", lambda r: fmt3(r["person_check"]["reference"]))
    row("  ratio p95", lambda r: f"×{r['person_check']['ratio_p95']}")
    row("object batch checks/s", lambda r: f"{r['object_batch']['checks_per_s']:,.0f}")
    row(
        "  bare SQL IN lookups /s (ratio)",
        lambda r: "{:,.0f} (×{})".format(
            r["object_batch"]["reference"]["checks_per_s"], r["object_batch"]["ratio"]
        ),
    )
    row(
        "  statements per chunk (audit's)",
        lambda r: "{statements} ({audit_statements})".format(
            **r["object_batch"]["statements_per_chunk"]
        ),
    )
    row("person batch checks/s", lambda r: f"{r['person_batch']['checks_per_s']:,.0f}")
    row(
        "  Index.search_many /s (ratio)",
        lambda r: "{:,.0f} (×{})".format(
            r["person_batch"]["reference"]["checks_per_s"], r["person_batch"]["ratio"]
        ),
    )

    def recall_cell(form: str) -> Callable[[dict[str, Any]], str]:
        def cell(r: dict[str, Any]) -> str:
            q = r["recall"][form]
            return "{:.4f} / {:.4f} / {:.4f}".format(
                q["all"]["recall"],
                q["all_findable"]["recall"],
                q["all_findable"]["recall_match_band"],
            )

        return cell

    lines.append("recall: all / findable / findable in the match band")
    row("  other agencies' records", recall_cell("record"))
    row("  checks typed from the person", recall_cell("spoken"))
    row(
        "false-hit rate any / match band (records)",
        lambda r: "{:.4f} / {:.4f}".format(
            r["recall"]["record"]["false_hits"]["rate_any_band"],
            r["recall"]["record"]["false_hits"]["rate_match_band"],
        ),
    )
    row(
        "  on persons without alert",
        lambda r: "{:.4f} / {:.4f}".format(
            r["recall"]["record"]["false_hits"]["rate_any_band_without_alert"],
            r["recall"]["record"]["false_hits"]["rate_match_band_without_alert"],
        ),
    )
    row("peak RSS MB", lambda r: f"{r['peak_rss_mb']:,.0f}")
    lines.append("targets")
    row("  object check p95 ≤ 5 ms", target("object_check_p95_ms", "{:.2f}"))
    row("  person check p95 ≤ 50 ms", target("person_check_p95_ms", "{:.1f}"))
    row("  batch objects ≥ 5,000/s", target("batch_objects_per_s", "{:,.0f}"))
    row("  batch persons ≥ 500/s", target("batch_persons_per_s", "{:,.0f}"))
    row(
        "  recall (test_recall criteria)",
        lambda r: "met" if r["targets"]["recall"]["met"] else "NOT met",
    )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.alerts", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--alerts", type=int, default=DEFAULT_ALERTS)
    parser.add_argument("--persons-share", type=float, default=DEFAULT_PERSONS_SHARE)
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument("--object-queries", type=int, default=DEFAULT_OBJECT_QUERIES)
    parser.add_argument("--person-queries", type=int, default=DEFAULT_PERSON_QUERIES)
    parser.add_argument(
        "--batch-objects", type=int, default=DEFAULT_BATCH_OBJECTS, help="items in the batch"
    )
    parser.add_argument(
        "--recall-persons",
        type=int,
        default=DEFAULT_RECALL_PERSONS,
        help="persons with an alert whose other records (and one typed check) are checked",
    )
    parser.add_argument(
        "--negatives", type=int, default=DEFAULT_NEGATIVES, help="persons without an alert"
    )
    parser.add_argument(
        "--sample", type=int, default=DEFAULT_SAMPLE, help="alerts issued through service.issue"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="JSON results file")
    parser.add_argument("--workdir", default=None, help="for the SQLite file and the rows")
    parser.add_argument(
        "--postgres-url",
        default=None,
        help="an existing server's admin URL (a database is created and dropped there); "
        "default: a throwaway cluster",
    )
    parser.add_argument("--store", default=None, help=argparse.SUPPRESS)  # built by the parent
    args = parser.parse_args(argv)
    if args.alerts < 10:
        parser.error("--alerts must be at least 10")
    if not 0 < args.persons_share < 1:
        parser.error("--persons-share must lie between 0 and 1")
    for name in ("object_queries", "person_queries", "batch_objects", "recall_persons"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.negatives < 0 or args.sample < 0:
        parser.error("--negatives and --sample cannot be negative")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    # Settings refuse their default secrets only in production mode; nothing here is one.
    os.environ.setdefault("LIAISON_MODE", "test")
    backends = list(BACKENDS) if args.backend == "both" else [args.backend]
    out = Path(args.out)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="liaison-bench-", dir=args.workdir) as tmp:
        workdir = Path(tmp)
        header, store = _prepare(args, workdir)
        if len(backends) == 1:
            results.append(_in_this_process(args, backends[0], header, store, workdir))
        else:
            # Each backend's own result lands beside the output (``*.tmp``) until both are merged.
            out.parent.mkdir(parents=True, exist_ok=True)
            for backend in backends:
                print(f"── {backend}", flush=True)
                part = out.with_name(f"{out.name}.{backend}.tmp")
                results.append(_in_a_child(args, backend, store, part))
                part.unlink(missing_ok=True)
    document = {
        "benchmark": "alerts",
        "command": "python -m benchmarks.alerts "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine(),
        "alerts": args.alerts,
        "persons_share": args.persons_share,
        "seed": args.seed,
        "checker": CHECKER,
        "build": header.build,
        "probes": {
            "persons": len(header.person_probes),
            "persons_with_alert": sum(1 for p in header.person_probes if p.alert_ref),
            "objects": len(header.object_probes),
            "objects_with_alert": sum(1 for p in header.object_probes if p.alert_ref),
        },
        "targets": {**TARGETS, "recall": RECALL_CRITERIA},
        "backends": {r["backend"]: r for r in results},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(results, header.build), flush=True)
    print(f"results written to {out}", flush=True)
    return document


if __name__ == "__main__":
    # Run as the module ``benchmarks.alerts`` (not ``__main__``), so that the rows and probes
    # the parent pickles name the same classes in every process.
    from benchmarks.alerts import main as _main

    _main()
