"""Records of the shared information system: contribute, change, delete, link, read.

Only the data owner changes its records; every change is a new version and an audit entry;
every read of a record is audited. A change marks the record for the automatic cross-check
(``crosscheck``), which runs in the background.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from liaison.core import audit
from liaison.core.actor import Actor
from liaison.core.agencies import Agency
from liaison.core.clock import utcnow
from liaison.core.errors import NotFound, PermissionDenied, ValidationFailed
from liaison.core.ids import new_id
from liaison.core.markings import (
    Classification,
    Evaluation,
    HandlingCode,
    Markings,
    configured_crime_areas,
)
from liaison.core.policy import (
    RecordDecision,
    Visibility,
    can_change_record,
    can_contribute,
    record_visibility,
)
from liaison.entities.model import (
    Entity,
    EntityKey,
    EntityLink,
    EntitySequence,
    EntityVersion,
    IdentityConflict,
    SubjectCategory,
)
from liaison.entities.schema import SCHEMA, EntityType
from liaison.matching import PersonRecord, Prepared, prepare
from liaison.matching.keys import identifier_keys

# Review at least every three years (Reg. 2016/794 Art. 31 as applied; domain reference §10).
DEFAULT_REVIEW_YEARS = 3
MAX_SOURCE_REF = 128

MARKING_FIELDS = (
    "handling",
    "h3_conditions",
    "classification",
    "evaluation",
    "crime_area",
    "subject_category",
    "minor",
    "review_date",
)


@dataclass(slots=True)
class Contribution:
    """A record as its owner submits it: type, properties, markings and its own record id."""

    entity_type: str
    properties: Mapping[str, object]
    source_ref: str | None = None
    handling: HandlingCode = HandlingCode.H0
    h3_conditions: str | None = None
    classification: Classification = Classification.UNCLASSIFIED
    evaluation: Evaluation | None = None
    crime_area: str | None = None
    subject_category: SubjectCategory | None = None
    minor: bool = False
    review_date: dt.date | None = None
    warnings: list[str] = field(default_factory=list)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _bool(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).casefold()
    if text in {"", "0", "false", "no", "n"}:
        return False
    if text in {"1", "true", "yes", "y"}:
        return True
    raise ValueError(f"{name} must be true or false")


_MARKING_PARSERS: dict[str, Callable[[Any], Any]] = {
    "handling": lambda v: HandlingCode(_text(v).upper() or "H0"),
    "h3_conditions": lambda v: _text(v) or None,
    "classification": lambda v: (
        Classification.parse(_text(v) or 0) if not isinstance(v, int) else Classification.parse(v)
    ),
    "evaluation": lambda v: Evaluation.parse(_text(v)) if _text(v) else None,
    "crime_area": lambda v: _text(v) or None,
    "subject_category": lambda v: SubjectCategory(_text(v).lower()) if _text(v) else None,
    "minor": lambda v: _bool(v, "minor"),
    "review_date": lambda v: dt.date.fromisoformat(_text(v)) if _text(v) else None,
}


def parse_contribution(raw: Mapping[str, Any]) -> Contribution:
    """A ``Contribution`` from plain data (JSON, a CSV row); every problem named by field.

    Keys: ``type``, ``properties`` (object), ``id`` (the contributor's record id) and the
    markings ``handling``, ``h3_conditions``, ``classification``, ``evaluation``, ``crime_area``,
    ``subject_category``, ``minor``, ``review_date``.
    """
    # Configuration problems are not data problems: let them surface here, before any
    # ValueError below is read as a wrong value.
    configured_crime_areas()
    errors: dict[str, str] = {}
    entity_type = _text(raw.get("type") or raw.get("entity_type"))
    etype: EntityType | None = None
    try:
        etype = SCHEMA.get(entity_type or "?")
    except ValidationFailed as exc:
        errors["type"] = exc.detail
    props = raw.get("properties")
    if not isinstance(props, Mapping):
        errors["properties"] = "properties must be an object of property → value"
        props = {}
    source_ref = _text(raw.get("id") or raw.get("source_ref")) or None
    if source_ref and len(source_ref) > MAX_SOURCE_REF:
        errors["id"] = f"record id longer than {MAX_SOURCE_REF} characters"
    values: dict[str, Any] = {}
    for name, parse in _MARKING_PARSERS.items():
        value = raw.get(name)
        if value is None:
            continue
        try:
            values[name] = parse(value)
        except ValueError as exc:
            errors[name] = _marking_error(name, exc)
    warnings: list[str] = []
    if etype is not None:
        try:
            props, warnings = etype.validate(props)
        except ValidationFailed as exc:
            errors.update({f"properties.{k}": v for k, v in exc.extra["errors"].items()})
        if etype.name == "Person" and "subject_category" not in values:
            errors.setdefault("subject_category", _SUBJECT_REQUIRED)
    contribution = Contribution(
        entity_type=entity_type,
        properties=props,
        source_ref=source_ref,
        warnings=warnings,
        **values,
    )
    if not errors:
        try:
            markings_for(contribution, owner_agency_id="-")
        except ValueError as exc:
            errors["markings"] = str(exc)
    if errors:
        summary = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
        raise ValidationFailed(summary, errors=errors)
    return contribution


_SUBJECT_REQUIRED = "a person needs a data-subject category: " + ", ".join(
    c.value for c in SubjectCategory
)


def _marking_error(name: str, exc: ValueError) -> str:
    if name == "handling":
        return "handling code must be H0, H1, H2 or H3"
    if name == "subject_category":
        return "must be one of " + ", ".join(c.value for c in SubjectCategory)
    if name == "classification":
        return "must be one of " + ", ".join(c.name for c in Classification)
    if name == "review_date":
        return "review date must be YYYY-MM-DD"
    return str(exc)


def markings_for(c: Contribution | Entity, *, owner_agency_id: str) -> Markings:
    evaluation = c.evaluation
    if isinstance(evaluation, str):
        evaluation = Evaluation.parse(evaluation)
    return Markings(
        owner_agency_id=owner_agency_id,
        handling=HandlingCode(c.handling),
        classification=Classification(c.classification),
        evaluation=evaluation,
        crime_area=c.crime_area,
        h3_conditions=c.h3_conditions,
        retention_until=c.review_date,
    )


def markings_of(entity: Entity) -> Markings:
    return markings_for(entity, owner_agency_id=entity.owner_agency_id)


def _markings_snapshot(entity: Entity) -> dict[str, Any]:
    return _snapshot({name: getattr(entity, name) for name in MARKING_FIELDS})


def _snapshot(values: Mapping[str, Any]) -> dict[str, Any]:
    """The markings as a version keeps them, from a record's column values."""
    return {
        "handling": values["handling"],
        "h3_conditions": values["h3_conditions"],
        "classification": Classification(values["classification"]).name,
        "evaluation": values["evaluation"],
        "crime_area": values["crime_area"],
        "subject_category": values["subject_category"],
        "minor": values["minor"],
        "review_date": values["review_date"].isoformat(),
    }


def marking_view(entity: Entity) -> dict[str, Any]:
    """The markings as they travel with a hit or a notification (no personal data)."""
    m = markings_of(entity)
    return {
        "handling": m.handling.value,
        "h3_conditions": m.h3_conditions,
        "classification": m.classification.name,
        "evaluation": m.evaluation.code if m.evaluation else None,
        "crime_area": m.crime_area,
        "judicial_use_warning": m.judicial_use_warning,
    }


def _next_seq(session: Session) -> int:
    """Claim the next change number; writers queue on this row, so numbers commit in order."""
    value = session.execute(
        update(EntitySequence)
        .where(EntitySequence.id == 1)
        .values(value=EntitySequence.value + 1)
        .returning(EntitySequence.value)
    ).scalar_one()
    return int(value)


def person_record(entity_type: str, props: Mapping[str, Any]) -> PersonRecord | None:
    """The matching engine's view of a record, or None for types it does not match."""
    etype = SCHEMA.get(entity_type)
    fields = etype.match_fields(props)
    if not fields:
        return None
    return PersonRecord(**fields)


def prepared(entity_id: str, entity_type: str, props: Mapping[str, Any]) -> Prepared | None:
    record = person_record(entity_type, props)
    return None if record is None else prepare(record, entity_id)


# The matching fields a prepared record's identifiers and date of birth come from (with their
# countries, and a machine-readable zone that may stand in for any of them). Names and
# addresses never change an identifier key, and preparing them is most of ``prepare``'s work.
KEY_FIELDS = frozenset(
    {
        "document_number",
        "document_country",
        "mrz",
        "national_id",
        "national_id_country",
        "nationality",
        "phone",
        "country",
        "email",
        "iban",
        "vin",
        "plate",
        "plate_country",
        "firearm_make",
        "firearm_serial",
        "dob",
    }
)


def exact_keys(entity_id: str, entity_type: str, props: Mapping[str, Any]) -> list[str]:
    """Identifier keys (``document:X123``) of a record, as the matching engine writes them."""
    fields = SCHEMA.get(entity_type).match_fields(props)
    if not fields:
        return []
    p = prepare({k: v for k, v in fields.items() if k in KEY_FIELDS}, entity_id)
    keys = {k.removeprefix("id:")[:200] for k in identifier_keys(p)}
    if entity_type == "Person" and p.dob is not None and p.dob.day:
        keys.add(f"dob:{p.dob.iso()}")  # the search box's date-of-birth lookup
    return sorted(keys)


def _store_keys(session: Session, entity: Entity) -> None:
    session.execute(delete(EntityKey).where(EntityKey.entity_id == entity.id))
    if entity.deleted:
        return
    session.add_all(
        EntityKey(entity_id=entity.id, key=key)
        for key in exact_keys(entity.id, entity.entity_type, entity.properties)
    )


def _version(session: Session, entity: Entity, change: str, actor: Actor) -> None:
    session.add(
        EntityVersion(
            entity_id=entity.id,
            version=entity.version,
            change=change,
            properties=dict(entity.properties),
            markings=_markings_snapshot(entity),
            changed_by=actor.username,
            changed_at=utcnow(),
        )
    )


def _values(c: Contribution, default_review: dt.date | None = None) -> dict[str, Any]:
    """The column values a contribution sets on its record (type, properties, markings)."""
    etype = SCHEMA.get(c.entity_type)
    return {
        "entity_type": etype.name,
        "properties": dict(c.properties),
        "caption": etype.caption(c.properties)[:300],
        "warnings": list(c.warnings),
        "handling": HandlingCode(c.handling).value,
        "h3_conditions": c.h3_conditions,
        "classification": int(c.classification),
        "evaluation": c.evaluation.code if c.evaluation else None,
        "crime_area": c.crime_area,
        "subject_category": c.subject_category.value if c.subject_category else None,
        "minor": c.minor,
        "review_date": c.review_date or default_review or _default_review(),
    }


def _apply(entity: Entity, c: Contribution) -> None:
    for name, value in _values(c).items():
        setattr(entity, name, value)


def _default_review() -> dt.date:
    today = utcnow().date()
    try:
        return today.replace(year=today.year + DEFAULT_REVIEW_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + DEFAULT_REVIEW_YEARS, day=28)


def _state(entity: Entity) -> tuple[Any, ...]:
    return (entity.entity_type, entity.properties, _markings_snapshot(entity), entity.warnings)


def check_contribution(actor: Actor, c: Contribution) -> EntityType:
    """May the actor contribute this record (type, framework, accreditation)?"""
    etype = SCHEMA.get(c.entity_type)
    can_contribute(actor, personal_data=etype.personal_data).enforce()
    if Classification(c.classification) > actor.accreditation:
        raise PermissionDenied(
            f"classified {Classification(c.classification).name} but your agency is accredited "
            f"only up to {actor.accreditation.name}"
        )
    return etype


def contribute(
    session: Session, actor: Actor, c: Contribution, *, batch_id: str | None = None
) -> tuple[Entity, str]:
    """Create, or update by the contributor's record id (idempotent). Returns the record and
    ``created``, ``updated`` or ``unchanged``."""
    check_contribution(actor, c)
    existing = None
    if c.source_ref:
        existing = session.scalars(
            select(Entity).where(
                Entity.owner_agency_id == actor.agency_id, Entity.source_ref == c.source_ref
            )
        ).one_or_none()
    if existing is not None:
        values = revision(existing, c)
        if values is None:
            return existing, "unchanged"
        revise(session, actor, existing, values, batch_id=batch_id)
        return existing, "updated"
    [entity] = create_many(session, actor, [c], batch_id=batch_id)
    return entity, "created"


def revision(existing: Entity, c: Contribution) -> dict[str, Any] | None:
    """The column values a contribution sets on its existing record (the owner's, with the same
    record id), or None when it changes nothing; a record of another type is refused."""
    etype = SCHEMA.get(c.entity_type)
    if existing.entity_type != etype.name:
        raise ValidationFailed(
            f"record id {c.source_ref!r} is a {existing.entity_type}, not a {etype.name}"
        )
    values = _values(c)
    after = (values["entity_type"], values["properties"], _snapshot(values), values["warnings"])
    if not existing.deleted and after == _state(existing):
        return None
    return values


def revise(
    session: Session,
    actor: Actor,
    entity: Entity,
    values: Mapping[str, Any],
    *,
    batch_id: str | None = None,
) -> None:
    """Store a ``revision`` of a record: a new version, its keys, an audit entry."""
    for name, value in values.items():
        setattr(entity, name, value)
    entity.deleted = False
    _touch(session, entity, actor, "updated", batch_id=batch_id)


def revise_many(
    session: Session,
    actor: Actor,
    revisions: Sequence[tuple[Entity, Mapping[str, Any]]],
    *,
    batch_id: str | None = None,
) -> None:
    """Store ``revision``s of many records (ingestion) as ``revise`` does one by one: each a new
    version, new keys and an audit entry of its own, with change numbers in the order given;
    the versions and keys in one statement each."""
    if not revisions:
        return
    first = _claim_seqs(session, len(revisions))
    now = utcnow()
    entities = [entity for entity, _ in revisions]
    for offset, (entity, values) in enumerate(revisions):
        for name, value in values.items():
            setattr(entity, name, value)
        entity.deleted = False
        entity.version += 1
        entity.updated_at = now
        entity.change_seq = first + offset
        entity.crosscheck_pending = True
        if batch_id:
            entity.batch_id = batch_id
    session.flush()
    ids = [e.id for e in entities]
    for start in range(0, len(ids), 900):
        session.execute(delete(EntityKey).where(EntityKey.entity_id.in_(ids[start : start + 900])))
    keys = [
        {"entity_id": e.id, "key": key}
        for e in entities
        for key in exact_keys(e.id, e.entity_type, e.properties)
    ]
    insert_rows(session, _KEYS, keys)
    insert_rows(
        session,
        _VERSIONS,
        [
            {
                "entity_id": e.id,
                "version": e.version,
                "change": "updated",
                "properties": dict(e.properties),
                "markings": _markings_snapshot(e),
                "changed_by": actor.username,
                "changed_at": now,
            }
            for e in entities
        ],
    )
    for e in entities:
        audit.record(
            session,
            actor,
            "entity.update",
            object_type=e.entity_type,
            object_id=e.id,
            detail={"version": e.version, "batch": batch_id},
        )


def _claim_seqs(session: Session, count: int) -> int:
    """Claim ``count`` consecutive change numbers; returns the first."""
    last = int(
        session.execute(
            update(EntitySequence)
            .where(EntitySequence.id == 1)
            .values(value=EntitySequence.value + count)
            .returning(EntitySequence.value)
        ).scalar_one()
    )
    return last - count + 1


@dataclass(frozen=True, slots=True)
class Created:
    """A record ``insert_new`` stored: what a per-row report needs of it."""

    id: str
    entity_type: str
    source_ref: str | None
    warnings: list[str]


_ENTITIES = cast(Table, Entity.__table__)
_VERSIONS = cast(Table, EntityVersion.__table__)
_KEYS = cast(Table, EntityKey.__table__)


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many rows (each giving every column) in one call to the driver: an executemany
    of the table's compiled INSERT on SQLite, a ``COPY`` on PostgreSQL (whose executemany is one
    execution per row). Values go through each column type's own bind processing, as in any
    SQLAlchemy statement, but without its per-row parameter bookkeeping, the larger part of the
    cost of a bulk insert; a refusal raises SQLAlchemy's error (``IntegrityError``)."""
    if not rows:
        return
    if set(rows[0]) != set(table.c.keys()):
        raise ValueError(f"rows for {table.name} must give every column, and only those")
    session.flush()  # the unit of work's pending rows first, as any statement would
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql":
        _copy_rows(connection, table, rows)
        return
    compiled = table.insert().compile(dialect=dialect, column_keys=list(rows[0]))
    names = list(compiled.positiontup or ())
    connection.exec_driver_sql(compiled.string, _driver_values(dialect, table, names, rows))


def _driver_values(
    dialect: Dialect, table: Table, names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> list[tuple[Any, ...]]:
    """The rows' values in ``names`` order, as the driver takes them."""
    columns = []
    for name in names:
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        column = [row[name] for row in rows]
        columns.append(column if process is None else [process(v) for v in column])
    return list(zip(*columns, strict=True))


def _copy_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    dialect = connection.dialect
    names = list(rows[0])
    quote = dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
    values = _driver_values(dialect, table, names, rows)
    driver = connection.connection.driver_connection
    assert driver is not None
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for row in values:
                copy.write_row(row)
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error) from exc


def create_many(
    session: Session,
    actor: Actor,
    contributions: Sequence[Contribution],
    *,
    batch_id: str | None = None,
) -> list[Entity]:
    """Create new records in bulk (``insert_new``) and load them, in the order given."""
    created = insert_new(session, actor, contributions, batch_id=batch_id)
    ids = [c.id for c in created]
    loaded = {e.id: e for e in session.scalars(select(Entity).where(Entity.id.in_(ids)))}
    return [loaded[i] for i in ids]


def insert_new(
    session: Session,
    actor: Actor,
    contributions: Sequence[Contribution],
    *,
    batch_id: str | None = None,
) -> list[Created]:
    """Create new records in bulk (ingestion): one change-number range, one statement each for
    the records, their identifier keys and their first versions (no objects per row), one audit
    entry naming every record. The caller has checked each contribution
    (``check_contribution``) and that no record id exists yet for this owner."""
    if not contributions:
        return []
    count = len(contributions)
    first = _claim_seqs(session, count)
    now = utcnow()
    review = _default_review()
    rows: list[dict[str, Any]] = []
    for offset, c in enumerate(contributions):
        rows.append(
            {
                "id": new_id(),
                "owner_agency_id": actor.agency_id,
                "source_ref": c.source_ref,
                "created_by": actor.username,
                "version": 1,
                "deleted": False,
                "batch_id": batch_id,
                "change_seq": first + offset,
                "crosscheck_pending": True,
                "created_at": now,
                "updated_at": now,
                **_values(c, review),
            }
        )
    insert_rows(session, _ENTITIES, rows)
    keys = [
        {"entity_id": r["id"], "key": key}
        for r in rows
        for key in exact_keys(r["id"], r["entity_type"], r["properties"])
    ]
    if keys:
        insert_rows(session, _KEYS, keys)
    insert_rows(
        session,
        _VERSIONS,
        [
            {
                "entity_id": r["id"],
                "version": 1,
                "change": "created",
                "properties": r["properties"],
                "markings": _snapshot(r),
                "changed_by": actor.username,
                "changed_at": now,
            }
            for r in rows
        ],
    )
    single = rows[0] if count == 1 else None
    audit.record(
        session,
        actor,
        "entity.create",
        object_type=single["entity_type"] if single else "Entity",
        object_id=single["id"] if single else batch_id,
        detail={
            "batch": batch_id,
            "records": [
                {"id": r["id"], "type": r["entity_type"], "source_ref": r["source_ref"]}
                for r in rows
            ],
        },
    )
    return [Created(r["id"], r["entity_type"], r["source_ref"], r["warnings"]) for r in rows]


def _touch(
    session: Session, entity: Entity, actor: Actor, change: str, *, batch_id: str | None = None
) -> None:
    entity.version += 1
    entity.updated_at = utcnow()
    entity.change_seq = _next_seq(session)
    entity.crosscheck_pending = True  # deleted records' cross-matches are withdrawn
    if batch_id:
        entity.batch_id = batch_id
    session.flush()
    _store_keys(session, entity)
    _version(session, entity, change, actor)
    audit.record(
        session,
        actor,
        f"entity.{'delete' if change == 'deleted' else 'update'}",
        object_type=entity.entity_type,
        object_id=entity.id,
        detail={"version": entity.version, "batch": batch_id},
    )


def _load(session: Session, entity_id: str) -> Entity:
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise NotFound(f"no record {entity_id}")
    return entity


def _load_for_change(session: Session, actor: Actor, entity_id: str) -> Entity:
    """The record to change: unknown to viewers who may not see it (404, not 403)."""
    entity = _load(session, entity_id)
    if entity.owner_agency_id != actor.agency_id and not visibility(actor, entity).allowed:
        raise NotFound(f"no record {entity_id}")
    can_change_record(actor, entity.owner_agency_id).enforce()
    return entity


def change(session: Session, actor: Actor, entity_id: str, raw: Mapping[str, Any]) -> Entity:
    """Replace a record's properties and markings (owner only); a new version."""
    entity = _load_for_change(session, actor, entity_id)
    if entity.deleted:
        raise NotFound(f"record {entity_id} was deleted")
    c = parse_contribution(
        {"type": entity.entity_type, "id": entity.source_ref, **raw}
        | ({"subject_category": entity.subject_category} if "subject_category" not in raw else {})
    )
    before = _state(entity)
    _apply(entity, c)
    if _state(entity) != before:
        _touch(session, entity, actor, "updated")
    return entity


def remove(session: Session, actor: Actor, entity_id: str) -> Entity:
    """Delete a record (owner only): it leaves search and cross-checks; its versions remain."""
    entity = _load_for_change(session, actor, entity_id)
    if not entity.deleted:
        entity.deleted = True
        _touch(session, entity, actor, "deleted")
    return entity


def link(
    session: Session,
    actor: Actor,
    *,
    link_type: str,
    source_id: str,
    target_id: str,
    role: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
) -> EntityLink:
    """Link two records; the contributor must own the source (its own statement about it)."""
    source, target = _load(session, source_id), _load(session, target_id)
    can_change_record(actor, source.owner_agency_id).enforce()
    if target.owner_agency_id != actor.agency_id:
        raise PermissionDenied("links join records of your own agency")
    ltype = SCHEMA.link(link_type)
    ltype.check(source.entity_type, target.entity_type, role or None)
    if role and not ltype.roles:
        raise ValidationFailed(f"a {ltype.label!r} link takes no role")
    for name, value in (("start_date", start_date), ("end_date", end_date)):
        if value:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise ValidationFailed(f"{name} must be YYYY-MM-DD") from None
    row = EntityLink(
        owner_agency_id=actor.agency_id,
        link_type=ltype.name,
        source_id=source.id,
        target_id=target.id,
        role=role or None,
        start_date=start_date or None,
        end_date=end_date or None,
        created_by=actor.username,
        deleted=False,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "entity.link",
        object_type="EntityLink",
        object_id=row.id,
        detail={"type": ltype.name, "source": source.id, "target": target.id},
    )
    return row


# ── Reading ──────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class LinkedView:
    link: EntityLink
    direction: str  # "to" or "from"
    other: Entity
    decision: RecordDecision


@dataclass(frozen=True, slots=True)
class EntityView:
    entity: Entity
    etype: EntityType
    owner: Agency
    decision: RecordDecision
    markings: Markings
    links: Sequence[LinkedView] = ()
    versions: Sequence[EntityVersion] = ()
    conflicts: Sequence[IdentityConflict] = ()

    @property
    def full(self) -> bool:
        return self.decision.visibility is Visibility.FULL


def visibility(actor: Actor, entity: Entity) -> RecordDecision:
    etype = SCHEMA.get(entity.entity_type)
    return record_visibility(
        actor, markings_of(entity), personal_data=etype.personal_data, minor=entity.minor
    )


def read(session: Session, actor: Actor, entity_id: str) -> EntityView:
    """Everything the actor may see of a record (audited; hit-only views show no data)."""
    entity = _load(session, entity_id)
    decision = visibility(actor, entity)
    if not decision.allowed or (entity.deleted and decision.visibility is not Visibility.FULL):
        audit.record(
            session,
            actor,
            "entity.read",
            object_type=entity.entity_type,
            object_id=entity.id,
            outcome=audit.Outcome.DENIED,
            detail={"reason": decision.reason},
            purpose=actor.purpose,
        )
        # The refusal is kept even though the caller's unit of work ends in an error.
        session.commit()
        raise NotFound(f"no record {entity_id}")
    owner = session.get(Agency, entity.owner_agency_id)
    assert owner is not None
    audit.record(
        session,
        actor,
        "entity.read",
        object_type=entity.entity_type,
        object_id=entity.id,
        detail={"visibility": decision.visibility.value},
        purpose=actor.purpose,
    )
    view = EntityView(entity, SCHEMA.get(entity.entity_type), owner, decision, markings_of(entity))
    if not view.full:
        return view
    return EntityView(
        entity,
        view.etype,
        owner,
        decision,
        view.markings,
        links=_links(session, actor, entity),
        versions=list(
            session.scalars(
                select(EntityVersion)
                .where(EntityVersion.entity_id == entity.id)
                .order_by(EntityVersion.version.desc())
            )
        ),
        conflicts=conflicts_of(session, entity.id),
    )


def _links(session: Session, actor: Actor, entity: Entity) -> list[LinkedView]:
    rows = session.scalars(
        select(EntityLink).where(
            EntityLink.deleted.is_(False),
            (EntityLink.source_id == entity.id) | (EntityLink.target_id == entity.id),
        )
    ).all()
    out = []
    for row in rows:
        outgoing = row.source_id == entity.id
        other = _load(session, row.target_id if outgoing else row.source_id)
        if other.deleted:
            continue
        out.append(LinkedView(row, "to" if outgoing else "from", other, visibility(actor, other)))
    return out


def conflicts_of(session: Session, entity_id: str) -> list[IdentityConflict]:
    return list(
        session.scalars(
            select(IdentityConflict).where(
                (IdentityConflict.left_id == entity_id) | (IdentityConflict.right_id == entity_id)
            )
        )
    )


def own_records(
    session: Session, actor: Actor, *, entity_type: str | None = None, limit: int = 100
) -> list[Entity]:
    """The agency's own records, newest first."""
    query = select(Entity).where(
        Entity.owner_agency_id == actor.agency_id, Entity.deleted.is_(False)
    )
    if entity_type:
        query = query.where(Entity.entity_type == SCHEMA.get(entity_type).name)
    return list(session.scalars(query.order_by(Entity.updated_at.desc()).limit(limit)))
