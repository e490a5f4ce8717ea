"""One search across everything (the ESP idea): one box, every kind of record, within rights.

A query is a name in any script, a date of birth, or an identifier (document, national number,
phone, e-mail, IBAN, plate, VIN, firearm serial), or several of these in one box. Persons are
ranked by the matching engine, with the explanation of each hit; identifiers are looked up by
their canonical key across every record type; organisations by name. The viewer sees their own
agency's records in full and others' as hit/no-hit (type, owner, markings, strength band);
records the policy hides are not listed at all. Every search is audited with its purpose.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from liaison.core import audit
from liaison.core.actor import Actor
from liaison.core.agencies import Agency
from liaison.core.errors import ValidationFailed
from liaison.core.policy import RecordDecision, Visibility, can_search
from liaison.entities.crosscheck import person_index
from liaison.entities.model import Entity, EntityKey
from liaison.entities.service import marking_view, visibility
from liaison.matching import (
    PRESETS,
    REGISTRY,
    MatchResult,
    PersonRecord,
    Prepared,
    match_identifier,
    parse_date,
    prepare,
)

MAX_QUERY = 300
# A name alone is shared by many people, so its match probability stays low even for the right
# person in a large population (about 0.07 at 170,000 persons). Search lists candidates down to
# this floor, ranked, and calls those under the *possible* threshold "weak".
SEARCH_FLOOR = 0.001
MAX_BATCH = 10_000
BATCH_CHUNK = 500
DEFAULT_LIMIT = 25
# Identifier kinds a search box value is tried as (a BIC identifies a bank, not a record).
SEARCH_KINDS = tuple(k for k in REGISTRY if k != "bic")
# Structured query fields that are identifiers, and their kinds.
IDENTIFIER_FIELDS = {
    "document_number": "document",
    "national_id": "national_id",
    "phone": "phone",
    "email": "email",
    "iban": "iban",
    "plate": "plate",
    "vin": "vin",
    "firearm_serial": "firearm",
}
NAME_FIELDS = ("full_name", "given_name", "middle_name", "family_name", "name_original")
PERSON_FIELDS = (*NAME_FIELDS, "dob", "gender", "nationality", "birth_place")
KEY_LABELS = {
    "dob": "date of birth",
    "national_id": "national number",
    "iban": "IBAN",
    "vin": "VIN",
    "email": "e-mail",
}
_YEAR = re.compile(r"^(19|20)\d\d$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: the person part for the matching engine and the identifier keys."""

    text: str
    person: PersonRecord | None = None
    keys: tuple[str, ...] = ()
    ref: str = "query"

    @property
    def empty(self) -> bool:
        return self.person is None and not self.keys


def _identifier_keys(value: str) -> list[str]:
    compact = value.strip()
    if not compact or len(compact) > 64:
        return []
    return sorted({match_identifier(kind, compact) for kind in SEARCH_KINDS} - {""})


def parse_query(text: str) -> Query:
    """Read one search box: dates, identifiers and the name that remains."""
    text = " ".join((text or "").split())
    if len(text) > MAX_QUERY:
        raise ValidationFailed(f"a search is at most {MAX_QUERY} characters")
    if not text:
        return Query(text)
    keys: set[str] = set()
    dob = ""
    name_tokens: list[str] = []
    tokens = text.split(" ")
    for token in tokens:
        bare = token.strip(",;")
        if _EMAIL.match(bare):
            keys.add(match_identifier("email", bare))
        elif _YEAR.match(bare) or (
            any(c.isdigit() for c in bare) and parse_date(bare) is not None and not dob
        ):
            dob = bare
        elif any(c.isdigit() for c in bare):
            keys.update(_identifier_keys(bare))
        elif bare:
            name_tokens.append(bare)
    if any(c.isdigit() for c in text) and " " in text:
        # Plates and IBANs are written with spaces: try the whole box as one identifier too.
        keys.update(_identifier_keys(text))
    person = None
    if name_tokens:
        person = PersonRecord(full_name=" ".join(name_tokens), dob=dob)
    elif dob:
        date = parse_date(dob)
        if date is not None and date.day:
            keys.add(f"dob:{date.iso()}")
    return Query(text, person, tuple(sorted(k for k in keys if not k.endswith(":"))))


def structured_query(fields: Mapping[str, Any], ref: str = "query") -> Query:
    """A query from named fields (the API's structured form and the batch search)."""
    unknown = sorted(set(fields) - set(PERSON_FIELDS) - set(IDENTIFIER_FIELDS) - {"q", "ref"})
    if unknown:
        raise ValidationFailed(
            f"unknown query fields: {', '.join(unknown)}; known: q, "
            + ", ".join((*PERSON_FIELDS, *IDENTIFIER_FIELDS))
        )
    values = {k: str(v).strip()[:MAX_QUERY] for k, v in fields.items() if v not in (None, "")}
    base = parse_query(values.pop("q", "")) if "q" in values else Query("")
    keys = set(base.keys)
    for name, kind in IDENTIFIER_FIELDS.items():
        if values.get(name):
            keys.add(match_identifier(kind, values[name]))
    person = base.person
    person_values = {k: values[k] for k in PERSON_FIELDS if values.get(k)}
    if any(values.get(k) for k in NAME_FIELDS):
        person = PersonRecord(**person_values)
    elif person is not None and person_values:
        person = PersonRecord(full_name=person.full_name, **person_values)
    text = "; ".join(f"{k}={v}" for k, v in sorted(values.items()) if k != "ref") or base.text
    return Query(text, person, tuple(sorted(keys)), ref)


@dataclass(frozen=True, slots=True)
class Hit:
    """One record found, with what the viewer may see of it."""

    entity: Entity
    owner_code: str
    probability: float
    band: str
    decision: RecordDecision
    explanation: str = ""
    matched_on: tuple[str, ...] = ()

    @property
    def full(self) -> bool:
        return self.decision.visibility is Visibility.FULL

    def as_dict(self) -> dict[str, Any]:
        """The API's view: data and explanation only when the viewer sees the record in full."""
        e = self.entity
        out: dict[str, Any] = {
            "id": e.id,
            "type": e.entity_type,
            "owner": self.owner_code,
            "visibility": self.decision.visibility.value,
            "reason": self.decision.reason,
            "band": self.band,
            "markings": marking_view(e),
        }
        if self.full:
            out |= {
                "probability": round(self.probability, 4),
                "caption": e.caption,
                "properties": e.properties,
                "subject_category": e.subject_category,
                "minor": e.minor,
                "explanation": self.explanation,
                "matched_on": list(self.matched_on),
            }
        return out


@dataclass(slots=True)
class Results:
    query: Query
    hits: list[Hit] = field(default_factory=list)
    hidden: int = 0  # found but not visible to this viewer at all (not shown, only counted)


def _person_hits(session: Session, queries: Sequence[Prepared]) -> list[list[MatchResult]]:
    if not queries:
        return []
    index = person_index(session)
    return index.search(
        queries, thresholds=PRESETS["search"], limit=DEFAULT_LIMIT, floor=SEARCH_FLOOR
    )


def _key_hits(session: Session, keys: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """key → [(entity id, key)] for identifier and date-of-birth keys."""
    out: dict[str, list[tuple[str, str]]] = {}
    ident = list(keys)
    for start in range(0, len(ident), 900):
        rows = session.execute(
            select(EntityKey.key, EntityKey.entity_id).where(
                EntityKey.key.in_(ident[start : start + 900])
            )
        ).all()
        for key, entity_id in rows:
            out.setdefault(key, []).append((entity_id, key))
    return out


def _organisation_hits(session: Session, text: str) -> list[str]:
    words = [w for w in text.casefold().split() if len(w) >= 3][:5]
    if not words:
        return []
    query = select(Entity.id).where(Entity.entity_type == "Organisation", Entity.deleted.is_(False))
    for w in words:
        query = query.where(func.lower(Entity.caption).contains(w, autoescape=True))
    return list(session.scalars(query.limit(DEFAULT_LIMIT)))


def _collect(
    session: Session,
    actor: Actor,
    query: Query,
    person_results: Sequence[MatchResult],
    key_rows: Mapping[str, list[tuple[str, str]]],
    *,
    limit: int,
) -> Results:
    scored: dict[str, tuple[float, str, str, list[str]]] = {}
    for r in person_results:
        band = "weak" if r.band == "no_match" else r.band
        scored[r.right] = (r.probability, band, r.explanation(), [])
    for key in query.keys:
        for entity_id, matched in key_rows.get(key, []):
            prob, band, expl, on = scored.get(entity_id, (0.0, "", "", []))
            kind, _, value = matched.partition(":")
            on = [*on, f"{KEY_LABELS.get(kind, kind)} {value}"]
            if kind == "dob":  # a date of birth alone is shared by many: a possible match
                prob, band = max(prob, 0.5), band or "possible"
            else:
                prob, band = 1.0, "match"
            scored[entity_id] = (prob, band, expl or "same " + ", ".join(on), on)
    if query.person is not None and not query.keys:
        for entity_id in _organisation_hits(session, query.person.full_name):
            scored.setdefault(entity_id, (0.9, "match", "name of the organisation", ["name"]))
    results = Results(query)
    if not scored:
        return results
    entities = {
        e.id: e
        for e in session.scalars(
            select(Entity).where(Entity.id.in_(list(scored)), Entity.deleted.is_(False))
        )
    }
    owners: dict[str, str] = {}
    for agency in session.scalars(
        select(Agency).where(Agency.id.in_({e.owner_agency_id for e in entities.values()}))
    ):
        owners[agency.id] = agency.code
    ordered = sorted(scored.items(), key=lambda kv: (-kv[1][0], kv[0]))
    for entity_id, (prob, band, expl, on) in ordered:
        entity = entities.get(entity_id)
        if entity is None:
            continue
        decision = visibility(actor, entity)
        if not decision.allowed:
            results.hidden += 1
            continue
        if len(results.hits) < limit:
            results.hits.append(
                Hit(
                    entity,
                    owners.get(entity.owner_agency_id, "?"),
                    prob,
                    band,
                    decision,
                    expl,
                    tuple(on),
                )
            )
    return results


def search(
    session: Session, actor: Actor, text: str | Query, *, limit: int = DEFAULT_LIMIT
) -> Results:
    """Search everything with one box (or a structured ``Query``); audited with the purpose."""
    can_search(actor).enforce()
    query = text if isinstance(text, Query) else parse_query(text)
    if query.empty:
        raise ValidationFailed("type a name, a date of birth or an identifier to search for")
    person_results: list[MatchResult] = []
    if query.person is not None:
        person_results = _person_hits(session, [prepare(query.person, query.ref)])[0]
    results = _collect(
        session, actor, query, person_results, _key_hits(session, query.keys), limit=limit
    )
    audit.record(
        session,
        actor,
        "entity.search",
        detail={
            "query": query.text,
            "results": len(results.hits),
            "hits": [
                {"id": h.entity.id, "visibility": h.decision.visibility.value} for h in results.hits
            ],
        },
    )
    return results


def search_batch(
    session: Session, actor: Actor, queries: Sequence[Query], *, limit: int = 10
) -> Iterator[tuple[Query, Results]]:
    """Search many queries (national systems' batch screening); results stream per chunk.

    One audit entry per chunk records the purpose, the queries' refs and how many hits each had.
    """
    can_search(actor).enforce()
    if len(queries) > MAX_BATCH:
        raise ValidationFailed(f"at most {MAX_BATCH} queries per batch request")
    for start in range(0, len(queries), BATCH_CHUNK):
        chunk = queries[start : start + BATCH_CHUNK]
        persons = [(i, prepare(q.person, q.ref)) for i, q in enumerate(chunk) if q.person]
        person_results = _person_hits(session, [p for _, p in persons])
        by_query: dict[int, list[MatchResult]] = {
            i: hits for (i, _), hits in zip(persons, person_results, strict=True)
        }
        key_rows = _key_hits(session, sorted({k for q in chunk for k in q.keys}))
        out = [
            (q, _collect(session, actor, q, by_query.get(i, []), key_rows, limit=limit))
            for i, q in enumerate(chunk)
        ]
        audit.record(
            session,
            actor,
            "entity.search_batch",
            detail={
                "queries": len(chunk),
                "offset": start,
                "hits": {q.ref: len(r.hits) for q, r in out if r.hits},
            },
        )
        session.commit()
        yield from out
