"""Who sees what: the access matrix of the shared information system, viewer by record.

One world: an owner agency (a member state) contributes an adult suspect (H1), a minor's record,
an H2 record, an H3 record with conditions, a CONFIDENTIAL record and a vehicle. A second member
agency, an international organisation, a member agency accredited only to RESTRICTED and a
partner under a working arrangement contribute records that cross-match them.

Each table has one row per viewer and one column per record of the owner; every cell is one
test. The world is built once per backend (SQLite and PostgreSQL); the tables read it, ask for
details and review its identity conflict, nothing more. Tests that change records or agencies
build a world of their own on the ``db`` fixture.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from liaison.core.actor import Actor, Role
from liaison.core.agencies import Agency, PartnerFramework
from liaison.core.audit import AuditEntry
from liaison.core.errors import NotFound, PermissionDenied
from liaison.core.markings import Classification
from liaison.core.settings import Settings
from liaison.db.engine import Database
from liaison.entities.crosscheck import run_pending
from liaison.entities.inbox import inbox, review_conflict
from liaison.entities.model import CrossMatch, Entity, EntityVersion, IdentityConflict
from liaison.entities.search import search
from liaison.entities.service import change, contribute, parse_contribution, remove
from liaison.identity.model import User
from tests.conftest import _drop_postgres, _postgres_database, _sqlite_database
from tests.support.factories import actor_of, agency, user
from tests.support.web import bearer, make_app

PURPOSE = "investigation 2026/17"
H3_CONDITIONS = "Inform DE-BKA before any action; no covert surveillance"

# ── Outcomes used in the tables ─────────────────────────────────────────────────────────────

FULL = "full"  # the record's data
HIT = "hit_only"  # that it exists, its owner, markings (and in search the strength)
NO = "not listed"  # search: not among the results at all
LISTED = "listed"  # identity-conflict queue: the conflict is listed
EMPTY = "empty"  # identity-conflict queue: allowed, but nothing to verify
OK = 200
CREATED = 201
DENIED = 403
NOT_FOUND = 404

# ── The world ───────────────────────────────────────────────────────────────────────────────

#: code → (framework, accreditation, personal-data basis)
AGENCIES: dict[str, tuple[PartnerFramework, Classification, str | None]] = {
    "DE-BKA": (PartnerFramework.MEMBER_STATE, Classification.SECRET, None),
    "NL-NP": (PartnerFramework.MEMBER_STATE, Classification.SECRET, None),
    "EU-HUB": (PartnerFramework.EU_BODY, Classification.SECRET, None),
    "TC-AGR": (PartnerFramework.THIRD_COUNTRY_AGREEMENT, Classification.CONFIDENTIAL, None),
    "TC-WA": (PartnerFramework.THIRD_COUNTRY_WORKING_ARRANGEMENT, Classification.SECRET, None),
    "IO-PD": (
        PartnerFramework.INTERNATIONAL_ORGANISATION,
        Classification.SECRET,
        "operational agreement 2021",
    ),
    "IO-NP": (PartnerFramework.INTERNATIONAL_ORGANISATION, Classification.SECRET, None),
    "FR-PN": (PartnerFramework.MEMBER_STATE, Classification.RESTRICTED, None),
}

#: viewer → (agency code, role). The rows of every table, in this order.
VIEWERS: dict[str, tuple[str, Role]] = {
    "owner": ("DE-BKA", Role.OFFICER),
    "member": ("NL-NP", Role.OFFICER),
    "hub": ("EU-HUB", Role.ANALYST),
    "agreement": ("TC-AGR", Role.OFFICER),
    "arrangement": ("TC-WA", Role.OFFICER),
    "io_basis": ("IO-PD", Role.OFFICER),
    "io_no_basis": ("IO-NP", Role.OFFICER),
    "restricted": ("FR-PN", Role.OFFICER),
    "dpo": ("DE-BKA", Role.DPO),
    "admin": ("DE-BKA", Role.ADMIN),
    "piu": ("NL-NP", Role.PIU_OPERATOR),
}
#: Further users for identity-conflict review.
REVIEWERS: dict[str, tuple[str, Role]] = {
    "owner_analyst": ("DE-BKA", Role.ANALYST),
    "member_alert_manager": ("NL-NP", Role.ALERT_MANAGER),
    "nonowner_analyst": ("FR-PN", Role.ANALYST),
}
USERS = VIEWERS | REVIEWERS
NO_PERSONAL_DATA = ("arrangement", "io_no_basis")


def person(ref: str, given: str, family: str, dob: str, **extra: Any) -> dict[str, Any]:
    props = {"given_name": given, "family_name": family, "dob": dob}
    props |= extra.pop("properties", {})
    return {
        "type": "Person",
        "id": ref,
        "subject_category": "suspect",
        "properties": props,
        **extra,
    }


#: The owner's records: the columns of every table. Each carries a marker property that must
#: never reach anyone outside the owner agency.
RECORDS: dict[str, dict[str, Any]] = {
    "adult": person(
        "A-ADULT",
        "Aleksandr",
        "Ivanov",
        "1980-03-12",
        handling="H1",
        evaluation="B2",
        crime_area="drug_trafficking",
        properties={
            "document_number": "P1234567",
            "document_country": "RU",
            "profession": "marker-adult",
        },
    ),
    "minor": person(
        "A-MINOR",
        "Lukas",
        "Brenner",
        "2010-06-01",
        minor=True,
        properties={"profession": "marker-minor"},
    ),
    "h2": person(
        "A-H2",
        "Marek",
        "Dvorak",
        "1975-11-20",
        handling="H2",
        properties={"profession": "marker-h2"},
    ),
    "h3": person(
        "A-H3",
        "Sofia",
        "Romano",
        "1988-04-04",
        handling="H3",
        h3_conditions=H3_CONDITIONS,
        properties={"profession": "marker-h3"},
    ),
    "confidential": person(
        "A-CONF",
        "Omar",
        "Haddad",
        "1985-02-02",
        classification="CONFIDENTIAL",
        properties={"profession": "marker-confidential"},
    ),
    "vehicle": {
        "type": "Vehicle",
        "id": "A-VEH",
        "properties": {"plate": "B-AB 1234", "plate_country": "DE", "colour": "marker-vehicle"},
    },
}
OWNER_REFS = tuple(r["id"] for r in RECORDS.values())

#: What a viewer types to find each record.
QUERIES = {
    "adult": "Aleksandr Ivanov 1980-03-12",
    "minor": "Lukas Brenner 2010-06-01",
    "h2": "Marek Dvorak 1975-11-20",
    "h3": "Sofia Romano 1988-04-04",
    "confidential": "Omar Haddad 1985-02-02",
    "vehicle": "B-AB 1234",
}

#: Records of other agencies that cross-match the owner's (contributor → records).
COUNTERPARTS: dict[str, list[dict[str, Any]]] = {
    "member": [
        person("B-ADULT", "Aleksandr", "Ivanov", "1980-03-12"),
        person("B-MINOR", "Lukas", "Brenner", "2010-06-01"),
        person("B-H2", "Marek", "Dvorak", "1975-11-20"),
        person("B-H3", "Sofia", "Romano", "1988-04-04"),
        person("B-CONF", "Omar", "Haddad", "1985-02-02"),
        {"type": "Vehicle", "id": "B-VEH", "properties": {"plate": "bab1234"}},
        # The adult's passport with another identity: an identity conflict (and a possible match).
        person(
            "B-OTHER",
            "Pieter",
            "de Vries",
            "2001-07-30",
            properties={"document_number": "P1234567"},
        ),
    ],
    "restricted": [person("R-CONF", "Omar", "Haddad", "1985-02-02")],
    "io_basis": [person("IO-ADULT", "Aleksandr", "Ivanov", "1980-03-12")],
    "arrangement": [{"type": "Vehicle", "id": "WA-VEH", "properties": {"plate": "B AB 1234"}}],
}


@dataclass
class World:
    db: Database
    client: TestClient
    agencies: dict[str, Agency]
    users: dict[str, User]
    headers: dict[str, dict[str, str]]
    ids: dict[str, str]  # contributor's record id (source_ref) → entity id

    def actor(self, viewer: str) -> Actor:
        return actor_of(self.users[viewer], PURPOSE)

    def id_of(self, record: str) -> str:
        return self.ids[RECORDS[record]["id"]]

    def code_of(self, viewer: str) -> str:
        return USERS[viewer][0]


def _build(db: Database, settings: Settings) -> World:
    with db.session() as s:
        agencies = {
            code: agency(
                s,
                code,
                framework=framework,
                accreditation=accreditation,
                personal_data_basis=basis,
                country=None,
            )
            for code, (framework, accreditation, basis) in AGENCIES.items()
        }
        users = {
            name: user(s, agencies[code], role, username=name.replace("_", "."))
            for name, (code, role) in USERS.items()
        }
        headers = {name: bearer(s, u) | {"X-Purpose": PURPOSE} for name, u in users.items()}
    ids: dict[str, str] = {}
    contributions = [("owner", raw) for raw in RECORDS.values()] + [
        (who, raw) for who, raws in COUNTERPARTS.items() for raw in raws
    ]
    for who, raw in contributions:
        with db.session() as s:
            entity, outcome = contribute(s, actor_of(users[who], PURPOSE), parse_contribution(raw))
            assert outcome == "created"
            ids[raw["id"]] = entity.id
    assert run_pending(db) == len(contributions)
    return World(db, TestClient(make_app(db, settings)), agencies, users, headers, ids)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, settings: Settings) -> Iterator[World]:
    """The world, built once per backend (see the module's docstring for what may change it)."""
    if request.param == "sqlite":
        directory = request.getfixturevalue("tmp_path_factory").mktemp("access")
        database = _sqlite_database(request.getfixturevalue("sqlite_template"), directory)
        try:
            yield _build(database, settings)
        finally:
            database.dispose()
        return
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    template: str = request.getfixturevalue("postgres_template")
    database, name = _postgres_database(admin_url, template)
    try:
        yield _build(database, settings)
    finally:
        database.dispose()
        _drop_postgres(admin_url, name)


def cells(table: Mapping[str, Sequence[object]], columns: Sequence[str]) -> list[Any]:
    """One test case per cell: ``viewer-record``."""
    return [
        pytest.param(viewer, column, expected, id=f"{viewer}-{column}")
        for viewer, row in table.items()
        for column, expected in zip(columns, row, strict=True)
    ]


COLUMNS = tuple(RECORDS)
HIT_ONLY_SEARCH_KEYS = {"id", "type", "owner", "visibility", "reason", "band", "markings"}
HIT_ONLY_PAGE_KEYS = {"id", "type", "owner", "visibility", "reason", "markings"}


def assert_nothing_of_the_owner(text: str) -> None:
    """No property and no record id of the owner's records is in this text."""
    assert "marker-" not in text
    for ref in OWNER_REFS:
        assert f'"{ref}"' not in text


# ── 1. Search ───────────────────────────────────────────────────────────────────────────────

SEARCH: dict[str, tuple[object, ...]] = {
    #               adult   minor   h2      h3      conf    vehicle
    "owner":       (FULL,   FULL,   FULL,   FULL,   FULL,   FULL),
    "member":      (HIT,    HIT,    HIT,    HIT,    HIT,    HIT),
    "hub":         (HIT,    HIT,    HIT,    HIT,    HIT,    HIT),
    "agreement":   (HIT,    HIT,    HIT,    HIT,    HIT,    HIT),
    "arrangement": (NO,     NO,     NO,     NO,     NO,     HIT),
    "io_basis":    (HIT,    HIT,    HIT,    HIT,    HIT,    HIT),
    "io_no_basis": (NO,     NO,     NO,     NO,     NO,     HIT),
    "restricted":  (HIT,    HIT,    HIT,    HIT,    NO,     HIT),
    "dpo":         (DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
    "admin":       (DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
    "piu":         (DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
}  # fmt: skip


@pytest.mark.parametrize(("viewer", "record", "expected"), cells(SEARCH, COLUMNS))
def test_search_service(world: World, viewer: str, record: str, expected: object) -> None:
    if expected == DENIED:
        with pytest.raises(PermissionDenied), world.db.session() as s:
            search(s, world.actor(viewer), QUERIES[record])
        return
    with world.db.session() as s:
        results = search(s, world.actor(viewer), QUERIES[record])
        listed = {h.entity.id: h.decision.visibility.value for h in results.hits}
        views = [h.as_dict() for h in results.hits]
    assert listed.get(world.id_of(record), NO) == expected
    for view in views:
        if view["visibility"] == HIT:
            assert set(view) == HIT_ONLY_SEARCH_KEYS
    if viewer != "owner":
        assert_nothing_of_the_owner(json.dumps(views, default=str))


@pytest.mark.parametrize(("viewer", "record", "expected"), cells(SEARCH, COLUMNS))
def test_search_api(world: World, viewer: str, record: str, expected: object) -> None:
    response = world.client.get(
        "/api/v1/search", params={"q": QUERIES[record]}, headers=world.headers[viewer]
    )
    if expected == DENIED:
        assert response.status_code == 403, response.text
        return
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    listed = {h["id"]: h["visibility"] for h in hits}
    assert listed.get(world.id_of(record), NO) == expected
    accreditation = AGENCIES[world.code_of(viewer)][1]
    for hit in hits:
        assert Classification[hit["markings"]["classification"]] <= accreditation
        if hit["visibility"] == HIT:
            assert set(hit) == HIT_ONLY_SEARCH_KEYS  # no properties, caption or explanation
    if viewer in NO_PERSONAL_DATA:
        assert [h["type"] for h in hits if h["type"] == "Person"] == []
    if viewer != "owner":
        assert_nothing_of_the_owner(response.text)


#: Persons by name, by date of birth alone and by document number: not even hit/no-hit.
PERSON_QUERIES = ("Ivanov", "12.03.1980", "P1234567", "Omar Haddad")


@pytest.mark.parametrize("viewer", NO_PERSONAL_DATA)
@pytest.mark.parametrize("query", PERSON_QUERIES)
def test_no_person_reaches_an_agency_without_personal_data(
    world: World, viewer: str, query: str
) -> None:
    response = world.client.get(
        "/api/v1/search", params={"q": query}, headers=world.headers[viewer]
    )
    assert response.status_code == 200, response.text
    assert response.json()["hits"] == []


# ── 2. Entity page ──────────────────────────────────────────────────────────────────────────

ENTITY_PAGE: dict[str, tuple[object, ...]] = {
    #               adult      minor      h2         h3         conf       vehicle
    "owner":       (FULL,      FULL,      FULL,      FULL,      FULL,      FULL),
    "member":      (HIT,       HIT,       HIT,       HIT,       HIT,       HIT),
    "hub":         (HIT,       HIT,       HIT,       HIT,       HIT,       HIT),
    "agreement":   (HIT,       HIT,       HIT,       HIT,       HIT,       HIT),
    "arrangement": (NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, HIT),
    "io_basis":    (HIT,       HIT,       HIT,       HIT,       HIT,       HIT),
    "io_no_basis": (NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, HIT),
    "restricted":  (HIT,       HIT,       HIT,       HIT,       NOT_FOUND, HIT),
    "dpo":         (NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "admin":       (NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "piu":         (HIT,       HIT,       HIT,       HIT,       HIT,       HIT),  # checks
}  # fmt: skip


@pytest.mark.parametrize(("viewer", "record", "expected"), cells(ENTITY_PAGE, COLUMNS))
def test_entity_page(world: World, viewer: str, record: str, expected: object) -> None:
    entity_id = world.id_of(record)
    response = world.client.get(f"/api/v1/entities/{entity_id}", headers=world.headers[viewer])
    if expected == NOT_FOUND:
        # Exactly what a record that does not exist gets: its existence is not revealed.
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == f"no record {entity_id}"
        return
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["visibility"] == expected
    if expected == HIT:
        assert set(body) == HIT_ONLY_PAGE_KEYS  # no properties, caption, versions or links
        assert_nothing_of_the_owner(response.text)
    else:
        assert body["properties"] == parse_contribution(RECORDS[record]).properties


@pytest.mark.parametrize("viewer", VIEWERS)
def test_every_read_of_an_entity_page_is_audited(world: World, viewer: str) -> None:
    with world.db.session() as s:
        last = s.scalar(select(func.max(AuditEntry.seq))) or 0
    for record in COLUMNS:
        world.client.get(f"/api/v1/entities/{world.id_of(record)}", headers=world.headers[viewer])
    with world.db.session() as s:
        entries = s.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.seq > last,
                AuditEntry.action == "entity.read",
                AuditEntry.actor_user_id == world.users[viewer].id,
            )
            .order_by(AuditEntry.seq)
        ).all()
        logged = [(e.object_id, e.outcome, e.purpose) for e in entries]
    expected = [
        (world.id_of(record), "denied" if outcome == NOT_FOUND else "success", PURPOSE)
        for record, outcome in zip(COLUMNS, ENTITY_PAGE[viewer], strict=True)
    ]
    assert logged == expected


# ── 3. Cross-match notifications ────────────────────────────────────────────────────────────

_MEMBER_INBOX = [
    ("B-ADULT", "DE-BKA", FULL, "match"),
    ("B-ADULT", "IO-PD", FULL, "match"),
    ("B-CONF", "DE-BKA", FULL, "match"),
    ("B-CONF", "FR-PN", FULL, "match"),
    ("B-H2", "DE-BKA", HIT, None),  # the other side is H2
    ("B-H3", "DE-BKA", FULL, "match"),
    ("B-MINOR", "DE-BKA", HIT, None),  # the other side is a minor's record
    ("B-OTHER", "DE-BKA", FULL, "possible"),
    ("B-VEH", "DE-BKA", FULL, "match"),
    ("B-VEH", "TC-WA", FULL, "match"),
]

#: viewer → its inbox: (own record, other owner, visibility, band); [] = nothing at all.
INBOX: dict[str, list[tuple[str, str, str, str | None]]] = {
    "owner": [
        ("A-ADULT", "IO-PD", FULL, "match"),
        ("A-ADULT", "NL-NP", FULL, "match"),
        ("A-ADULT", "NL-NP", FULL, "possible"),
        ("A-CONF", "FR-PN", FULL, "match"),
        ("A-CONF", "NL-NP", FULL, "match"),
        ("A-H2", "NL-NP", FULL, "match"),
        ("A-H3", "NL-NP", FULL, "match"),
        ("A-MINOR", "NL-NP", FULL, "match"),
        ("A-VEH", "NL-NP", FULL, "match"),
        ("A-VEH", "TC-WA", FULL, "match"),
    ],
    "member": _MEMBER_INBOX,
    "hub": [],  # not an owner of either side
    "agreement": [],
    "arrangement": [("WA-VEH", "DE-BKA", FULL, "match"), ("WA-VEH", "NL-NP", FULL, "match")],
    "io_basis": [("IO-ADULT", "DE-BKA", FULL, "match"), ("IO-ADULT", "NL-NP", FULL, "match")],
    "io_no_basis": [],
    # Its record matches the owner's CONFIDENTIAL record: above its accreditation, not notified.
    "restricted": [("R-CONF", "NL-NP", FULL, "match")],
    # Roles that may see no record are told nothing of the agency's records either.
    "dpo": [],
    "admin": [],
    "piu": [],  # screening operators neither contribute nor search: no notifications
}


@pytest.mark.parametrize("viewer", INBOX)
def test_cross_match_notifications(world: World, viewer: str) -> None:
    response = world.client.get("/api/v1/cross-matches", headers=world.headers[viewer])
    expected = INBOX[viewer]
    if not expected and response.status_code == 403:
        return  # nothing to see: refusing outright is as good as an empty inbox
    assert response.status_code == 200, response.text
    notifications = response.json()
    seen = sorted(
        (n["own_record"]["source_ref"], n["other_owner"], n["visibility"], n["band"])
        for n in notifications
    )
    assert seen == sorted(expected, key=str)
    for n in notifications:
        if n["visibility"] == HIT:
            assert (n["band"], n["other_markings"]) == (None, None)
        else:
            assert n["other_markings"]["classification"] in Classification.__members__
    if viewer != "owner":
        assert_nothing_of_the_owner(response.text)


def _inbox_of(database: Database, who: User) -> list[tuple[str, str, str]]:
    with database.session() as s:
        fresh = s.get(User, who.id)
        assert fresh is not None
        return sorted(
            (n.own.source_ref or "", n.match.entity_type, n.decision.visibility.value)
            for n in inbox(s, actor_of(fresh, PURPOSE))
        )


@pytest.mark.parametrize(
    ("framework", "basis"),
    [
        pytest.param(PartnerFramework.INTERNATIONAL_ORGANISATION, None, id="basis-withdrawn"),
        pytest.param(
            PartnerFramework.THIRD_COUNTRY_WORKING_ARRANGEMENT, None, id="working-arrangement"
        ),
    ],
)
def test_no_person_notifications_once_the_framework_excludes_personal_data(
    db: Database, framework: PartnerFramework, basis: str | None
) -> None:
    with db.session() as s:
        owner = user(s, agency(s, "DE-BKA"))
        io = agency(
            s,
            "IO-PD",
            framework=PartnerFramework.INTERNATIONAL_ORGANISATION,
            personal_data_basis="operational agreement 2021",
        )
        partner = user(s, io)
    for who, ref in ((owner, "A"), (partner, "IO")):
        for raw in (
            person(f"{ref}-P", "Aleksandr", "Ivanov", "1980-03-12"),
            {"type": "Vehicle", "id": f"{ref}-V", "properties": {"plate": "B-AB 1234"}},
        ):
            with db.session() as s:
                contribute(s, actor_of(who, PURPOSE), parse_contribution(raw))
    run_pending(db)
    both = [("IO-P", "Person", FULL), ("IO-V", "Vehicle", FULL)]
    assert _inbox_of(db, partner) == both
    with db.session() as s:
        row = s.get(Agency, io.id)
        assert row is not None
        row.framework, row.personal_data_basis = framework.value, basis
    assert _inbox_of(db, partner) == [("IO-V", "Vehicle", FULL)]
    assert _inbox_of(db, owner) == [("A-P", "Person", FULL), ("A-V", "Vehicle", FULL)]


# ── 4. Changes ──────────────────────────────────────────────────────────────────────────────

CHANGE_COLUMNS = ("adult", "confidential", "vehicle")
#: Others are refused (403) a record they may know of; one they may not even see is 404, as on
#: the entity page, so that refusing a change does not reveal that the record exists.
CHANGES: dict[str, tuple[object, ...]] = {
    #               adult      conf       vehicle
    "member":      (DENIED,    DENIED,    DENIED),
    "hub":         (DENIED,    DENIED,    DENIED),
    "agreement":   (DENIED,    DENIED,    DENIED),
    "arrangement": (NOT_FOUND, NOT_FOUND, DENIED),
    "io_basis":    (DENIED,    DENIED,    DENIED),
    "io_no_basis": (NOT_FOUND, NOT_FOUND, DENIED),
    "restricted":  (DENIED,    NOT_FOUND, DENIED),
    "dpo":         (DENIED,    DENIED,    DENIED),  # the owner agency's own staff
    "admin":       (DENIED,    DENIED,    DENIED),
    "piu":         (DENIED,    DENIED,    DENIED),
}  # fmt: skip


@pytest.mark.parametrize(("viewer", "record", "expected"), cells(CHANGES, CHANGE_COLUMNS))
def test_only_the_owner_changes_or_deletes(
    world: World, viewer: str, record: str, expected: object
) -> None:
    entity_id = world.id_of(record)
    error = PermissionDenied if expected == DENIED else NotFound
    with pytest.raises(error), world.db.session() as s:
        change(s, world.actor(viewer), entity_id, {"properties": {"colour": "changed"}})
    with pytest.raises(error), world.db.session() as s:
        remove(s, world.actor(viewer), entity_id)
    headers = world.headers[viewer]
    put = world.client.put(
        f"/api/v1/entities/{entity_id}", json={"properties": {"colour": "x"}}, headers=headers
    )
    assert put.status_code == expected, put.text
    deleted = world.client.delete(f"/api/v1/entities/{entity_id}", headers=headers)
    assert deleted.status_code == expected, deleted.text
    with world.db.session() as s:
        entity = s.get(Entity, entity_id)
        assert entity is not None
        assert (entity.version, entity.deleted) == (1, False)


def test_the_owner_changes_and_deletes_in_versions(db: Database, settings: Settings) -> None:
    with db.session() as s:
        owner = user(s, agency(s, "DE-BKA"))
        member = user(s, agency(s, "NL-NP"))
        as_owner = bearer(s, owner) | {"X-Purpose": PURPOSE}
        as_member = bearer(s, member) | {"X-Purpose": PURPOSE}
    client = TestClient(make_app(db, settings))
    created = client.post("/api/v1/entities", json=RECORDS["vehicle"], headers=as_owner).json()
    entity_id = created["id"]
    with db.session() as s:
        change(s, actor_of(owner, PURPOSE), entity_id, {"properties": {"plate": "B-AB 1234"}})
    put = client.put(
        f"/api/v1/entities/{entity_id}",
        json={"properties": {"plate": "B-AB 1234", "colour": "blue"}},
        headers=as_owner,
    )
    assert (put.status_code, put.json()["version"]) == (200, 3)
    refused = client.put(
        f"/api/v1/entities/{entity_id}", json={"properties": {"plate": "X"}}, headers=as_member
    )
    assert refused.status_code == 403
    assert client.delete(f"/api/v1/entities/{entity_id}", headers=as_member).status_code == 403
    assert client.delete(f"/api/v1/entities/{entity_id}", headers=as_owner).status_code == 204
    with db.session() as s:
        versions = s.scalars(
            select(EntityVersion)
            .where(EntityVersion.entity_id == entity_id)
            .order_by(EntityVersion.version)
        ).all()
        history = [(v.version, v.change, v.changed_by, v.properties) for v in versions]
    assert history == [
        (1, "created", owner.username, RECORDS["vehicle"]["properties"]),
        (2, "updated", owner.username, {"plate": "B-AB 1234"}),
        (3, "updated", owner.username, {"plate": "B-AB 1234", "colour": "blue"}),
        (4, "deleted", owner.username, {"plate": "B-AB 1234", "colour": "blue"}),
    ]
    page = client.get(f"/api/v1/entities/{entity_id}", headers=as_owner).json()
    assert (page["version"], page["deleted"]) == (4, True)
    assert [v["change"] for v in page["versions"]] == ["deleted", "updated", "updated", "created"]
    assert client.get(f"/api/v1/entities/{entity_id}", headers=as_member).status_code == 404
    found = client.get("/api/v1/search", params={"q": "B-AB 1234"}, headers=as_member)
    assert found.json()["hits"] == []


# ── 5. Requests for details ─────────────────────────────────────────────────────────────────

DETAILS: dict[str, tuple[object, ...]] = {
    #               adult      minor      h2         h3         conf       vehicle
    "owner":       (DENIED,    DENIED,    DENIED,    DENIED,    DENIED,    DENIED),  # itself
    "member":      (CREATED,   CREATED,   CREATED,   CREATED,   CREATED,   CREATED),
    "hub":         (CREATED,   CREATED,   CREATED,   CREATED,   CREATED,   CREATED),
    "agreement":   (CREATED,   CREATED,   CREATED,   CREATED,   CREATED,   CREATED),
    "arrangement": (NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, CREATED),
    "io_basis":    (CREATED,   CREATED,   CREATED,   CREATED,   CREATED,   CREATED),
    "io_no_basis": (NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, CREATED),
    "restricted":  (CREATED,   CREATED,   CREATED,   CREATED,   NOT_FOUND, CREATED),
    "dpo":         (NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "admin":       (NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "piu":         (DENIED,    DENIED,    DENIED,    DENIED,    DENIED,    DENIED),  # no search
}  # fmt: skip
JUSTIFICATION = {"justification": "same subject in our case 2026/17, need the details"}


@pytest.mark.parametrize(("viewer", "record", "expected"), cells(DETAILS, COLUMNS))
def test_details_requests(world: World, viewer: str, record: str, expected: object) -> None:
    entity_id = world.id_of(record)
    response = world.client.post(
        f"/api/v1/entities/{entity_id}/details-requests",
        json=JUSTIFICATION,
        headers=world.headers[viewer],
    )
    assert response.status_code == expected, response.text
    if expected == NOT_FOUND:
        assert response.json()["detail"] == f"no record {entity_id}"
    if expected == CREATED:
        assert response.json()["requested_by"] == world.users[viewer].username


#: Asking about the other side of a cross-match: (viewer, owner's record, the match's other
#: owner, expected). Being party to a match does not open records the viewer may not see.
DETAILS_VIA_MATCH = [
    ("member", "minor", "NL-NP", CREATED),
    ("member", "h2", "NL-NP", CREATED),
    ("owner", "adult", "NL-NP", DENIED),
    ("hub", "adult", "NL-NP", NOT_FOUND),  # not a party to the match
    ("restricted", "confidential", "FR-PN", NOT_FOUND),  # above its accreditation
]


@pytest.mark.parametrize(("viewer", "record", "other", "expected"), DETAILS_VIA_MATCH)
def test_details_requests_on_a_cross_match(
    world: World, viewer: str, record: str, other: str, expected: int
) -> None:
    entity_id = world.id_of(record)
    other_id = world.agencies[other].id
    with world.db.session() as s:
        match_id = s.scalars(
            select(CrossMatch.id).where(
                ((CrossMatch.left_id == entity_id) & (CrossMatch.right_owner_id == other_id))
                | ((CrossMatch.right_id == entity_id) & (CrossMatch.left_owner_id == other_id))
            )
        ).first()
    assert match_id is not None
    response = world.client.post(
        f"/api/v1/entities/{entity_id}/details-requests",
        json=JUSTIFICATION | {"cross_match_id": match_id},
        headers=world.headers[viewer],
    )
    assert response.status_code == expected, response.text


# ── 6. Identity-conflict review ─────────────────────────────────────────────────────────────

#: viewer → (the review queue, reviewing the conflict between A-ADULT and B-OTHER).
CONFLICTS: dict[str, tuple[object, int]] = {
    "owner_analyst": (LISTED, OK),
    "member_alert_manager": (LISTED, OK),
    "hub": (LISTED, OK),  # the hub's analyst
    "nonowner_analyst": (EMPTY, DENIED),  # a reviewer, but of neither owner
    "owner": (DENIED, DENIED),  # officers do not verify identity links
    "member": (DENIED, DENIED),
    "agreement": (DENIED, DENIED),
    "arrangement": (DENIED, DENIED),
    "io_basis": (DENIED, DENIED),
    "io_no_basis": (DENIED, DENIED),
    "restricted": (DENIED, DENIED),
    "dpo": (DENIED, DENIED),
    "admin": (DENIED, DENIED),
    "piu": (DENIED, DENIED),
}
COLOURS = ("yellow", "white", "red", "green")
CAPTIONS = {"A-ADULT": "Ivanov", "B-OTHER": "Vries"}


def _conflict(session: Session) -> IdentityConflict:
    [conflict] = session.scalars(select(IdentityConflict)).all()
    return conflict


@pytest.mark.parametrize(("viewer", "queue", "review"), [(v, *e) for v, e in CONFLICTS.items()])
def test_identity_conflict_review(world: World, viewer: str, queue: object, review: int) -> None:
    headers = world.headers[viewer]
    with world.db.session() as s:
        conflict_id = _conflict(s).id
    listings = [
        world.client.get("/api/v1/identity-conflicts", params={"colour": c}, headers=headers)
        for c in COLOURS
    ]
    if queue == DENIED:
        assert {r.status_code for r in listings} == {403}
    else:
        assert {r.status_code for r in listings} == {200}
        listed = [c for r in listings for c in r.json()]
        assert [c["id"] for c in listed] == ([conflict_id] if queue == LISTED else [])
        for record in (r for c in listed for r in c["records"]):
            ref = next(k for k, v in world.ids.items() if v == record["id"])
            if record["owner"] != world.code_of(viewer):  # another agency's record: no caption
                assert record["caption"] == f"a record of {record['owner']}"
                assert CAPTIONS[ref] not in json.dumps(listed)
    body = {"colour": "red", "note": f"verified by {viewer}: forged passport"}
    response = world.client.post(
        f"/api/v1/identity-conflicts/{conflict_id}/review", json=body, headers=headers
    )
    assert response.status_code == review, response.text
    with world.db.session() as s:
        if review == OK:
            assert _conflict(s).decided_by == world.users[viewer].username
            review_conflict(s, world.actor(viewer), conflict_id, colour="white", note=body["note"])
        else:
            assert _conflict(s).decided_by != world.users[viewer].username
            with pytest.raises(PermissionDenied):
                review_conflict(
                    s, world.actor(viewer), conflict_id, colour="white", note=body["note"]
                )


# ── Markings travel with the hit; being a minor does not ───────────────────────────────────


def _member_views_of(world: World, record: str) -> dict[str, dict[str, Any]]:
    """What the other member agency gets about one of the owner's records, per surface."""
    entity_id = world.id_of(record)
    headers = world.headers["member"]
    hits = world.client.get("/api/v1/search", params={"q": QUERIES[record]}, headers=headers)
    [hit] = [h for h in hits.json()["hits"] if h["id"] == entity_id]
    page = world.client.get(f"/api/v1/entities/{entity_id}", headers=headers).json()
    counterpart = "B-" + RECORDS[record]["id"].removeprefix("A-")
    notifications = world.client.get("/api/v1/cross-matches", headers=headers).json()
    [note] = [
        n
        for n in notifications
        if n["own_record"]["source_ref"] == counterpart and n["other_owner"] == "DE-BKA"
    ]
    return {"search": hit, "entity page": page, "cross-match": note}


@pytest.mark.parametrize("surface", ["search", "entity page"])
def test_h3_conditions_travel_with_the_hit(world: World, surface: str) -> None:
    view = _member_views_of(world, "h3")[surface]
    assert view["visibility"] == HIT
    assert (view["markings"]["handling"], view["markings"]["h3_conditions"]) == (
        "H3",
        H3_CONDITIONS,
    )


def test_h3_conditions_travel_with_the_notification(world: World) -> None:
    note = _member_views_of(world, "h3")["cross-match"]
    assert note["other_markings"]["h3_conditions"] == H3_CONDITIONS


@pytest.mark.parametrize("surface", ["search", "entity page", "cross-match"])
def test_a_hit_does_not_reveal_that_the_subject_is_a_minor(world: World, surface: str) -> None:
    """Hit/no-hit views leave out the minor flag; the reason given must not say it either."""
    view = _member_views_of(world, "minor")[surface]
    assert view["visibility"] == HIT
    assert "minor" not in view
    assert "minor" not in view["reason"].casefold()
