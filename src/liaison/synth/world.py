"""The synthetic world, generated person by person and streamed to disk.

Same seed and size give byte-identical files. Nothing is held in memory beyond a small window
of recent persons (for namesakes) and the group being built.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import json
import random
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from liaison.core.markings import EUROPOL_CRIME_AREAS
from liaison.synth.agencies import AGENCIES, USERS, AgencySpec
from liaison.synth.persons import REFERENCE_DATE, Person, make_person
from liaison.synth.records import RECORD_FIELDS, record_of

VERSION = 1
PERSON_FIELDS = (
    "person_id",
    "nationality",
    "gender",
    "given_native",
    "family_native",
    "patronymic_native",
    "given_latin",
    "family_latin",
    "dob",
    "birth_place",
    "passport",
    "national_id",
    "phone",
    "email",
    "iban",
    "vehicle_vin",
    "vehicle_plate",
    "firearm_serial",
    "group_id",
    "role",
    "minor",
)
_RECORDING_AGENCIES = tuple(a for a in AGENCIES if a.holds_person_records)
_GROUP_AREAS = (
    "drug_trafficking",
    "immigrant_smuggling",
    "trafficking_in_human_beings",
    "money_laundering",
    "motor_vehicle_crime",
    "swindling_fraud",
    "arms_trafficking",
    "robbery_aggravated_theft",
    "computer_crime",
    "racketeering_extortion",
)
_CRIME_AREAS = tuple(EUROPOL_CRIME_AREAS)


@dataclass(slots=True)
class Unit:
    """Everything generated for one person: the truth, the records, links and events."""

    person: Person
    records: list[dict[str, Any]]
    links: list[tuple[str, str, str]]
    events: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class WorldSummary:
    persons: int
    records: int
    groups: int
    links: int
    events: int
    seed: int

    def __str__(self) -> str:
        return (
            f"{self.persons} persons, {self.records} records, {self.groups} groups, "
            f"{self.links} links, {self.events} events (seed {self.seed})"
        )


def _agency_weights(person: Person) -> list[float]:
    return [
        4.0 if a.country in (person.nationality, person.residence) else 1.0
        for a in _RECORDING_AGENCIES
    ]


def _choose_agencies(rng: random.Random, person: Person, count: int) -> list[AgencySpec]:
    pool = list(_RECORDING_AGENCIES)
    weights = _agency_weights(person)
    chosen: list[AgencySpec] = []
    for _ in range(min(count, len(pool))):
        agency = rng.choices(pool, weights)[0]
        index = pool.index(agency)
        pool.pop(index)
        weights.pop(index)
        chosen.append(agency)
    return chosen


class _Generator:
    def __init__(self, persons: int, seed: int) -> None:
        self.total = persons
        self.rng = random.Random(seed)
        self.recent: deque[Person] = deque(maxlen=2000)
        self.next_person = 0
        self.next_record = 0
        self.next_group = 0
        self.next_event = 0

    def _pid(self) -> str:
        self.next_person += 1
        return f"P{self.next_person:07d}"

    def _rid(self) -> str:
        self.next_record += 1
        return f"R{self.next_record:08d}"

    def _person(self) -> Person:
        rng = self.rng
        like = rng.choice(self.recent) if self.recent and rng.random() < 0.03 else None
        person = make_person(rng, self._pid(), like=like)
        self.recent.append(person)
        return person

    def _records(
        self, person: Person, count: int, crime_area: str, group_phone: str | None
    ) -> list[dict[str, Any]]:
        rng = self.rng
        out = []
        for i, agency in enumerate(_choose_agencies(rng, person, count)):
            alias_source = self.recent[0] if i > 0 and rng.random() < 0.03 and self.recent else None
            if alias_source is person:
                alias_source = None
            record = record_of(
                person,
                agency,
                rng,
                self._rid(),
                primary=i == 0,
                crime_area=crime_area,
                alias_source=alias_source,
            )
            if group_phone and rng.random() < 0.25:
                record["phone"] = group_phone
            out.append(record)
        return out

    def units(self) -> Iterator[Unit]:
        rng = self.rng
        while self.next_person < self.total:
            remaining = self.total - self.next_person
            if remaining >= 3 and rng.random() < 0.02:
                yield from self._group(min(remaining, rng.randint(3, 12)))
                continue
            person = self._person()
            count = 1 if rng.random() < 0.6 else 2 if rng.random() < 0.75 else 3
            yield Unit(person, self._records(person, count, rng.choice(_CRIME_AREAS), None), [], [])

    def _group(self, size: int) -> Iterator[Unit]:
        rng = self.rng
        self.next_group += 1
        group_id = f"G{self.next_group:05d}"
        area = rng.choice(_GROUP_AREAS)
        members = [self._person() for _ in range(size)]
        roles = ["leader", *(["broker"] * rng.randint(1, 2)), *(["member"] * size)][:size]
        for member, role in zip(members, roles, strict=True):
            member.group_id, member.role = group_id, role
        # Family members share a surname and an address; the rest are associates.
        links: list[tuple[str, str, str]] = []
        if size >= 4 and rng.random() < 0.5:
            a, b = members[1], members[2]
            b.name = dataclasses.replace(
                b.name, family_latin=a.name.family_latin, family_native=a.name.family_native
            )
            b.street, b.street_number, b.city, b.postcode = (
                a.street,
                a.street_number,
                a.city,
                a.postcode,
            )
            links.append((a.person_id, b.person_id, "family"))
            links.append((a.person_id, b.person_id, "shares_address"))
        for i in range(1, size):
            links.append((members[rng.randrange(i)].person_id, members[i].person_id, "associate"))
        shared_phone = members[0].phone
        if members[0].vehicle and size > 1:
            members[1].vehicle = members[0].vehicle
            links.append((members[0].person_id, members[1].person_id, "shares_vehicle"))
        events = []
        for _ in range(rng.randint(1, 4)):
            self.next_event += 1
            involved = sorted(
                rng.sample([m.person_id for m in members], k=min(size, rng.randint(2, 5)))
            )
            events.append(
                {
                    "event_id": f"E{self.next_event:06d}",
                    "group_id": group_id,
                    "crime_area": area,
                    "date": (REFERENCE_DATE - dt.timedelta(days=rng.randint(1, 1500))).isoformat(),
                    "place": members[0].city,
                    "persons": involved,
                }
            )
        for index, member in enumerate(members):
            count = rng.choice((2, 2, 3, 3, 4))
            yield Unit(
                member,
                self._records(member, count, area, shared_phone if index else None),
                links if index == 0 else [],
                events if index == 0 else [],
            )


def iter_world(persons: int, seed: int) -> Iterator[Unit]:
    """Generate the world lazily, one person (with their records) at a time."""
    return _Generator(persons, seed).units()


def _person_row(p: Person) -> list[str]:
    n = p.name
    return [
        p.person_id,
        p.nationality,
        p.gender.upper(),
        n.given_native,
        n.family_native,
        n.patronymic_native or "",
        n.given_latin,
        n.family_latin,
        p.born.isoformat(),
        p.birth_place,
        p.passport,
        p.national_id,
        p.phone,
        p.email,
        p.iban,
        p.vehicle[0] if p.vehicle else "",
        p.vehicle[2] if p.vehicle else "",
        p.firearm[1] if p.firearm else "",
        p.group_id or "",
        p.role or "",
        "1" if p.minor else "0",
    ]


class _Files:
    def __init__(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.out = out
        self.handles: dict[str, TextIO] = {}
        self.csv: dict[str, Any] = {}
        for name, header in (
            ("persons.csv", PERSON_FIELDS),
            ("records.csv", RECORD_FIELDS),
            ("truth.csv", ("record_id", "person_id")),
            ("groups.csv", ("group_id", "person_id", "role")),
            ("links.csv", ("source", "target", "kind")),
        ):
            handle = (out / name).open("w", encoding="utf-8", newline="")
            self.handles[name] = handle
            self.csv[name] = csv.writer(handle, lineterminator="\n")
            self.csv[name].writerow(header)
        for name in ("records.jsonl", "events.jsonl"):
            self.handles[name] = (out / name).open("w", encoding="utf-8", newline="\n")

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


def _write_static(out: Path) -> None:
    with (out / "agencies.jsonl").open("w", encoding="utf-8", newline="\n") as f:
        for agency in AGENCIES:
            f.write(
                json.dumps(dataclasses.asdict(agency), ensure_ascii=False, sort_keys=True) + "\n"
            )
    with (out / "users.jsonl").open("w", encoding="utf-8", newline="\n") as f:
        for user in USERS:
            f.write(json.dumps(dataclasses.asdict(user), ensure_ascii=False, sort_keys=True) + "\n")


def write_world(
    out_dir: Path,
    *,
    persons: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> WorldSummary:
    """Write the world as CSV and JSON lines with truth files and a manifest of checksums."""
    if persons < 1:
        raise ValueError("a world needs at least one person")
    out = Path(out_dir)
    files = _Files(out)
    records = links = events = 0
    groups: set[str] = set()
    try:
        for done, unit in enumerate(iter_world(persons, seed), start=1):
            person = unit.person
            files.csv["persons.csv"].writerow(_person_row(person))
            if person.group_id:
                groups.add(person.group_id)
                files.csv["groups.csv"].writerow([person.group_id, person.person_id, person.role])
            for record in unit.records:
                files.csv["records.csv"].writerow([record[f] for f in RECORD_FIELDS])
                files.handles["records.jsonl"].write(json.dumps(record, ensure_ascii=False) + "\n")
                files.csv["truth.csv"].writerow([record["record_id"], person.person_id])
            records += len(unit.records)
            for link in unit.links:
                files.csv["links.csv"].writerow(link)
            links += len(unit.links)
            for event in unit.events:
                files.handles["events.jsonl"].write(json.dumps(event, ensure_ascii=False) + "\n")
            events += len(unit.events)
            if progress is not None and done % 1000 == 0:
                progress(done)
    finally:
        files.close()
    _write_static(out)
    if progress is not None:
        progress(persons)
    summary = WorldSummary(persons, records, len(groups), links, events, seed)
    manifest = {
        "version": VERSION,
        "seed": seed,
        "counts": dataclasses.asdict(summary),
        "reference_date": REFERENCE_DATE.isoformat(),
        "sha256": {
            path.name: _sha256(path)
            for path in sorted(out.iterdir())
            if path.name != "manifest.json"
        },
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return summary


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
