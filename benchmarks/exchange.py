"""The secure exchange at scale: send throughput, inbox latency over a million stored messages.

``python -m benchmarks.exchange [--messages N] [--sends S] [--queries Q] [--backend B]``

A synthetic network of 31 agencies (the synthetic world's 11 and 20 more member-state
authorities), one officer each, exchanges a realistic mix of messages: requests (urgent and
normal, directly or indirectly accessible information), information, hit follow-ups and
replies; 0-3 structured items (persons with names in their own script and its romanisation,
vehicles), 10 % with a small attachment; traffic is skewed towards a few busy agencies.

For each backend, two stores are built: one of ``--small`` messages (1,000) and one of N.

1. *Bulk fill*: every message is a real one (subject, content, attachments and case titles
   sealed with the node's active data key in ``core.crypto``'s blob format, bound to their row;
   signed by the sending agency's Ed25519 key over ``service.signed_form`` in
   ``core.signing.canonical_bytes``), with recipient rows carrying realistic read states,
   acknowledgements, legal deadlines (``policy.request_deadline``) and answers, in cases with
   their participants; rows are inserted in batches with SQLAlchemy Core executemany. No audit
   entries are written for the bulk fill. A sample of filled messages is opened through
   ``service.read`` (and its attachments through ``service.attachment``) and must verify.
2. *Queries*: for a busy and a typical agency, Q timed calls (warm) of each of: inbox first
   page, unread, urgent, overdue, by case, sent folder, page 20 through the cursor, ``counts``
   and ``read`` (each read's signature must verify); one unit of work per call, audit entry
   included. The slowest SQL statement of each kind is reported with its plan.
3. *Sends*: S messages through ``service.send`` / ``service.reply`` (validation, recipient
   checks, sealing, signing, storing, audit), one unit of work each: messages/s and latency.

Each backend runs in its own process (peak RSS is that process's; the PostgreSQL server is not
included). Prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import heapq
import itertools
import json
import os
import random
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import unicodedata
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import bindparam, create_engine, event, func, insert, select, text, update

from benchmarks.entities import bench_officer, machine, revision
from benchmarks.metrics import percentile
from liaison.core import crypto, signing
from liaison.core.actor import Actor
from liaison.core.agencies import Agency, zone_for
from liaison.core.audit import AuditEntry
from liaison.core.markings import Classification, HandlingCode, configured_crime_areas
from liaison.core.policy import request_deadline
from liaison.core.settings import Settings, get_settings
from liaison.db.engine import Database
from liaison.db.migrate import upgrade
from liaison.exchange import service
from liaison.exchange.model import (
    Accessibility,
    Attachment,
    Case,
    CaseParticipant,
    DeliveryStatus,
    Message,
    MessageRecipient,
    MessageType,
    Priority,
    RecipientKind,
)
from liaison.exchange.service import AttachmentUpload, Draft
from liaison.identity.passwords import hash_password
from liaison.synth import identifiers as ids
from liaison.synth.agencies import AGENCIES, AgencySpec
from liaison.synth.persons import make_person

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "exchange.json"
DEFAULT_MESSAGES = 1_000_000
DEFAULT_SMALL = 1_000
DEFAULT_SENDS = 5_000
DEFAULT_QUERIES = 200
DEFAULT_VERIFY = 50  # besides every read of the query suite, which verifies too
SMALL_SENDS = 1_000  # sends measured on the small store (at most)
BACKENDS = ("sqlite", "postgresql")
PURPOSE = "benchmark of the secure exchange"
SPAN = dt.timedelta(days=365)  # the stored traffic covers the last year
BATCH = 2_000  # messages per bulk transaction
WARMUP = 5
PAGE = 50
DEEP_PAGE = 20
KINDS = (
    "inbox",
    "unread",
    "urgent",
    "overdue",
    "by_case",
    "sent",
    "deep_page",
    "counts",
    "read",
)
KIND_LABELS = {
    "inbox": "inbox first page",
    "unread": "inbox unread",
    "urgent": "inbox urgent",
    "overdue": "inbox overdue",
    "by_case": "inbox by case",
    "sent": "sent folder",
    "deep_page": f"inbox page {DEEP_PAGE} (cursor)",
    "counts": "counts (badges)",
    "read": "read a message",
}

# ── The network ──────────────────────────────────────────────────────────────────────────────

EXTRA_AGENCIES: tuple[AgencySpec, ...] = tuple(
    AgencySpec(code, name, code[:2], "member_state", accreditation)
    for code, name, accreditation in (
        ("AT-BK", "Bundeskriminalamt Österreich", "secret"),
        ("BE-FP", "Police fédérale – Federale Politie", "confidential"),
        ("BG-GDNP", "Главна дирекция „Национална полиция“", "restricted"),
        ("HR-RAV", "Ravnateljstvo policije", "restricted"),
        ("CY-POL", "Αστυνομία Κύπρου", "restricted"),
        ("CZ-PCR", "Policie České republiky", "confidential"),
        ("DK-NSK", "Rigspolitiet – National enhed for Særlig Kriminalitet", "confidential"),
        ("EE-PPA", "Politsei- ja Piirivalveamet", "restricted"),
        ("FI-KRP", "Keskusrikospoliisi", "confidential"),
        ("HU-NNI", "Nemzeti Nyomozó Iroda", "restricted"),
        ("IE-GNB", "An Garda Síochána – National Bureau", "confidential"),
        ("LV-VP", "Valsts policija", "restricted"),
        ("LT-LKPB", "Lietuvos kriminalinės policijos biuras", "restricted"),
        ("LU-PGD", "Police grand-ducale", "restricted"),
        ("MT-POL", "Pulizija ta' Malta", "restricted"),
        ("PT-PJ", "Polícia Judiciária", "confidential"),
        ("RO-IGPR", "Inspectoratul General al Poliției Române", "confidential"),
        ("SK-PZ", "Policajný zbor Slovenskej republiky", "restricted"),
        ("SI-POL", "Policija Republike Slovenije", "restricted"),
        ("SE-NOA", "Polismyndigheten – Nationella operativa avdelningen", "secret"),
    )
)
NETWORK: tuple[AgencySpec, ...] = (*AGENCIES, *EXTRA_AGENCIES)
# Relative traffic of each agency (as sender and as recipient): a few busy hubs, a long tail.
TRAFFIC = {
    "DE-BKA": 10.0, "EU-HUB": 9.0, "FR-DCPJ": 8.0, "NL-NP": 7.0, "IT-SCIP": 6.0, "ES-CNP": 6.0,
    "PL-KGP": 5.0, "BE-FP": 4.0, "GR-HP": 3.0, "UA-NPU": 3.0, "AT-BK": 3.0, "SE-NOA": 3.0,
    "RO-IGPR": 3.0, "PT-PJ": 2.5, "CZ-PCR": 2.0, "HU-NNI": 2.0, "DK-NSK": 2.0, "BG-GDNP": 2.0,
    "IO-ICPO": 2.0, "FI-KRP": 1.5, "IE-GNB": 1.5, "HR-RAV": 1.5, "SK-PZ": 1.5, "LT-LKPB": 1.5,
    "SI-POL": 1.0, "LV-VP": 1.0, "EE-PPA": 1.0, "LU-PGD": 1.0, "CY-POL": 0.7, "MT-POL": 0.7,
    "JP-NPA": 0.5,
}  # fmt: skip
HUB_CODE = "EU-HUB"
REQUEST = MessageType.REQUEST


@dataclass(frozen=True, slots=True)
class Member:
    """One agency of the network as the benchmark uses it."""

    code: str
    agency_id: str
    user_id: str
    username: str
    zone: Any
    personal_ok: bool
    actor: Actor


def _setup_network(database: Database, settings: Settings) -> dict[str, Member]:
    """Every agency, one officer each, its signing key and the node's data key."""
    unusable = hash_password(secrets.token_urlsafe(32))
    members: dict[str, Member] = {}
    with database.session() as session:
        for spec in NETWORK:
            actor = bench_officer(session, spec, unusable, PURPOSE)
            agency = session.get(Agency, actor.agency_id)
            assert agency is not None
            signing.current_signing_key(session, agency.id, settings)
            members[spec.code] = Member(
                spec.code,
                agency.id,
                actor.user_id,
                actor.username,
                zone_for(agency.timezone, agency.country),
                actor.personal_data_allowed,
                actor,
            )
    return members


# ── Realistic messages ───────────────────────────────────────────────────────────────────────

EVALUATIONS = ("A1", "A2", "B1", "B2", "B2", "B3", "C2", "C3", "X3")
ROLES = ("suspect", "suspect", "suspect", "witness", "victim", "contact")
COLOURS = ("black", "white", "silver", "grey", "blue", "red", "dark green")
CRIME_AREAS = (
    "drug_trafficking", "drug_trafficking", "drug_trafficking", "organised_crime",
    "money_laundering", "immigrant_smuggling", "trafficking_in_human_beings",
    "motor_vehicle_crime", "motor_vehicle_crime", "robbery_aggravated_theft",
    "robbery_aggravated_theft", "swindling_fraud", "swindling_fraud", "computer_crime",
    "document_forgery", "arms_trafficking", "murder_grievous_bodily_injury", "terrorism",
    "sexual_abuse_exploitation", "corruption", "kidnapping_hostage_taking",
)  # fmt: skip
LEGAL_BASES = {
    MessageType.REQUEST: (
        "Directive (EU) 2023/977 Art. 4",
        "Directive (EU) 2023/977 Art. 4",
        "Council Framework Decision 2006/960/JHA Art. 4",
        "Convention implementing the Schengen Agreement Art. 39",
    ),
    MessageType.INFORMATION: (
        "Directive (EU) 2023/977 Art. 7 (own initiative)",
        "Regulation (EU) 2016/794 Art. 18",
        "bilateral police cooperation agreement",
    ),
    MessageType.HIT_FOLLOW_UP: ("Regulation (EU) 2018/1862 Art. 48",),
    MessageType.REPLY: ("Directive (EU) 2023/977 Art. 5", "Directive (EU) 2023/977 Art. 4"),
}
PLACES = (
    "Rotterdam", "Antwerpen", "Hamburg", "Marseille", "Algeciras", "Gdańsk", "Piraeus",
    "Frankfurt am Main", "Milano", "Lyon", "Wien", "Praha", "Budapest", "Warszawa",
    "Thessaloniki", "Odesa", "Malmö", "Lisboa", "Bucureşti", "Valencia",
)  # fmt: skip
H3_CONDITIONS = "For intelligence purposes only; not to be passed to third countries."


@dataclass(frozen=True, slots=True)
class Subject:
    """Who or what a message is about, for its wording."""

    label: str  # e.g. "Иван Петров (PETROV Ivan, born 1980-03-12)"
    plate: str | None = None


@dataclass(frozen=True, slots=True)
class ItemSet:
    items: tuple[dict[str, Any], ...]
    links: tuple[dict[str, Any], ...]
    personal: bool
    subjects: tuple[Subject, ...]


def _person_item(rng: random.Random, ref: str) -> tuple[dict[str, Any], Subject, Any]:
    person = make_person(rng, ref)
    name = person.name
    props: dict[str, Any] = {
        "given_name": name.given_latin,
        "family_name": name.family_latin,
        "dob": person.born.isoformat(),
        "gender": "M" if person.gender == "m" else "F",
        "nationality": person.nationality,
    }
    native = ""
    if name.script != "latin":
        native = (
            name.family_native + name.given_native
            if name.script == "han"
            else f"{name.given_native} {name.family_native}"
        )
        props["name_original"] = native
    if rng.random() < 0.6:
        props["document_number"] = person.passport
        props["document_country"] = person.nationality
    if rng.random() < 0.4:
        props["birth_place"] = person.birth_place
    latin = f"{name.family_latin.upper()} {name.given_latin}, born {person.born.isoformat()}"
    label = f"{native} ({latin})" if native else latin
    item = {
        "ref": ref,
        "type": "Person",
        "properties": props,
        "evaluation": rng.choice(EVALUATIONS),
        "role": rng.choice(ROLES),
    }
    return item, Subject(label), person


def _vehicle_item(rng: random.Random, ref: str, person: Any = None) -> tuple[dict[str, Any], str]:
    if person is not None and person.vehicle is not None:
        vin, make, plate, country = person.vehicle
    else:
        vin, make = ids.vin(rng)
        country = rng.choice(("DE", "FR", "NL", "PL", "ES", "IT", "RO", "BG", "UA", "GR"))
        plate = ids.plate(rng, country)
    props = {
        "plate": plate,
        "plate_country": country,
        "make": make,
        "colour": rng.choice(COLOURS),
        "vehicle_type": "car",
    }
    if rng.random() < 0.5:
        props["vin"] = vin
    item = {"ref": ref, "type": "Vehicle", "properties": props, "evaluation": "B2"}
    return item, plate


def make_items(rng: random.Random, *, personal: bool) -> ItemSet:
    """0-3 structured items: persons (names in several scripts) and vehicles, and their links."""
    count = rng.choices((0, 1, 2, 3), (30, 35, 20, 15))[0]
    items: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    subjects: list[Subject] = []
    last_person: tuple[str, Any] | None = None
    for n in range(1, count + 1):
        if personal and rng.random() < 0.72:
            item, subject, person = _person_item(rng, f"p{n}")
            subjects.append(subject)
            last_person = (item["ref"], person)
        else:
            owner = last_person[1] if last_person else None
            item, plate = _vehicle_item(rng, f"v{n}", owner)
            if last_person is not None:
                links.append({"source": last_person[0], "target": item["ref"], "type": "owns_uses"})
                subjects.append(replace(subjects[-1], plate=plate))
            else:
                subjects.append(Subject(f"vehicle {plate}", plate))
        items.append(item)
    is_personal = any(i["type"] == "Person" for i in items)
    return ItemSet(tuple(items), tuple(links), is_personal, tuple(subjects))


def _nfc(text_: str) -> str:
    """Text as the service stores it (NFC; subjects trimmed)."""
    return unicodedata.normalize("NFC", text_).strip()


def _crime_label(area: str) -> str:
    return area.replace("_", " ")


def _wording(
    rng: random.Random,
    message_type: MessageType,
    area: str,
    subjects: Sequence[Subject],
    sender: str,
    reference: str,
) -> tuple[str, str]:
    """A subject line and a body of a few sentences, naming what the message is about."""
    crime = _crime_label(area)
    place = rng.choice(PLACES)
    who = subjects[0].label if subjects else None
    plate = next((s.plate for s in subjects if s.plate), None)
    when = f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.2026"
    if message_type is MessageType.REQUEST:
        subject = rng.choice(
            (
                f"Request for identification: {who}" if who else f"Request: {crime}, {place}",
                f"Request for criminal records and whereabouts of {who}"
                if who
                else f"Request for information on {crime} in {place}",
                f"Request for registered keeper of vehicle {plate}"
                if plate
                else f"Request for subscriber data ({crime})",
            )
        )
        lines = [
            f"In the framework of our investigation {reference} into {crime}, we kindly ask "
            "for the information your service holds.",
            f"The person concerned, {who}, was identified during a check in {place} on {when}."
            if who
            else f"Several suspects were observed in {place} on {when}.",
            f"The vehicle {plate} was used for the transport." if plate else "",
            "Please provide identity data, criminal records, known addresses and associates.",
        ]
    elif message_type is MessageType.HIT_FOLLOW_UP:
        subject = f"Hit on alert: {who}" if who else f"Hit on alert: vehicle {plate or 'unknown'}"
        lines = [
            f"During a check in {place} on {when}, a hit was obtained on your alert.",
            f"The person checked is {who}." if who else "",
            "Please confirm the alert and the action to be taken within the deadline.",
        ]
    else:
        subject = rng.choice(
            (
                f"Information: {crime}, {place}",
                f"Spontaneous information on a {crime} network active in {place}",
                f"Seizure report ({crime}), {place}, {when}",
            )
        )
        lines = [
            f"Our service ({sender}) transmits the following information on its own initiative.",
            f"On {when}, {rng.randint(2, 400)} kg were seized in {place}; "
            f"{rng.randint(1, 6)} persons were arrested.",
            f"Among them {who}, who is believed to act for a group active in your country."
            if who
            else "",
            f"A vehicle with plate {plate} was seized." if plate else "",
            "Further information can be provided on request.",
        ]
    filler = rng.randint(0, 3)
    lines.extend(
        "The information was obtained from a reliable source and has been verified "
        "against our national databases; its accuracy is assessed as indicated."
        for _ in range(filler)
    )
    return _nfc(subject)[:300], _nfc("\n".join(line for line in lines if line))


def _reply_wording(
    rng: random.Random, parent_subject: str, subjects: Sequence[Subject]
) -> tuple[str, str]:
    who = subjects[0].label if subjects else None
    if rng.random() < 0.3:
        result = "No information was found in our databases."
    elif who:
        result = f"The person {who} is known to our services; details are given as items."
    else:
        result = "The persons concerned are known to our services."
    lines = [
        "With reference to your request, our checks gave the following result.",
        result,
        "This answer may be used for the purpose stated in the request only.",
    ]
    return _nfc(f"Re: {parent_subject}")[:300], _nfc("\n".join(lines))


def _attachment(rng: random.Random) -> tuple[str, bytes]:
    """A small text attachment (a seizure list or a statement), 0.5-4 kB."""
    if rng.random() < 0.5:
        rows = ["item;quantity;unit;location"]
        for n in range(rng.randint(15, 120)):
            rows.append(f"package {n + 1};{rng.randint(1, 50)};kg;container {rng.randint(1, 9)}")
        return f"seizure-list-{rng.randint(1, 9999):04d}.csv", "\n".join(rows).encode()
    text_ = " ".join(
        rng.choice(("The witness", "She", "He", "The driver", "The officer"))
        + rng.choice((" stated", " confirmed", " declared", " added"))
        + " that the meeting took place at "
        + rng.choice(PLACES)
        + "."
        for _ in range(rng.randint(8, 60))
    )
    return f"statement-{rng.randint(1, 9999):04d}.txt", text_.encode()


@dataclass(frozen=True, slots=True)
class Spec:
    """One message before it becomes a Draft (sends) or rows (bulk fill)."""

    sender: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    message_type: MessageType
    priority: Priority
    accessibility: Accessibility | None
    subject: str
    body: str
    legal_basis: str
    purpose: str
    crime_area: str
    handling: HandlingCode
    classification: Classification
    personal_data: bool
    items: ItemSet
    attachment: tuple[str, bytes] | None

    def draft(self, *, case_id: str | None = None) -> Draft:
        return Draft(
            to=self.to,
            cc=self.cc,
            subject=self.subject,
            body=self.body,
            legal_basis=self.legal_basis,
            purpose=self.purpose,
            message_type=self.message_type,
            priority=self.priority,
            accessibility=self.accessibility,
            crime_area=self.crime_area,
            handling=self.handling,
            h3_conditions=H3_CONDITIONS if self.handling is HandlingCode.H3 else None,
            classification=self.classification,
            personal_data=self.personal_data,
            case_id=case_id,
            items=self.items.items,
            links=self.items.links,
            attachments=(AttachmentUpload(*self.attachment),) if self.attachment else (),
        )


class Traffic:
    """Draws messages: who writes to whom, what kind, about what."""

    def __init__(self, members: Mapping[str, Member], rng: random.Random) -> None:
        self.members = members
        self.rng = rng
        self.codes = [code for code in TRAFFIC if code in members]
        self.weights = [TRAFFIC[code] for code in self.codes]
        self.cumulative = list(itertools.accumulate(self.weights))
        self.crime_areas = [a for a in CRIME_AREAS if a in configured_crime_areas()]
        self.pool_personal: list[ItemSet] = []
        self.pool_plain: list[ItemSet] = []

    def build_pools(self, size: int) -> None:
        """Pre-validated item sets for the bulk fill (the sends draw fresh ones)."""
        for pool, personal in ((self.pool_personal, True), (self.pool_plain, False)):
            while len(pool) < size:
                drawn = make_items(self.rng, personal=personal)
                items, links, is_personal = service._structured(drawn.items, drawn.links)
                pool.append(ItemSet(tuple(items), tuple(links), is_personal, drawn.subjects))

    def pick_agencies(self, count: int, exclude: set[str]) -> list[str]:
        chosen: list[str] = []
        while len(chosen) < count:
            code = self.rng.choices(self.codes, cum_weights=self.cumulative)[0]
            if code not in exclude and code not in chosen:
                chosen.append(code)
        return chosen

    def sender(self) -> str:
        return self.rng.choices(self.codes, cum_weights=self.cumulative)[0]

    def new_message(
        self, sender: str, *, fresh_items: bool, message_type: MessageType | None = None
    ) -> Spec:
        rng = self.rng
        if message_type is None:
            message_type = rng.choices(
                (MessageType.REQUEST, MessageType.INFORMATION, MessageType.HIT_FOLLOW_UP),
                (48, 48, 4),
            )[0]
        n_to = rng.choices((1, 2, 3), (78, 15, 7))[0]
        if message_type is MessageType.HIT_FOLLOW_UP:
            n_to = 1
        to = self.pick_agencies(n_to, {sender})
        cc: list[str] = []
        n_cc = rng.choices((0, 1, 2), (80, 15, 5))[0]
        if n_cc:
            taken = {sender, *to}
            if HUB_CODE not in taken and rng.random() < 0.5:
                cc.append(HUB_CODE)
            cc.extend(self.pick_agencies(n_cc - len(cc), taken | set(cc)))
        everyone = [sender, *to, *cc]
        personal_ok = all(self.members[c].personal_ok for c in everyone)
        if fresh_items:
            items = make_items(rng, personal=personal_ok)
        else:
            items = rng.choice(self.pool_personal if personal_ok else self.pool_plain)
        area = rng.choice(self.crime_areas)
        reference = f"{sender.split('-')[0]}-2026-{rng.randint(1, 9999):04d}"
        subject, body = _wording(rng, message_type, area, items.subjects, sender, reference)
        urgent = rng.random() < (0.25 if message_type is MessageType.REQUEST else 0.08)
        accessibility = None
        if message_type is MessageType.REQUEST:
            accessibility = Accessibility.DIRECT if rng.random() < 0.6 else Accessibility.INDIRECT
        handling = rng.choices(list(HandlingCode), (60, 25, 10, 5))[0]
        return Spec(
            sender=sender,
            to=tuple(to),
            cc=tuple(cc),
            message_type=message_type,
            priority=Priority.URGENT if urgent else Priority.NORMAL,
            accessibility=accessibility,
            subject=subject,
            body=body,
            legal_basis=rng.choice(LEGAL_BASES[message_type]),
            purpose=f"investigation of {_crime_label(area)} {reference}",
            crime_area=area,
            handling=handling,
            classification=Classification.RESTRICTED
            if rng.random() < 0.65
            else Classification.UNCLASSIFIED,
            personal_data=personal_ok and (items.personal or rng.random() < 0.7),
            items=items,
            attachment=_attachment(rng) if rng.random() < 0.10 else None,
        )

    def reply(self, parent: Spec, replier: str, *, fresh_items: bool) -> Spec:
        rng = self.rng
        personal_ok = self.members[replier].personal_ok and self.members[parent.sender].personal_ok
        items = ItemSet((), (), False, parent.items.subjects)
        if rng.random() < 0.3:
            if fresh_items:
                items = make_items(rng, personal=personal_ok)
            else:
                items = rng.choice(self.pool_personal if personal_ok else self.pool_plain)
        subject, body = _reply_wording(rng, parent.subject, items.subjects)
        return Spec(
            sender=replier,
            to=(parent.sender,),
            cc=(),
            message_type=MessageType.REPLY,
            priority=parent.priority,
            accessibility=None,
            subject=subject,
            body=body,
            legal_basis=rng.choice(LEGAL_BASES[MessageType.REPLY]),
            purpose=parent.purpose,
            crime_area=parent.crime_area,
            handling=parent.handling,
            classification=parent.classification,
            personal_data=personal_ok and (items.personal or parent.personal_data),
            items=items,
            attachment=_attachment(rng) if rng.random() < 0.10 else None,
        )


# ── Bulk fill ────────────────────────────────────────────────────────────────────────────────


class Sealer:
    """``crypto.seal``'s blob with the node's active data key, resolved once.

    ``crypto.seal`` resolves the active data key (a database lookup) at least once per unit of
    work; the fill resolves it once through the same functions and writes the same blob
    (version | data-key id | nonce | AES-256-GCM(plaintext, aad = header + row binding)), so
    ``crypto.open_sealed`` opens every value.
    """

    def __init__(self, session: Any, settings: Settings) -> None:
        keys = crypto.master_keys(settings)
        row = crypto._active_row(session) or crypto._create_active(session, keys)
        self._cipher = crypto._cipher_for_row(row, keys)
        self._header = bytes([crypto.BLOB_VERSION]) + row.id.encode("ascii")

    def __call__(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(crypto.NONCE_BYTES)
        return self._header + nonce + self._cipher.encrypt(nonce, plaintext, self._header + aad)


@dataclass(frozen=True, slots=True)
class Signer:
    """An agency's current signing key, opened once (``signing.sign`` opens it per call)."""

    key_id: str
    private: Ed25519PrivateKey

    @classmethod
    def load(cls, session: Any, agency_id: str, settings: Settings) -> Signer:
        key = signing.current_signing_key(session, agency_id, settings)
        raw = crypto.open_sealed(
            session, key.private_sealed, aad=signing._private_aad(key.id), settings=settings
        )
        return cls(key.id, Ed25519PrivateKey.from_private_bytes(raw))


@dataclass(slots=True)
class _Pending:
    """A reply the requested agency will send (scheduled when the request is filled)."""

    parent_id: str
    thread_id: str
    case_id: str
    replier: str
    spec: Spec


@dataclass(slots=True)
class FillStats:
    messages: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    recipients: int = 0
    unread: int = 0
    open_requests: int = 0
    answered: int = 0
    cases: int = 0
    participants: int = 0
    attachments: int = 0
    seconds: float = 0.0
    build_seconds: float = 0.0
    insert_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "by_type": dict(sorted(self.by_type.items())),
            "recipient_rows": self.recipients,
            "unread_rows": self.unread,
            "answered_rows": self.answered,
            "open_request_rows": self.open_requests,
            "cases": self.cases,
            "case_participants": self.participants,
            "attachments": self.attachments,
            "seconds": round(self.seconds, 2),
            "messages_per_s": round(self.messages / self.seconds, 1) if self.seconds else None,
            "build_us_per_message": round(self.build_seconds / self.messages * 1e6, 1)
            if self.messages
            else None,
            "insert_us_per_message": round(self.insert_seconds / self.messages * 1e6, 1)
            if self.messages
            else None,
            "audited": False,
        }


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ULID_SHIFTS = tuple(range(125, -1, -5))


class Filler:
    """Writes ``count`` real messages over the last year, oldest first, in batches."""

    def __init__(
        self,
        database: Database,
        members: Mapping[str, Member],
        traffic: Traffic,
        settings: Settings,
        *,
        count: int,
        batch: int = BATCH,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.log = log
        self.database = database
        self.members = members
        self.traffic = traffic
        self.rng = traffic.rng
        self.settings = settings
        self.count = count
        self.batch = batch
        self.end = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        self.stats = FillStats()
        with database.session() as session:
            self.seal = Sealer(session, settings)
            self.signers = {
                code: Signer.load(session, m.agency_id, settings) for code, m in members.items()
            }
        self.pending: list[tuple[dt.datetime, int, _Pending]] = []
        self.serial = itertools.count()
        self.cases: OrderedDict[str, set[str]] = OrderedDict()  # recent cases → participants
        self.recent_cases: dict[str, deque[str]] = {c: deque(maxlen=30) for c in members}
        self.references: set[str] = set()
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self._answers: list[dict[str, Any]] = []
        self._reset()

    def _reset(self) -> None:
        self._rows = {"cases": [], "participants": [], "messages": [], "attachments": []}
        self._rows["recipients"] = []
        self._answers = []

    # Ids as ``core.ids.new_id`` makes them (ULIDs: milliseconds, then 80 random bits), of the
    # sending time, so they sort by time as the service's do.
    @staticmethod
    def _id_at(at: dt.datetime) -> str:
        value = (int(at.timestamp() * 1000) << 80) | secrets.randbits(80)
        return "".join(_CROCKFORD[(value >> shift) & 31] for shift in _ULID_SHIFTS)

    def run(self) -> FillStats:
        started = time.perf_counter()
        reply_share = 0.38  # replies among all messages: the pace of new ones allows for them
        t = self.end - SPAN
        in_batch = 0
        while self.stats.messages < self.count:
            remaining = max(1.0, (self.count - self.stats.messages) * (1 - reply_share))
            step = (self.end - t).total_seconds() / remaining
            t_new = min(t + dt.timedelta(seconds=step * self.rng.expovariate(1.0)), self.end)
            if self.pending and self.pending[0][0] <= t_new:
                at, _, job = heapq.heappop(self.pending)
                self._reply(job, at)
            else:
                t = t_new
                self._new(t)
            in_batch += 1
            if in_batch >= self.batch:
                self._flush()
                in_batch = 0
                if self.log and self.stats.messages % (self.count // 10 or 1) < self.batch:
                    rate = self.stats.messages / (time.perf_counter() - started)
                    self.log(f"    {self.stats.messages:,} messages ({rate:,.0f}/s)")
        self._flush()
        self.stats.seconds = time.perf_counter() - started
        self.stats.build_seconds = self.stats.seconds - self.stats.insert_seconds
        return self.stats

    def _case_for(self, spec: Spec, at: dt.datetime) -> str:
        """A recent case of the sender (a third of new messages) or a new one."""
        recent = self.recent_cases[spec.sender]
        if recent and self.rng.random() < 0.35:
            case_id = self.rng.choice(recent)
            if case_id in self.cases:
                self.cases.move_to_end(case_id)
                self._participate(case_id, [*spec.to, *spec.cc], at)
                return case_id
        sender = self.members[spec.sender]
        case_id = self._id_at(at)
        reference = f"{spec.sender}/{at:%Y}/{case_id[-8:]}"
        while reference in self.references:  # the service would refuse a duplicate reference
            case_id = self._id_at(at)
            reference = f"{spec.sender}/{at:%Y}/{case_id[-8:]}"
        self.references.add(reference)
        self._rows["cases"].append(
            {
                "id": case_id,
                "reference": reference,
                "title_sealed": self.seal(
                    spec.subject.encode("utf-8"), service._aad("case-title", case_id)
                ),
                "crime_area": spec.crime_area,
                "status": "open",
                "owner_agency_id": sender.agency_id,
                "created_by": sender.username,
                "created_at": at,
                "closed_at": None,
            }
        )
        self.stats.cases += 1
        self.cases[case_id] = set()
        if len(self.cases) > 50_000:
            self.cases.popitem(last=False)
        self._participate(case_id, [spec.sender, *spec.to, *spec.cc], at)
        recent.append(case_id)
        return case_id

    def _participate(self, case_id: str, codes: Sequence[str], at: dt.datetime) -> None:
        taken = self.cases[case_id]
        for code in codes:
            if code not in taken:
                taken.add(code)
                self._rows["participants"].append(
                    {"case_id": case_id, "agency_id": self.members[code].agency_id, "added_at": at}
                )

    def _new(self, at: dt.datetime) -> None:
        sender = self.traffic.sender()
        spec = self.traffic.new_message(sender, fresh_items=False)
        case_id = self._case_for(spec, at)
        self._message(spec, at, case_id=case_id, parent=None)

    def _reply(self, job: _Pending, at: dt.datetime) -> None:
        spec = self.traffic.reply(job.spec, job.replier, fresh_items=False)
        mid = self._message(spec, at, case_id=job.case_id, parent=job)
        replier = self.members[job.replier]
        self._answers.append(
            {
                "b_message_id": job.parent_id,
                "b_agency_id": replier.agency_id,
                "b_answered_at": at,
                "b_answer_id": mid,
            }
        )
        self.stats.answered += 1
        self.stats.open_requests -= 1

    def _read_at(self, at: dt.datetime, urgent: bool, before: dt.datetime | None) -> Any:
        mean_hours = 1.0 if urgent else 5.0
        read = at + dt.timedelta(hours=self.rng.expovariate(1 / mean_hours))
        if before is not None:
            read = min(read, at + (before - at) * 0.5)
        elif self.rng.random() < 0.004:  # never opened
            return None
        return read if read < self.end else None

    def _message(
        self, spec: Spec, at: dt.datetime, *, case_id: str, parent: _Pending | None
    ) -> str:
        sender = self.members[spec.sender]
        draft = spec.draft(case_id=case_id)
        mid = self._id_at(at)
        content = {
            "body": spec.body,
            "items": list(spec.items.items),
            "links": list(spec.items.links),
        }
        row: dict[str, Any] = {
            "id": mid,
            "case_id": case_id,
            "thread_id": parent.thread_id if parent else mid,
            "in_reply_to_id": parent.parent_id if parent else None,
            "forwarded_from_id": None,
            "sender_agency_id": sender.agency_id,
            "sender_user_id": sender.user_id,
            "sender_username": sender.username,
            "provider_agency_id": sender.agency_id,
            "message_type": spec.message_type.value,
            "priority": spec.priority.value,
            "accessibility": spec.accessibility.value if spec.accessibility else None,
            "legal_basis": spec.legal_basis,
            "purpose": spec.purpose,
            "crime_area": spec.crime_area,
            "handling": spec.handling.value,
            "h3_conditions": draft.h3_conditions,
            "classification": int(spec.classification),
            "personal_data": spec.personal_data or spec.items.personal,
            "refusal_ground": None,
            "item_count": len(spec.items.items),
            "subject_sealed": self.seal(spec.subject.encode("utf-8"), service._aad("subject", mid)),
            "content_sealed": self.seal(
                json.dumps(content, ensure_ascii=False, sort_keys=True).encode("utf-8"),
                service._aad("content", mid),
            ),
            "idempotency_key": None,
            "request_hash": service._request_hash(
                draft, {"in_reply_to": parent.parent_id} if parent else None
            ),
            "sent_at": at,
            "reference_type": None,
            "reference_id": None,
        }
        attachments = []
        if spec.attachment:
            filename, data = spec.attachment
            att_id = self._id_at(at)
            attachments.append(
                {
                    "id": att_id,
                    "message_id": mid,
                    "position": 0,
                    "filename": filename,
                    "content_type": service._content_type(data),
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "sealed": self.seal(data, service._aad("attachment", att_id)),
                }
            )
        recipients = [(c, RecipientKind.TO.value) for c in spec.to] + [
            (c, RecipientKind.CC.value) for c in spec.cc
        ]
        signed = service.signed_form(
            SimpleNamespace(**row),  # type: ignore[arg-type]  # the row as the service reads it
            sender_code=spec.sender,
            subject=spec.subject,
            content=content,
            recipients=recipients,
            attachments=[SimpleNamespace(**a) for a in attachments],  # type: ignore[misc]
        )
        signer = self.signers[spec.sender]
        row["signature_key_id"] = signer.key_id
        row["signature"] = signer.private.sign(signing.canonical_bytes(signed))
        self._rows["messages"].append(row)
        self._rows["attachments"].extend(attachments)
        self.stats.attachments += len(attachments)
        self.stats.messages += 1
        self.stats.by_type[spec.message_type.value] += 1

        urgent = spec.priority is Priority.URGENT
        for code, kind in recipients:
            member = self.members[code]
            deadline_at = deadline_rule = None
            closed = True
            answer_at = None
            if kind == "to" and spec.message_type in (
                MessageType.REQUEST,
                MessageType.HIT_FOLLOW_UP,
            ):
                if spec.message_type is MessageType.REQUEST:
                    deadline = request_deadline(
                        urgent=urgent,
                        directly_accessible=spec.accessibility is Accessibility.DIRECT,
                        received_at=at,
                        zone=member.zone,
                    )
                    deadline_at, deadline_rule = deadline.at, deadline.rule
                    median_hours = (
                        (3.0 if spec.accessibility is Accessibility.DIRECT else 20.0)
                        if urgent
                        else 48.0
                    )
                else:
                    hours = self.settings.hit_report_deadline_hours
                    deadline_at = at + dt.timedelta(hours=hours)
                    deadline_rule = f"{hours} hours: answer to a hit report"
                    median_hours = 4.0
                closed = False
                self.stats.open_requests += 1
                if self.rng.random() < 0.98:  # 2 % are never answered
                    delay = median_hours * self.rng.lognormvariate(0.0, 0.7)
                    answer_at = at + dt.timedelta(hours=delay)
                    job = _Pending(mid, row["thread_id"], case_id, code, spec)
                    heapq.heappush(self.pending, (answer_at, next(self.serial), job))
            read_at = self._read_at(at, urgent, answer_at)
            acknowledged = read_at is not None and self.rng.random() < 0.15
            self.stats.recipients += 1
            self.stats.unread += read_at is None
            self._rows["recipients"].append(
                {
                    "message_id": mid,
                    "agency_id": member.agency_id,
                    "kind": kind,
                    "status": (DeliveryStatus.READ if read_at else DeliveryStatus.DELIVERED).value,
                    "sent_at": at,
                    "priority": spec.priority.value,
                    "message_type": spec.message_type.value,
                    "delivered_at": at,
                    "read_at": read_at,
                    "acknowledged_at": read_at if acknowledged else None,
                    "acknowledged_by": member.username if acknowledged else None,
                    "answered_at": None,
                    "answer_id": None,
                    "deadline_at": deadline_at,
                    "deadline_rule": deadline_rule,
                    "closed": closed,
                }
            )
        return mid

    def _flush(self) -> None:
        rows = self._rows
        if not rows["messages"]:
            return
        started = time.perf_counter()
        with self.database.engine.begin() as conn:
            for table, key in (
                (Case.__table__, "cases"),
                (CaseParticipant.__table__, "participants"),
                (Message.__table__, "messages"),
                (Attachment.__table__, "attachments"),
                (MessageRecipient.__table__, "recipients"),
            ):
                if rows[key]:
                    conn.execute(insert(table), rows[key])
            if self._answers:
                r = MessageRecipient.__table__
                conn.execute(
                    update(r)
                    .where(
                        r.c.message_id == bindparam("b_message_id"),
                        r.c.agency_id == bindparam("b_agency_id"),
                    )
                    .values(
                        status=DeliveryStatus.ANSWERED.value,
                        answered_at=bindparam("b_answered_at"),
                        answer_id=bindparam("b_answer_id"),
                        closed=True,
                    ),
                    self._answers,
                )
        self.stats.participants += len(rows["participants"])
        self.stats.insert_seconds += time.perf_counter() - started
        self._reset()


# ── Verification, queries, sends ─────────────────────────────────────────────────────────────


def _officer_of(members: Mapping[str, Member], agency_id: str) -> Member:
    return next(m for m in members.values() if m.agency_id == agency_id)


def verify_sample(
    database: Database, members: Mapping[str, Member], sample: int, settings: Settings
) -> dict[str, Any]:
    """Open bulk-filled messages through ``service.read`` as a recipient: every signature must
    be valid; every attachment must open and match its signed hash."""
    if sample <= 0:
        return {"sampled": 0, "valid": 0, "with_attachments": 0, "replies": 0}
    with database.session() as session:
        r = MessageRecipient
        picked = session.execute(
            select(r.message_id, r.agency_id).order_by(func.random()).limit(sample)
        ).all()
        with_files = session.execute(
            select(r.message_id, r.agency_id)
            .join(Attachment, Attachment.message_id == r.message_id)
            .order_by(func.random())
            .limit(max(1, sample // 5))
        ).all()
    seen: set[str] = set()
    valid = files = replies = 0
    for message_id, agency_id in [*picked, *with_files]:
        if message_id in seen:
            continue
        seen.add(message_id)
        actor = _officer_of(members, agency_id).actor
        with database.session() as session:
            view = service.read(session, actor, message_id, settings=settings)
            assert view.opened.verdict.valid, (message_id, view.opened.verdict.reason)
            assert not view.opened.subject.startswith("(content withheld"), message_id
            for a in view.opened.attachments:
                row, data = service.attachment(session, actor, message_id, a.id, settings=settings)
                assert hashlib.sha256(data).hexdigest() == row.sha256
                files += 1
            replies += view.message.in_reply_to_id is not None
        valid += 1
    return {"sampled": len(seen), "valid": valid, "attachments_opened": files, "replies": replies}


class _Tracer:
    """Every statement one call runs, with its time (to find and explain the slowest)."""

    def __init__(self, database: Database) -> None:
        self.engine = database.engine
        self.statements: list[tuple[float, str, Any]] = []

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        elapsed = time.perf_counter() - conn.info["bench_started"].pop()
        if not many:
            self.statements.append((elapsed, statement, parameters))

    def __enter__(self) -> _Tracer:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def _explain(database: Database, statement: str, parameters: Any) -> list[str]:
    sqlite = database.dialect == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
    with database.engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
    if sqlite:
        depth: dict[int, int] = {0: -1}
        lines = []
        for node, parent, _, detail in rows:
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + str(detail))
        return lines
    return [str(row[0]) for row in rows]


def _slowest(database: Database, call: Callable[[], Any]) -> dict[str, Any]:
    """The statements of one call: how many, the slowest of all as the driver timed it, and the
    slowest SELECT with its plan (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL).

    SQLite's driver returns from ``execute`` at the first row and steps through the rest while
    they are fetched, so each SELECT is run again, fetched whole, to time it.
    """
    with _Tracer(database) as tracer:
        call()
    if not tracer.statements:
        return {}
    elapsed, statement, _ = max(tracer.statements, key=lambda s: s[0])
    out: dict[str, Any] = {
        "statements": len(tracer.statements),
        "slowest_ms": round(elapsed * 1000, 2),
        "slowest_sql": " ".join(statement.split())[:300],
    }
    timed = []
    with database.engine.connect() as conn:
        for _, statement, parameters in tracer.statements:
            if statement.lstrip().upper().startswith("SELECT"):
                started = time.perf_counter()
                conn.exec_driver_sql(statement, parameters).all()
                timed.append((time.perf_counter() - started, statement, parameters))
    if timed:
        elapsed, statement, parameters = max(timed, key=lambda s: s[0])
        out["selects_ms"] = round(sum(t[0] for t in timed) * 1000, 2)
        out["select_ms"] = round(elapsed * 1000, 2)
        out["select_sql"] = " ".join(statement.split())[:1500]
        out["plan"] = _explain(database, statement, parameters)
    return out


def _latencies(values: Sequence[float]) -> dict[str, Any]:
    ms = [v * 1000 for v in values]
    return {
        "queries": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else None,
    }


def _inbox_rows(database: Database, agency_id: str) -> int:
    with database.session() as session:
        return int(
            session.scalar(select(func.count()).where(MessageRecipient.agency_id == agency_id)) or 0
        )


def query_suite(
    database: Database,
    member: Member,
    queries: int,
    settings: Settings,
    rng: random.Random,
    *,
    explain: bool,
) -> dict[str, Any]:
    """``queries`` timed calls (after a warm-up) of each kind, as ``member``'s officer."""
    actor = member.actor
    r = MessageRecipient
    with database.session() as session:
        case_ids = list(
            dict.fromkeys(
                session.scalars(
                    select(Message.case_id)
                    .join(r, r.message_id == Message.id)
                    .where(r.agency_id == member.agency_id)
                    .order_by(func.random())
                    .limit(queries + WARMUP)
                )
            )
        )
        to_read = list(
            session.scalars(
                select(r.message_id)
                .where(r.agency_id == member.agency_id)
                .order_by(func.random())
                .limit(queries + WARMUP)
            )
        )
    # The cursor of page DEEP_PAGE, walked once through the service.
    cursor: str | None = None
    pages = 1
    for _ in range(DEEP_PAGE - 1):
        with database.session() as session:
            page = service.inbox(session, actor, cursor=cursor, limit=PAGE, settings=settings)
        cursor = page.next_cursor
        if cursor is None:
            break
        pages += 1
    deep_cursor = cursor if pages == DEEP_PAGE else None

    def listing(**kw: Any) -> Callable[[Any, int], int]:
        def call(session: Any, _: int) -> int:
            page = service.inbox(session, actor, limit=PAGE, settings=settings, **kw)
            return len(page.rows)

        return call

    def by_case(session: Any, n: int) -> int:
        case_id = case_ids[n % len(case_ids)]
        page = service.inbox(session, actor, case_id=case_id, limit=PAGE, settings=settings)
        return len(page.rows)

    def badges(session: Any, _: int) -> int:
        service.counts(session, actor)
        return 1

    def read(session: Any, n: int) -> int:
        view = service.read(session, actor, to_read[n % len(to_read)], settings=settings)
        assert view.opened.verdict.valid, view.opened.verdict.reason
        return 1

    calls: dict[str, Callable[[Any, int], int] | None] = {
        "inbox": listing(),
        "unread": listing(unread=True),
        "urgent": listing(urgent=True),
        "overdue": listing(overdue=True),
        "by_case": by_case if case_ids else None,
        "sent": listing(folder=service.Folder.SENT),
        "deep_page": listing(cursor=deep_cursor) if deep_cursor else None,
        "counts": badges,
        "read": read if to_read else None,
    }
    out: dict[str, Any] = {}
    for kind in KINDS:
        call = calls[kind]
        if call is None:
            out[kind] = None
            continue
        rows = 0
        for n in range(WARMUP):
            with database.session() as session:
                call(session, n)
        latencies = []
        for n in range(WARMUP, WARMUP + queries):
            started = time.perf_counter()
            with database.session() as session:
                rows = call(session, n)
            latencies.append(time.perf_counter() - started)
        out[kind] = _latencies(latencies) | {"rows": rows}
        if explain:

            def traced(call: Callable[[Any, int], int] = call) -> None:
                with database.session() as session:
                    call(session, rng.randrange(WARMUP + queries))

            out[kind]["statements"] = _slowest(database, traced)
    return out


def _deliveries_of(database: Database, members: Mapping[str, Member]) -> dict[str, int]:
    with database.session() as session:
        counts = dict(
            session.execute(
                select(MessageRecipient.agency_id, func.count()).group_by(
                    MessageRecipient.agency_id
                )
            ).all()
        )
    return {code: int(counts.get(m.agency_id, 0)) for code, m in members.items()}


def choose_agencies(deliveries: Mapping[str, int]) -> dict[str, str]:
    """The busiest agency (most messages received) and a typical one (the median)."""
    ranked = sorted(deliveries, key=lambda c: (-deliveries[c], c))
    return {"busy": ranked[0], "typical": ranked[len(ranked) // 2]}


def run_sends(
    database: Database,
    members: Mapping[str, Member],
    traffic: Traffic,
    count: int,
    settings: Settings,
    tag: str,
) -> dict[str, Any]:
    """``count`` sends through the full path: new messages and replies, one unit of work each."""
    rng = traffic.rng
    r = MessageRecipient
    code_of = {m.agency_id: code for code, m in members.items()}
    open_for: dict[str, deque[tuple[str, Spec | str]]] = {c: deque(maxlen=200) for c in members}
    with database.session() as session:
        before = int(session.scalar(select(func.max(AuditEntry.seq))) or 0)
        for code, member in members.items():
            for message_id, sender_id in session.execute(
                select(r.message_id, Message.sender_agency_id)
                .join(Message, Message.id == r.message_id)
                .where(
                    r.agency_id == member.agency_id,
                    r.closed.is_(False),
                    r.kind == "to",
                    r.message_type == MessageType.REQUEST.value,
                )
                .order_by(r.sent_at.desc())
                .limit(20)
            ):
                open_for[code].append((message_id, code_of[sender_id]))
    cases_of: dict[str, deque[str]] = {c: deque(maxlen=20) for c in members}
    latencies: list[float] = []
    kinds: Counter[str] = Counter()
    attachments = items = 0
    for n in range(count):
        sender = traffic.sender()
        actor = members[sender].actor
        key = f"bench-{tag}-{n}"
        if rng.random() < 0.27 and open_for[sender]:
            parent_id, parent = open_for[sender].popleft()
            if isinstance(parent, str):  # a filled request: its wording is not needed
                parent = traffic.new_message(parent, fresh_items=True, message_type=REQUEST)
            spec = traffic.reply(parent, sender, fresh_items=True)
            draft = replace(spec.draft(), to=())
            started = time.perf_counter()
            with database.session() as session:
                message = service.reply(
                    session, actor, parent_id, draft, idempotency_key=key, settings=settings
                )
            latencies.append(time.perf_counter() - started)
        else:
            spec = traffic.new_message(sender, fresh_items=True)
            case_id = None
            if cases_of[sender] and rng.random() < 0.35:
                case_id = rng.choice(cases_of[sender])
            started = time.perf_counter()
            with database.session() as session:
                message = service.send(
                    session,
                    actor,
                    spec.draft(case_id=case_id),
                    idempotency_key=key,
                    settings=settings,
                )
            latencies.append(time.perf_counter() - started)
            cases_of[sender].append(message.case_id)
            if spec.message_type is MessageType.REQUEST:
                for code in spec.to:
                    open_for[code].append((message.id, spec))
        kinds[message.message_type] += 1
        attachments += spec.attachment is not None
        items += len(spec.items.items)
    with database.session() as session:
        audited = int(
            session.scalar(
                select(func.count()).where(
                    AuditEntry.seq > before,
                    AuditEntry.action.in_(("message.send", "message.reply")),
                )
            )
            or 0
        )
    assert audited == count, f"{audited} audit entries for {count} sends"
    total = sum(latencies)
    return {
        "sends": count,
        "seconds": round(total, 2),
        "messages_per_s": round(count / total, 1) if total else None,
        **{k: v for k, v in _latencies(latencies).items() if k != "queries"},
        "by_type": dict(sorted(kinds.items())),
        "with_attachment": attachments,
        "items": items,
        "audited": audited,
    }


def _seal_sign_costs(database: Database, members: Mapping[str, Member], settings: Settings) -> Any:
    """The library's per-call cost of ``seal`` and ``sign`` in one unit of work (``sign`` looks
    the signing key up and opens it on every call), beside the fill's (keys resolved once)."""
    member = next(iter(members.values()))
    payload = b"x" * 600
    out = {}
    with database.session() as session:
        started = time.perf_counter()
        for n in range(300):
            crypto.seal(session, payload, aad=b"bench:%d" % n, settings=settings)
        out["seal_us"] = round((time.perf_counter() - started) / 300 * 1e6, 1)
        started = time.perf_counter()
        for _ in range(300):
            signing.sign(session, member.agency_id, payload, settings=settings)
        out["sign_us"] = round((time.perf_counter() - started) / 300 * 1e6, 1)
        sealer = Sealer(session, settings)
        signer = Signer.load(session, member.agency_id, settings)
        started = time.perf_counter()
        for n in range(3000):
            blob = sealer(payload, b"bench:%d" % n)
        out["fill_seal_us"] = round((time.perf_counter() - started) / 3000 * 1e6, 1)
        assert crypto.open_sealed(session, blob, aad=b"bench:2999", settings=settings) == payload
        started = time.perf_counter()
        for _ in range(3000):
            signature = signer.private.sign(payload)
        out["fill_sign_us"] = round((time.perf_counter() - started) / 3000 * 1e6, 1)
        verdict = signing.verify(
            session,
            agency_id=member.agency_id,
            key_id=signer.key_id,
            payload=payload,
            signature=signature,
        )
        assert verdict.valid, verdict.reason
        session.rollback()  # nothing of this is kept
    return out


# ── One backend ──────────────────────────────────────────────────────────────────────────────


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@dataclass
class _Stores:
    urls: dict[str, str]
    cleanup: Callable[[], None]


def _stores(backend: str, workdir: Path, postgres_url: str | None) -> _Stores:
    names = {"small": "liaison_bench_exchange_small", "large": "liaison_bench_exchange"}
    if backend == "sqlite":
        return _Stores(
            {k: f"sqlite:///{workdir / f'{v}.db'}" for k, v in names.items()}, lambda: None
        )
    cluster = None
    if postgres_url:
        admin_url = postgres_url
        suffix = f"_{os.getpid()}"
    else:
        from tests.support.postgres import start_cluster

        cluster = start_cluster()
        admin_url = cluster.admin_url
        suffix = ""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for name in names.values():
            conn.execute(text(f'CREATE DATABASE "{name}{suffix}"'))
    engine.dispose()
    base = admin_url.rsplit("/", 1)[0]

    def cleanup() -> None:
        if cluster is not None:
            cluster.stop()
            return
        drop = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with drop.connect() as conn:
            for name in names.values():
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}{suffix}"'))
        drop.dispose()

    return _Stores({k: f"{base}/{v}{suffix}" for k, v in names.items()}, cleanup)


def _after_fill(database: Database) -> str | None:
    """PostgreSQL: ANALYZE (autovacuum would, shortly after such a load). SQLite: nothing,
    as the product never runs ANALYZE."""
    if database.dialect != "postgresql":
        return None
    started = time.perf_counter()
    with database.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return f"ANALYZE after the fill ({time.perf_counter() - started:.1f} s)"


def run_store(
    url: str,
    size: int,
    args: argparse.Namespace,
    settings: Settings,
    *,
    agencies: dict[str, str] | None,
    sends: int,
    explain: bool,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Fill one store, verify a sample, run the query suite, then the sends."""
    upgrade(url)
    database = Database(url)
    try:
        members = _setup_network(database, settings)
        rng = random.Random(args.seed * 1_000_003 + size)
        traffic = Traffic(members, rng)
        traffic.build_pools(min(3000, max(20, size // 20)))
        out: dict[str, Any] = {"messages": size}
        if explain:
            out["seal_sign_cost"] = _seal_sign_costs(database, members, settings)
        filler = Filler(database, members, traffic, settings, count=size, batch=args.batch, log=log)
        stats = filler.run()
        out["fill"] = stats.as_dict()
        log(
            f"  filled {size:,} messages in {stats.seconds:.1f} s "
            f"({stats.messages / stats.seconds:,.0f}/s)"
        )
        out["after_fill"] = _after_fill(database)
        started = time.perf_counter()
        out["verification"] = verify_sample(database, members, args.verify, settings)
        log(
            f"  verified {out['verification']['valid']}/{out['verification']['sampled']} "
            f"signatures ({time.perf_counter() - started:.1f} s)"
        )
        deliveries = _deliveries_of(database, members)
        chosen = agencies or choose_agencies(deliveries)
        out["agencies"] = {}
        for role, code in chosen.items():
            started = time.perf_counter()
            out["agencies"][role] = {
                "agency": code,
                "received": deliveries[code],
                "queries": query_suite(
                    database, members[code], args.queries, settings, rng, explain=explain
                ),
            }
            log(f"  queries as {code} ({role}) in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        out["send"] = run_sends(database, members, traffic, sends, settings, f"{size}")
        log(
            f"  {sends:,} sends in {time.perf_counter() - started:.1f} s "
            f"({out['send']['messages_per_s']}/s)"
        )
        return out
    finally:
        database.dispose()


def run_backend(backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    settings = get_settings()

    def log(line: str) -> None:
        print(f"[{backend} {time.strftime('%H:%M:%S')}] {line}", flush=True)

    stores = _stores(backend, workdir, args.postgres_url)
    try:
        small = min(args.small, args.messages)
        log(f"store of {args.messages:,} messages")
        large = run_store(
            stores.urls["large"],
            args.messages,
            args,
            settings,
            agencies=None,
            sends=args.sends,
            explain=True,
            log=log,
        )
        chosen = {role: a["agency"] for role, a in large["agencies"].items()}
        log(f"store of {small:,} messages")
        small_store = run_store(
            stores.urls["small"],
            small,
            args,
            settings,
            agencies=chosen,
            sends=min(args.sends, SMALL_SENDS),
            explain=False,
            log=log,
        )
    finally:
        stores.cleanup()
    notes = [
        "bulk fill: rows inserted with SQLAlchemy Core executemany; no audit entries are "
        "written for it (the measured sends are audited, one entry each, asserted)",
        "bulk fill: subjects, contents, attachments and case titles are sealed with the active "
        "data key in crypto.seal's blob format and signed with each agency's Ed25519 key over "
        "service.signed_form; the keys are resolved once for the whole fill (per-call cost of "
        "crypto.seal and signing.sign in one unit of work: seal_sign_cost)",
        "queries: one unit of work per call, including the audit entry inbox/read write and "
        "decrypting the page's subjects; read verifies the signature (asserted valid)",
    ]
    if large.get("after_fill"):
        notes.append(f"PostgreSQL: {large['after_fill']} of each store")
    else:
        notes.append("SQLite: no ANALYZE after the fill (the product never runs it)")
    return {
        "backend": backend,
        "stores": {"large": large, "small": small_store},
        "ratios": ratios(large, small_store),
        "notes": notes,
        "peak_rss_mb": _peak_rss_mb(),
    }


def ratios(large: dict[str, Any], small: dict[str, Any]) -> dict[str, Any]:
    """p95 at N messages over p95 at the small store, per agency and kind (and for sends)."""
    out: dict[str, Any] = {}
    for role, a in large["agencies"].items():
        b = small["agencies"].get(role)
        per_kind = {}
        for kind in KINDS:
            x = a["queries"].get(kind)
            y = b["queries"].get(kind) if b else None
            per_kind[kind] = (
                round(x["p95_ms"] / y["p95_ms"], 2) if x and y and y["p95_ms"] else None
            )
        out[f"{role}_p95"] = per_kind
    s, t = large["send"], small["send"]
    out["send_p95"] = round(s["p95_ms"] / t["p95_ms"], 2) if t.get("p95_ms") else None
    out["fill_rate"] = (
        round(large["fill"]["messages_per_s"] / small["fill"]["messages_per_s"], 2)
        if small["fill"]["messages_per_s"]
        else None
    )
    return out


# ── Running, printing, writing ───────────────────────────────────────────────────────────────


def _in_this_process(args: argparse.Namespace, backend: str) -> dict[str, Any]:
    code_revision = revision()
    with tempfile.TemporaryDirectory(prefix="liaison-bench-", dir=args.workdir) as tmp:
        try:
            result = run_backend(backend, args, Path(tmp))
        except Exception as exc:
            traceback.print_exc()
            result = {"backend": backend, "error": f"{type(exc).__name__}: {exc}"[-2000:]}
    result["revision"] = code_revision
    return result


def _in_a_child(args: argparse.Namespace, backend: str, out: Path) -> dict[str, Any]:
    """Run one backend in its own interpreter, so its peak memory is its own."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.exchange",
        "--backend",
        backend,
        "--messages",
        str(args.messages),
        "--small",
        str(args.small),
        "--sends",
        str(args.sends),
        "--queries",
        str(args.queries),
        "--verify",
        str(args.verify),
        "--batch",
        str(args.batch),
        "--seed",
        str(args.seed),
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


def table(results: Sequence[dict[str, Any]], messages: int, small: int) -> str:
    width = 28
    lines = [f"{'':40}" + "".join(f"{r['backend']:>{width}}" for r in results)]
    for result in results:
        if "error" in result:
            lines.append(f"{result['backend']}: {result['error']}")
    ok = [r for r in results if "error" not in r]
    if not ok:
        return "\n".join(lines)

    def row(label: str, cell: Callable[[dict[str, Any]], str]) -> None:
        cells = []
        for r in ok:
            try:
                cells.append(cell(r))
            except (KeyError, TypeError):
                cells.append("—")
        lines.append(f"{label:40}" + "".join(f"{c:>{width}}" for c in cells))

    def fmt3(q: Any) -> str:
        return "—" if not q else f"{q['p50_ms']:.1f} / {q['p95_ms']:.1f} / {q['p99_ms']:.1f}"

    large, small_ = "stores.large", "stores.small"
    row("stored messages", lambda r: f"{_get(r, large + '.fill.messages'):,}")
    row(
        "bulk fill messages/s (not audited)",
        lambda r: f"{_get(r, large + '.fill.messages_per_s'):,.0f}",
    )
    row(
        "signatures verified (sample)",
        lambda r: "{valid}/{sampled}".format(**_get(r, large + ".verification")),
    )
    row(
        f"sends messages/s at {messages:,}",
        lambda r: f"{_get(r, large + '.send.messages_per_s'):,.1f}",
    )
    row(
        "send p50 / p95 / p99 ms",
        lambda r: fmt3(_get(r, large + ".send")),
    )
    row(
        f"sends messages/s at {small:,}",
        lambda r: f"{_get(r, small_ + '.send.messages_per_s'):,.1f}",
    )
    row(
        f"send p50 / p95 / p99 ms at {small:,}",
        lambda r: fmt3(_get(r, small_ + ".send")),
    )
    for role in ("busy", "typical"):
        row(
            f"{role} agency (received at {messages:,})",
            lambda r, role=role: "{agency} ({received:,})".format(
                **_get(r, f"{large}.agencies.{role}")
            ),
        )
        lines.append(f"  p50 / p95 / p99 ms at {messages:,}; p95 ×{small:,}-message store")
        for kind in KINDS:
            row(
                f"  {KIND_LABELS[kind]}",
                lambda r, role=role, kind=kind: fmt3(
                    _get(r, f"{large}.agencies.{role}.queries.{kind}")
                ),
            )
            row(
                "    p95 vs small store",
                lambda r, role=role, kind=kind: (
                    "—"
                    if _get(r, f"ratios.{role}_p95.{kind}") is None
                    else f"×{_get(r, f'ratios.{role}_p95.{kind}'):.2f}"
                ),
            )
    row("peak RSS MB", lambda r: f"{r['peak_rss_mb']:,.0f}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.exchange", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES)
    parser.add_argument(
        "--small", type=int, default=DEFAULT_SMALL, help="size of the comparison store"
    )
    parser.add_argument("--sends", type=int, default=DEFAULT_SENDS)
    parser.add_argument("--queries", type=int, default=DEFAULT_QUERIES, help="per kind")
    parser.add_argument(
        "--verify", type=int, default=DEFAULT_VERIFY, help="filled messages opened and verified"
    )
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument("--batch", type=int, default=BATCH, help="messages per bulk transaction")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="JSON results file")
    parser.add_argument("--workdir", default=None, help="for the SQLite files")
    parser.add_argument(
        "--postgres-url",
        default=None,
        help="an existing server's admin URL (databases are created and dropped there); "
        "default: a throwaway cluster",
    )
    args = parser.parse_args(argv)
    for name in ("messages", "small", "queries", "batch"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.sends < 0 or args.verify < 0:
        parser.error("--sends and --verify cannot be negative")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    # Settings refuse their default secrets only in production mode; nothing here is one.
    os.environ.setdefault("LIAISON_MODE", "test")
    backends = list(BACKENDS) if args.backend == "both" else [args.backend]
    out = Path(args.out)
    results: list[dict[str, Any]] = []
    if len(backends) == 1:
        results.append(_in_this_process(args, backends[0]))
    else:
        # Each backend's own result lands beside the output (``*.tmp``) until both are merged.
        out.parent.mkdir(parents=True, exist_ok=True)
        for backend in backends:
            print(f"── {backend}", flush=True)
            part = out.with_name(f"{out.name}.{backend}.tmp")
            results.append(_in_a_child(args, backend, part))
            part.unlink(missing_ok=True)
    document = {
        "benchmark": "exchange",
        "command": "python -m benchmarks.exchange "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine(),
        "messages": args.messages,
        "small_store": min(args.small, args.messages),
        "sends": args.sends,
        "queries_per_kind": args.queries,
        "seed": args.seed,
        "network": {"agencies": len(NETWORK), "officers": len(NETWORK)},
        "backends": {r["backend"]: r for r in results},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(results, args.messages, document["small_store"]), flush=True)
    print(f"results written to {out}", flush=True)
    return document


if __name__ == "__main__":
    main()
