"""Checks: is there an alert on this person or object, and what must the officer do?

A person check (names in any script, date of birth, nationality, document) goes through the
matching engine against the in-memory index of person alerts in force (``index.alert_index``);
a document given with it is also looked up among document alerts (stolen, lost, invalidated).
An object check looks its identifier's canonical keys up in ``alert_identifiers`` (an indexed
exact match), reading the alerts and what a hit shows beside them (issuer, whether the checking
agency flagged it, whether false hits are documented) in the same statement: one round trip,
more only for the flags and notes of the few hits that have some. The result is ``no_hit`` or
hits, each with the category, the action to be taken (replaced by "do not execute here" where
the checking agency flagged the alert), warnings, flags, the issuing agency, the match strength
band and its explanation, and the documented false hits ("confirmed NOT to be the subject
on …").

Every check is audited with its stated purpose; a check without a purpose is refused. Batches
(up to ``MAX_BATCH`` items) are checked in chunks, one audit entry per chunk.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ARRAY, Select, String, any_, bindparam, select
from sqlalchemy.orm import Session

from liaison.alerts.categories import CATEGORIES
from liaison.alerts.identifiers import COUNTRY_KINDS, KINDS, ObjectKey, kind_label, object_key
from liaison.alerts.identifiers import text_problem as _text_problem
from liaison.alerts.index import alert_index
from liaison.alerts.model import IN_FORCE, Alert, AlertFlag, AlertIdentifier, AlertNote
from liaison.alerts.service import (
    AlertView,
    FlagView,
    flags_of,
    notes_of,
    visibility,
)
from liaison.core import audit
from liaison.core.actor import Actor
from liaison.core.agencies import Agency
from liaison.core.errors import PayloadTooLarge, ValidationFailed
from liaison.core.policy import Visibility, can_check
from liaison.matching import PRESETS, PersonRecord, Thresholds, clean, parse_date, prepare
from liaison.matching.countries import country_code

MAX_BATCH = 10_000
CHUNK = 500
MAX_HITS = 10
MAX_FIELD = 300
NAME_FIELDS = ("full_name", "given_name", "middle_name", "family_name", "name_original")
PERSON_FIELDS = (
    *NAME_FIELDS,
    "dob",
    "gender",
    "nationality",
    "birth_place",
    "document_number",
    "document_country",
    "national_id",
    "mrz",
)
OBJECT_FIELDS = ("kind", "value", "country", "make")
GENDERS = {"m": "M", "f": "F", "x": "X", "u": ""}
BAND_ORDER = {"match": 0, "possible": 1}


def thresholds() -> Thresholds:
    """Alert checks lean towards not missing a wanted person (``PRESETS["alert"]``)."""
    return PRESETS["alert"]


# ── Queries ──────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class PersonQuery:
    ref: str
    record: PersonRecord
    document: ObjectKey | None = None

    @property
    def kind(self) -> str:
        return "person"

    def summary(self) -> str:
        fields = {k: getattr(self.record, k) for k in PERSON_FIELDS if getattr(self.record, k)}
        return "; ".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "mrz")


@dataclass(frozen=True, slots=True)
class ObjectQuery:
    ref: str
    key: ObjectKey
    make: str | None = None

    @property
    def kind(self) -> str:
        return "object"

    def summary(self) -> str:
        country = f" ({self.key.country})" if self.key.country else ""
        make = f" {self.make}" if self.make else ""
        return f"{self.key.kind}={self.key.value}{make}{country}"


Query = PersonQuery | ObjectQuery


def _texts(
    fields: Mapping[str, Any], known: Sequence[str], errors: dict[str, str]
) -> dict[str, str]:
    unknown = sorted(str(k) for k in fields if k not in known and k not in ("ref", "type"))
    if unknown:
        errors[unknown[0][:60]] = f"unknown field {unknown[0][:60]!r}; known: {', '.join(known)}"
    values: dict[str, str] = {}
    for name in known:
        value = fields.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str | int) or isinstance(value, bool):
            errors[name] = "must be text"
            continue
        text = str(value)
        problem = _text_problem(text)
        if problem:
            errors[name] = problem
        elif len(text) > MAX_FIELD:
            errors[name] = f"is longer than {MAX_FIELD} characters"
        elif text.strip():
            values[name] = " ".join(text.split()) if name != "mrz" else text.strip()
    return values


def _raise(errors: Mapping[str, str]) -> None:
    if errors:
        summary = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
        raise ValidationFailed(summary, errors=dict(errors))


def item_ref(fields: Mapping[str, Any], default: str) -> str:
    """The caller's reference of a check (``ref``, at most 64 characters), else ``default``."""
    value = fields.get("ref")
    text = (
        str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    )
    if text and _text_problem(text) is None:
        return text[:64]
    return default


def person_query(fields: Mapping[str, Any], ref: str = "check") -> PersonQuery:
    """A person check from named fields; every unusable field named with its reason."""
    errors: dict[str, str] = {}
    values = _texts(fields, PERSON_FIELDS, errors)
    for name in NAME_FIELDS:
        if name in values and not any(
            unicodedata.category(c).startswith("L") for c in values[name]
        ):
            errors[name] = "holds no letters"
    if "dob" in values and parse_date(values["dob"]) is None:
        errors["dob"] = f"{values['dob'][:40]!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)"
    for name in ("nationality", "document_country"):
        if name in values and country_code(values[name]) is None:
            errors[name] = f"{values[name][:40]!r} is not a country code or name"
    if "gender" in values:
        gender = GENDERS.get(values["gender"].lower())
        if gender is None:
            errors["gender"] = "must be M, F, X or U"
        else:
            values["gender"] = gender
    document = None
    if "document_number" in values:
        document = object_key(
            "document", values["document_number"], country=values.get("document_country")
        )
        if not document.valid:
            errors["document_number"] = f"document number {document.problem}"
            document = None
    if "national_id" in values and not clean("national_id", values["national_id"]).key:
        errors["national_id"] = "holds no letters or digits"
    if not errors and not any(
        values.get(k) for k in (*NAME_FIELDS, "document_number", "national_id", "mrz")
    ):
        errors["full_name"] = "give a name, a document number or the machine-readable zone"
    _raise(errors)
    return PersonQuery(item_ref(fields, ref), PersonRecord(**values), document)


def object_query(fields: Mapping[str, Any], ref: str = "check") -> ObjectQuery:
    """An object check: ``kind`` (document, plate, vin, firearm…), ``value``, optional
    ``country`` and ``make`` (firearms) or currency (banknotes)."""
    errors: dict[str, str] = {}
    values = _texts(fields, OBJECT_FIELDS, errors)
    kind = values.get("kind", "").lower()
    if kind not in KINDS:
        errors["kind"] = f"must be one of {', '.join(KINDS)}"
    if not values.get("value"):
        errors["value"] = "give the identifier to check"
    if "country" in values and country_code(values["country"]) is None and kind != "plate":
        errors["country"] = f"{values['country'][:40]!r} is not a country code or name"
    _raise(errors)
    key = object_key(kind, values["value"], country=values.get("country"), make=values.get("make"))
    if not key.valid:
        _raise({"value": f"{kind_label(kind)} {key.problem}"})
    return ObjectQuery(item_ref(fields, ref), key, values.get("make"))


def parse_item(fields: Mapping[str, Any], ref: str) -> Query:
    """One item of a batch: ``type`` person (default when names are given) or object."""
    kind = str(fields.get("type") or ("object" if "kind" in fields else "person")).lower()
    if kind == "person":
        return person_query(fields, ref)
    if kind == "object":
        return object_query(fields, ref)
    raise ValidationFailed("type must be person or object", errors={"type": "person or object"})


# ── Results ──────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Found:
    """An alert that a query matched, before the policy and the alert's details apply."""

    alert_id: str
    probability: float
    band: str
    explanation: str
    matched_on: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CheckHit:
    """One alert found, as the checking officer may see it."""

    view: AlertView
    band: str
    probability: float
    explanation: str
    matched_on: tuple[str, ...] = ()
    own_flags: Sequence[FlagView] = ()

    @property
    def flagged_here(self) -> bool:
        return bool(self.own_flags)

    @property
    def action_here(self) -> str:
        """What to do here, unmistakably: the alert's action, or not to execute it when the
        checking agency flagged the alert."""
        if self.own_flags:
            reasons = "; ".join(f.reason for f in self.own_flags)
            return (
                f"FLAGGED by your agency ({reasons}): do NOT execute the action on this "
                "territory. Report the hit to the issuing agency."
            )
        return self.view.alert.action

    def as_dict(self) -> dict[str, Any]:
        out = self.view.as_dict()
        out |= {
            "alert_id": self.view.alert.id,
            "band": self.band,
            "action_here": self.action_here,
            "flagged_here": self.flagged_here,
            "flags": [
                {"agency": f.agency_code, "reason": f.reason, "since": f.since.isoformat()}
                for f in self.own_flags
            ],
        }
        if self.view.full:
            out |= {
                "probability": round(self.probability, 4),
                "explanation": self.explanation,
                "matched_on": list(self.matched_on),
            }
        for key in ("history", "source_ref", "related_alerts", "entities"):
            out.pop(key, None)
        return out


@dataclass(slots=True)
class CheckResult:
    """The answer to one check: no hit, or the hits."""

    ref: str
    kind: str
    query: str
    hits: list[CheckHit] = field(default_factory=list)
    hidden: int = 0  # found but not visible to this actor (counted, never shown)

    @property
    def outcome(self) -> str:
        return "hit" if self.hits else "no_hit"

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "type": self.kind,
            "outcome": self.outcome,
            "hits": [h.as_dict() for h in self.hits],
        }


# ── Finding ──────────────────────────────────────────────────────────────────────────────────


def _person_found(session: Session, queries: Sequence[PersonQuery]) -> list[list[Found]]:
    if not queries:
        return []
    index = alert_index(session)
    th = thresholds()
    results = index.search(
        [prepare(q.record, q.ref) for q in queries], thresholds=th, limit=MAX_HITS
    )
    return [
        [
            Found(r.right, r.probability, r.band, r.explanation())
            for r in hits
            if r.band != "no_match"
        ]
        for hits in results
    ]


@dataclass(frozen=True, slots=True)
class _Read:
    """An alert with what a hit shows beside it, read in the same statement."""

    alert: Alert
    issuer_code: str
    flagged_here: bool  # an active flag of the checking agency
    has_notes: bool  # documented false hits


@dataclass(slots=True)
class _Reads:
    """The alerts a check has read, and the checking agency's country (for diffusions)."""

    alerts: dict[str, _Read] = field(default_factory=dict)
    country: str = ""

    def add(self, alert: Alert, details: Sequence[Any]) -> None:
        """One row of ``_alert_reads``: the alert, then its details in the statement's order."""
        issuer_code, flagged_here, has_notes, country = details
        if alert.id not in self.alerts:
            self.alerts[alert.id] = _Read(
                alert, str(issuer_code or "?"), bool(flagged_here), bool(has_notes)
            )
        self.country = str(country or "")


IN_CHUNK = 900  # values per IN (…) on SQLite: with the agency, below its old limit of 999
SHORT_LIST = 16  # up to this many values PostgreSQL gets IN (…), beyond it one array


@functools.cache
def _alert_reads(*, by_key: bool, array: bool) -> Select[Any]:
    """Alerts (with their matching identifier keys when ``by_key``) and in the same statement
    what a hit shows beside them: the issuer's code, whether the checking agency flagged the
    alert and whether false hits are documented (the flag and the notes themselves are read
    only for hits that have them, which few do), and the checking agency's country. One round
    trip instead of one per detail. The details are subqueries, not joins: PostgreSQL plans a
    statement of five joined tables in about 0.7 ms, of two with subqueries in 0.3 ms, and a
    plan is made afresh whenever the connection's prepared statements are gone.

    Parameters: ``agency_id`` (the checking agency) and ``values`` (keys or alert ids), as
    ``= ANY`` of one array when ``array``, else as ``IN (…)``. Built once: constructing the
    statement costs more than running it."""
    columns: list[Any] = [
        Alert,
        select(Agency.code).where(Agency.id == Alert.issuer_agency_id).scalar_subquery(),
        select(AlertFlag.id)
        .where(
            AlertFlag.alert_id == Alert.id,
            AlertFlag.agency_id == bindparam("agency_id"),
            AlertFlag.active.is_(True),
        )
        .exists(),
        select(AlertNote.id).where(AlertNote.alert_id == Alert.id).exists(),
        select(Agency.country).where(Agency.id == bindparam("agency_id")).scalar_subquery(),
    ]
    column: Any = Alert.id
    query = select(*columns)
    if by_key:
        column = AlertIdentifier.key
        query = (
            query.add_columns(AlertIdentifier.key, AlertIdentifier.country, AlertIdentifier.strong)
            .select_from(AlertIdentifier)
            .join(Alert, Alert.id == AlertIdentifier.alert_id)
        )
    among = (
        column == any_(bindparam("values", type_=ARRAY(String)))
        if array
        else column.in_(bindparam("values", expanding=True))
    )
    return query.where(among)


def _read(
    session: Session, actor: Actor, values: Collection[str], *, by_key: bool
) -> Iterator[Sequence[Any]]:
    """The rows of ``_alert_reads`` for these keys or alert ids.

    PostgreSQL plans ``= ANY`` of an array afresh on every execution (its generic plan cannot
    know the array's length), which costs more than the lookup itself; ``IN (…)`` with a given
    number of values keeps one prepared plan. So a check's few keys go as ``IN (…)`` and a
    batch's many as one array (one parameter, not hundreds to render and send). SQLite gets
    ``IN (…)`` in slices of ``IN_CHUNK``."""
    ordered = sorted(values)
    if not ordered:
        return
    postgresql = session.get_bind().dialect.name == "postgresql"
    array = postgresql and len(ordered) > SHORT_LIST
    size = len(ordered) if postgresql else IN_CHUNK
    statement = _alert_reads(by_key=by_key, array=array)
    for start in range(0, len(ordered), size):
        yield from session.execute(
            statement, {"agency_id": actor.agency_id, "values": ordered[start : start + size]}
        )


def _key_rows(
    session: Session, actor: Actor, keys: set[str], reads: _Reads
) -> dict[str, list[tuple[str, str | None, bool]]]:
    """key → [(alert id, country, strong)] for alerts in force (an alert's keys go when it
    leaves force); the alerts and their details go into ``reads`` from the same statement."""
    out: dict[str, list[tuple[str, str | None, bool]]] = {}
    for alert, *details, key, country, strong in _read(session, actor, keys, by_key=True):
        reads.add(alert, details)
        out.setdefault(key, []).append((alert.id, country, bool(strong)))
    return out


def _object_found(
    key: ObjectKey, rows: Mapping[str, list[tuple[str, str | None, bool]]]
) -> list[Found]:
    """Alerts sharing the identifier: a match when the strong key agrees and the countries do
    not differ; a possible hit on the serial alone or with another issuing country."""
    best: dict[str, Found] = {}
    label = kind_label(key.kind)
    matched_on = (f"{key.kind} {key.value}",)
    for query_key in key.keys:
        query_strong = query_key == key.key and (key.weak is None or key.key != key.weak)
        for alert_id, country, strong in rows.get(query_key, []):
            differs = (
                key.kind in COUNTRY_KINDS
                and key.country is not None
                and country is not None
                and key.country != country
            )
            if differs:
                found = Found(
                    alert_id,
                    0.5,
                    "possible",
                    f"same {label} {key.value}, but issued in {country}, not {key.country}",
                    matched_on,
                )
            elif strong and (query_strong or key.weak is None):
                found = Found(alert_id, 1.0, "match", f"same {label} {key.value}", matched_on)
            else:
                found = Found(
                    alert_id,
                    0.5,
                    "possible",
                    f"same serial {key.value}; the make or currency differs or is not given",
                    matched_on,
                )
            current = best.get(alert_id)
            if current is None or found.probability > current.probability:
                best[alert_id] = found
    return list(best.values())


def _find(
    session: Session, actor: Actor, queries: Sequence[Query]
) -> tuple[list[list[Found]], _Reads]:
    """What each query matched, and the alerts already read with it (object keys come with
    their alerts)."""
    persons = [(i, q) for i, q in enumerate(queries) if isinstance(q, PersonQuery)]
    found: list[list[Found]] = [[] for _ in queries]
    for (i, _q), hits in zip(persons, _person_found(session, [q for _, q in persons]), strict=True):
        found[i].extend(hits)
    keys_of: dict[int, ObjectKey] = {}
    for i, q in enumerate(queries):
        if isinstance(q, ObjectQuery):
            keys_of[i] = q.key
        elif q.document is not None:
            keys_of[i] = q.document
    reads = _Reads()
    rows = _key_rows(session, actor, {k for key in keys_of.values() for k in key.keys}, reads)
    for i, key in keys_of.items():
        found[i].extend(_object_found(key, rows))
    return found, reads


def _assemble(
    session: Session,
    actor: Actor,
    queries: Sequence[Query],
    found: Sequence[Sequence[Found]],
    reads: _Reads,
) -> list[CheckResult]:
    wanted = {f.alert_id for hits in found for f in hits} - set(reads.alerts)
    # By primary key only, in force filtered below: with the status in the statement, SQLite
    # reads a few dozen ids through the status index, i.e. every alert in force.
    for alert, *details in _read(session, actor, wanted, by_key=False):
        reads.add(alert, details)
    alerts = {i: r for i, r in reads.alerts.items() if r.alert.status in IN_FORCE}
    if not alerts:  # no hit: nothing below needs the database
        return [CheckResult(q.ref, q.kind, q.summary()) for q in queries]
    decisions = {
        i: visibility(session, actor, r.alert, actor_country=reads.country)
        for i, r in alerts.items()
    }
    # Flags and notes only for the hits that have them: mostly no statement at all.
    own_flags = flags_of(
        session,
        sorted(i for i, d in decisions.items() if d.allowed and alerts[i].flagged_here),
        agency_id=actor.agency_id,
    )
    notes = notes_of(
        session,
        sorted(
            i
            for i, d in decisions.items()
            if d.visibility is Visibility.FULL and alerts[i].has_notes
        ),
    )
    results = []
    for query, hits in zip(queries, found, strict=True):
        result = CheckResult(query.ref, query.kind, query.summary())
        for f in sorted(
            hits, key=lambda f: (BAND_ORDER.get(f.band, 2), -f.probability, f.alert_id)
        ):
            read = alerts.get(f.alert_id)
            if read is None:
                continue
            decision = decisions[f.alert_id]
            if not decision.allowed:
                result.hidden += 1
                continue
            view = AlertView(
                read.alert,
                CATEGORIES[read.alert.category],
                read.issuer_code,
                decision,
                notes=notes.get(f.alert_id, []),
            )
            result.hits.append(
                CheckHit(
                    view,
                    f.band,
                    f.probability,
                    f.explanation,
                    f.matched_on,
                    own_flags.get(f.alert_id, []),
                )
            )
        results.append(result)
    return results


def _audit_detail(result: CheckResult) -> dict[str, Any]:
    return {
        "query": result.query,
        "outcome": result.outcome,
        "hits": [{"alert": h.view.alert.id, "band": h.band} for h in result.hits],
    }


def check(session: Session, actor: Actor, query: Query) -> CheckResult:
    """Check one person or object; audited with the actor's stated purpose."""
    can_check(actor, person=isinstance(query, PersonQuery)).enforce()
    [result] = _assemble(session, actor, [query], *_find(session, actor, [query]))
    audit.record(
        session,
        actor,
        f"check.{query.kind}",
        object_type="Check",
        object_id=query.ref[:100],
        detail=_audit_detail(result),
    )
    return result


def check_person(session: Session, actor: Actor, fields: Mapping[str, Any]) -> CheckResult:
    """Check a person given by named fields (``person_query``)."""
    can_check(actor, person=True).enforce()
    return check(session, actor, person_query(fields))


def check_object(session: Session, actor: Actor, fields: Mapping[str, Any]) -> CheckResult:
    """Check an object given by its identifier (``object_query``)."""
    can_check(actor, person=False).enforce()
    return check(session, actor, object_query(fields))


def check_batch(
    session: Session, actor: Actor, queries: Sequence[Query], *, commit: bool = True
) -> Iterator[CheckResult]:
    """Check many persons and objects (national systems, border batches); results stream per
    chunk, one audit entry per chunk (purpose, refs, hits), committed as it goes."""
    if len(queries) > MAX_BATCH:
        raise PayloadTooLarge(f"at most {MAX_BATCH:,} items per batch ({len(queries):,} given)")
    can_check(actor, person=any(isinstance(q, PersonQuery) for q in queries)).enforce()
    for start in range(0, len(queries), CHUNK):
        chunk = queries[start : start + CHUNK]
        results = _assemble(session, actor, chunk, *_find(session, actor, chunk))
        audit.record(
            session,
            actor,
            "check.batch",
            object_type="Check",
            detail={
                "items": len(chunk),
                "offset": start,
                "hits": {
                    r.ref: [{"alert": h.view.alert.id, "band": h.band} for h in r.hits]
                    for r in results
                    if r.hits
                },
            },
        )
        if commit:
            session.commit()
        yield from results
