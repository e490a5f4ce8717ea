"""Alert categories declared as data (``categories.toml``), loaded into typed objects and checked
at load: every subject type, property, identifier kind and review period is resolved once, so a
wrong category file fails at start-up, never while an officer waits for a check.

``CATEGORIES["arrest_surrender"].subject_type("Person").validate({...})`` validates an alert's
subject with the entities schema's value types (names in any script, dates, countries,
identifiers) plus what the category adds. Review periods are a deployment's choice:
``LIAISON_ALERT_REVIEW_FILE`` overrides them per category (``review_period``).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from liaison.alerts.identifiers import KINDS
from liaison.core.errors import ValidationFailed
from liaison.entities.schema import SCHEMA, EntityType, Property, parse_schema
from liaison.matching.countries import country_code

CATEGORIES_FILE = Path(__file__).with_name("categories.toml")

FAMILIES = ("sis", "notice", "diffusion", "object")
FAMILY_LABELS = {
    "sis": "Schengen-style alert",
    "notice": "INTERPOL-style notice",
    "diffusion": "Diffusion to selected countries",
    "object": "Object database (SLTD / SMV / iARMS style)",
}
# Subject types taken from the entities schema as they are.
SCHEMA_TYPES = ("Person", "Vehicle", "IdentityDocument", "Firearm", "BankAccount")
PERSON_TYPES = frozenset({"Person", "UnknownPerson", "UnidentifiedBody"})
ALERT_FIELDS = frozenset({"instructions", "diffusion_countries", "valid_until"})
_CATEGORY_KEYS = frozenset(
    {
        "label",
        "family",
        "subjects",
        "legal_basis",
        "action",
        "required",
        "one_of",
        "extra",
        "requires",
        "name_check",
        "identifier_optional",
        "excluded_nationalities",
        "review",
        "sources",
    }
)
_PERIOD = re.compile(r"^\s*(\d{1,3})\s*([ymd])\s*$")


class CategoryError(ValueError):
    """The category file (or a review override file) is wrong: found at load time."""


@dataclass(frozen=True, slots=True)
class ReviewPeriod:
    """How long after issue (or after the last review) an alert is reviewed."""

    months: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: object) -> ReviewPeriod:
        """``3y``, ``18m``, ``90d`` (or a number of days)."""
        if isinstance(text, int) and not isinstance(text, bool) and 0 < text <= 36_500:
            return cls(days=text)
        match = _PERIOD.match(str(text))
        if not match or int(match.group(1)) == 0:
            raise CategoryError(f"review period {text!r} must be like 3y, 18m or 90d")
        number, unit = int(match.group(1)), match.group(2)
        if unit == "y":
            return cls(months=12 * number)
        if unit == "m":
            return cls(months=number)
        return cls(days=number)

    def after(self, day: dt.date) -> dt.date:
        """The date one period after ``day`` (the end of the month when it is shorter)."""
        month_index = day.month - 1 + self.months
        year, month = day.year + month_index // 12, month_index % 12 + 1
        last = calendar.monthrange(year, month)[1]
        return dt.date(year, month, min(day.day, last)) + dt.timedelta(days=self.days)

    def __str__(self) -> str:
        if self.days:
            return f"{self.days} days"
        if self.months % 12 == 0:
            years = self.months // 12
            return f"{years} year{'s' if years != 1 else ''}"
        return f"{self.months} months"


@dataclass(frozen=True, slots=True)
class WarningCode:
    """A warning for the officer (armed, violent, …) and the subjects it applies to."""

    code: str
    label: str
    subjects: str  # person, object or any

    def applies_to(self, kind: str) -> bool:
        return self.subjects in ("any", kind)


@dataclass(frozen=True, slots=True)
class KeySpec:
    """Which properties of an object type make one identifier an object check looks up."""

    kind: str
    value: str
    country: str | None = None
    make: str | None = None


@dataclass(frozen=True, slots=True)
class Category:
    """One alert category: what it is about, its basis, the action, what it requires."""

    code: str
    label: str
    family: str
    subjects: tuple[str, ...]
    legal_basis: str
    action: str
    required: tuple[str, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()
    extra: Mapping[str, Property] = field(default_factory=dict)
    requires: frozenset[str] = frozenset()
    name_check: bool = True
    identifier_optional: bool = False
    excluded_nationalities: frozenset[str] = frozenset()
    review: ReviewPeriod = ReviewPeriod(months=36)
    sources: tuple[str, ...] = ()
    keys: Mapping[str, tuple[KeySpec, ...]] = field(default_factory=dict)

    @property
    def subject_kind(self) -> str:
        """``person`` or ``object``."""
        return "person" if self.subjects[0] in PERSON_TYPES else "object"

    @property
    def family_label(self) -> str:
        return FAMILY_LABELS[self.family]

    @property
    def is_diffusion(self) -> bool:
        return "diffusion_countries" in self.requires

    @property
    def checkable_by_name(self) -> bool:
        """Found by a person check (the matching engine) — not true of marks-only alerts."""
        return self.subject_kind == "person" and self.name_check

    def subject_type(self, name: str | None = None) -> EntityType:
        """The subject type, with this category's extra properties and requirements."""
        name = name or self.subjects[0]
        if name not in self.subjects:
            raise ValidationFailed(
                f"a {self.label!r} alert describes {' or '.join(self.subjects)}, not {name!r}",
                errors={"subject_type": f"must be one of {', '.join(self.subjects)}"},
            )
        return _composed(self.code, name)

    def key_specs(self, type_name: str) -> tuple[KeySpec, ...]:
        """The identifiers of a subject of this type that object checks look up."""
        return self.keys.get(type_name, ())

    @property
    def identifier_kinds(self) -> tuple[str, ...]:
        """The identifier kinds an object check finds this category's alerts by."""
        kinds: list[str] = []
        for name in self.subjects:
            for spec in self.keys.get(name, ()):
                if spec.kind not in kinds:
                    kinds.append(spec.kind)
        return tuple(kinds)


# ── Loading ──────────────────────────────────────────────────────────────────────────────────


def _object_types(data: Mapping[str, Any]) -> dict[str, EntityType]:
    try:
        local = parse_schema({"types": data["types"]}).types if data.get("types") else {}
    except ValueError as exc:
        raise CategoryError(f"types: {exc}") from exc
    clash = sorted(set(local) & set(SCHEMA_TYPES))
    if clash:
        raise CategoryError(f"types {clash} are already declared by the entities schema")
    return {**{name: SCHEMA.get(name) for name in SCHEMA_TYPES}, **local}


def _keys(
    data: Mapping[str, Any], types: Mapping[str, EntityType]
) -> dict[str, tuple[KeySpec, ...]]:
    out: dict[str, tuple[KeySpec, ...]] = {}
    for type_name, specs in data.get("keys", {}).items():
        if type_name not in types:
            raise CategoryError(f"keys.{type_name}: no such type")
        props = types[type_name].properties
        parsed = []
        for kind, spec in specs.items():
            if kind not in KINDS:
                raise CategoryError(f"keys.{type_name}: unknown identifier kind {kind!r}")
            unknown = set(spec) - {"value", "country", "make"}
            if unknown:
                raise CategoryError(f"keys.{type_name}.{kind}: unknown settings {sorted(unknown)}")
            for role in ("value", "country", "make"):
                if spec.get(role) is not None and spec[role] not in props:
                    raise CategoryError(f"keys.{type_name}.{kind}: no property {spec[role]!r}")
            if "value" not in spec:
                raise CategoryError(f"keys.{type_name}.{kind}: needs a value property")
            parsed.append(KeySpec(kind, spec["value"], spec.get("country"), spec.get("make")))
        out[type_name] = tuple(parsed)
    return out


def _warnings(data: Mapping[str, Any]) -> dict[str, WarningCode]:
    out = {}
    for code, spec in data.get("warnings", {}).items():
        subjects = spec.get("subjects", "any")
        if subjects not in ("person", "object", "any") or not spec.get("label"):
            raise CategoryError(f"warnings.{code}: needs a label and subjects person|object|any")
        out[code] = WarningCode(code, str(spec["label"]), subjects)
    if not out:
        raise CategoryError("no warnings declared")
    return out


def _extra(code: str, spec: Mapping[str, Any]) -> dict[str, Property]:
    if not spec:
        return {}
    try:
        return dict(parse_schema({"types": {code: {"properties": spec}}}).types[code].properties)
    except ValueError as exc:
        raise CategoryError(f"categories.{code}.extra: {exc}") from exc


def _category(
    code: str,
    spec: Mapping[str, Any],
    types: Mapping[str, EntityType],
    keys: Mapping[str, tuple[KeySpec, ...]],
) -> Category:
    where = f"categories.{code}"
    unknown = set(spec) - _CATEGORY_KEYS
    if unknown:
        raise CategoryError(f"{where}: unknown settings {sorted(unknown)}")
    for needed in ("label", "family", "subjects", "legal_basis", "action", "sources"):
        if not spec.get(needed):
            raise CategoryError(f"{where}: {needed} is required")
    if spec["family"] not in FAMILIES:
        raise CategoryError(f"{where}: family must be one of {FAMILIES}")
    subjects = tuple(spec["subjects"])
    missing = [s for s in subjects if s not in types]
    if missing:
        raise CategoryError(f"{where}: unknown subject types {missing}")
    if len({s in PERSON_TYPES for s in subjects}) != 1:
        raise CategoryError(f"{where}: subjects mix persons and objects")
    extra = _extra(code, spec.get("extra", {}))
    for name in subjects:
        clash = set(extra) & set(types[name].properties)
        if clash:
            raise CategoryError(f"{where}: extra properties {sorted(clash)} clash with {name}")
    required = tuple(spec.get("required", ()))
    one_of = tuple(tuple(g) for g in spec.get("one_of", ()))
    for name in subjects:
        known = set(types[name].properties) | set(extra)
        for ref in (*required, *(p for g in one_of for p in g)):
            if ref not in known:
                raise CategoryError(f"{where}: {name} has no property {ref!r}")
    requires = frozenset(spec.get("requires", ()))
    if not requires <= ALERT_FIELDS:
        raise CategoryError(f"{where}: requires names unknown fields {sorted(requires)}")
    if (spec["family"] == "diffusion") != ("diffusion_countries" in requires):
        raise CategoryError(f"{where}: a diffusion, and only a diffusion, requires countries")
    excluded = frozenset(spec.get("excluded_nationalities", ()))
    bad = sorted(c for c in excluded if country_code(c) != c)
    if bad:
        raise CategoryError(f"{where}: excluded nationalities {bad} are not alpha-2 codes")
    category = Category(
        code=code,
        label=str(spec["label"]),
        family=spec["family"],
        subjects=subjects,
        legal_basis=str(spec["legal_basis"]),
        action=str(spec["action"]),
        required=required,
        one_of=one_of,
        extra=extra,
        requires=requires,
        name_check=bool(spec.get("name_check", True)),
        identifier_optional=bool(spec.get("identifier_optional", False)),
        excluded_nationalities=excluded,
        review=ReviewPeriod.parse(spec.get("review", "3y")),
        sources=tuple(str(s) for s in spec["sources"]),
        keys={name: keys[name] for name in subjects if name in keys},
    )
    if not category.name_check and category.subject_kind != "person":
        raise CategoryError(f"{where}: name_check applies to person categories only")
    if excluded and "Person" not in subjects:
        raise CategoryError(f"{where}: excluded nationalities need a Person subject")
    if category.subject_kind == "object" and not category.identifier_kinds:
        raise CategoryError(f"{where}: its object types have no identifiers to check")
    return category


@dataclass(frozen=True, slots=True)
class Catalogue:
    categories: Mapping[str, Category]
    types: Mapping[str, EntityType]
    keys: Mapping[str, tuple[KeySpec, ...]]
    warnings: Mapping[str, WarningCode]


def parse_catalogue(data: Mapping[str, Any]) -> Catalogue:
    """A catalogue from parsed TOML; every inconsistency raises ``CategoryError``."""
    types = _object_types(data)
    keys = _keys(data, types)
    categories = {
        code: _category(code, spec, types, keys)
        for code, spec in data.get("categories", {}).items()
    }
    if not categories:
        raise CategoryError("no categories declared")
    return Catalogue(categories, types, keys, _warnings(data))


@cache
def load_catalogue(path: Path = CATEGORIES_FILE) -> Catalogue:
    with path.open("rb") as f:
        return parse_catalogue(tomllib.load(f))


CATALOGUE = load_catalogue()
CATEGORIES: Mapping[str, Category] = CATALOGUE.categories
TYPES: Mapping[str, EntityType] = CATALOGUE.types
WARNINGS: Mapping[str, WarningCode] = CATALOGUE.warnings


def get_category(code: str) -> Category:
    """The category with this code, or ``ValidationFailed`` listing the known ones."""
    try:
        return CATEGORIES[code]
    except KeyError:
        raise ValidationFailed(
            f"unknown alert category {code!r}; known: {', '.join(CATEGORIES)}",
            errors={"category": "unknown category"},
        ) from None


@lru_cache(maxsize=256)
def _composed(code: str, type_name: str) -> EntityType:
    category = CATEGORIES[code]
    base = TYPES[type_name]
    props = dict(base.properties)
    for name, prop in category.extra.items():
        props[name] = prop
    for name in category.required:
        if name in props and not props[name].required:
            props[name] = _required(props[name])
    one_of = base.one_of + tuple(
        g for g in category.one_of if all(n in props for n in g) and g not in base.one_of
    )
    return EntityType(
        name=type_name,
        label=base.label,
        properties=props,
        caption_properties=base.caption_properties,
        one_of=one_of,
        personal_data=base.personal_data,
    )


def _required(prop: Property) -> Property:
    return dataclasses.replace(prop, required=True)


# ── Review periods: the deployment's choice ──────────────────────────────────────────────────


@lru_cache(maxsize=8)
def review_overrides(path: Path | None) -> dict[str, ReviewPeriod]:
    """Review periods from a TOML file: ``code = "18m"`` per category, ``default = "2y"`` for
    every category not named. Unknown codes and malformed periods are refused."""
    if path is None:
        return {}
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CategoryError(f"{path}: cannot read the review periods ({exc})") from exc
    table = data.get("review", data)
    out: dict[str, ReviewPeriod] = {}
    for code, value in table.items():
        if code != "default" and code not in CATEGORIES:
            raise CategoryError(f"{path}: unknown alert category {code!r}")
        out[code] = ReviewPeriod.parse(value)
    return out


def review_period(code: str) -> ReviewPeriod:
    """The category's review period under the process settings."""
    from liaison.core.settings import get_settings

    overrides = review_overrides(get_settings().alert_review_file)
    return overrides.get(code) or overrides.get("default") or CATEGORIES[code].review
