"""Entity types declared as data (``schema.toml``), loaded into typed objects and checked at load.

``SCHEMA.get("Person").validate({...})`` returns the canonical properties and the warnings
(identifiers that failed their check are kept as given and flagged); anything unusable raises
``ValidationFailed`` whose ``errors`` maps each property to what is wrong with it.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from liaison.core.clock import utcnow
from liaison.core.errors import ValidationFailed
from liaison.core.markings import configured_crime_areas
from liaison.matching import FIELDS, REGISTRY, clean, parse_date
from liaison.matching.countries import country_code

SCHEMA_FILE = Path(__file__).with_name("schema.toml")

PROPERTY_TYPES = frozenset(
    {"text", "name", "date", "country", "enum", "number", "crime_area", "identifier"}
)
LINK_ROLES = ("suspect", "victim", "witness", "contact")
# No property value, whatever its type, is longer than this.
HARD_MAX = 10_000
_SCALARS = (str, int, float)


class SchemaError(ValueError):
    """The schema file itself is wrong (found at load, never at run time)."""


@dataclass(frozen=True, slots=True)
class Property:
    name: str
    type: str
    label: str
    required: bool = False
    match: str | None = None
    kind: str | None = None  # identifier kind
    country: str | None = None  # property holding the identifier's country
    values: tuple[str, ...] = ()
    max: float | None = None
    min: float | None = None
    past: bool = False
    # Worked out once from the above (``__post_init__``), not for every value cleaned.
    limit: int = field(init=False, repr=False, compare=False, default=500)
    folded: Mapping[str, str] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        if self.max and self.type in {"text", "name"}:
            object.__setattr__(self, "limit", int(self.max))
        object.__setattr__(self, "folded", {v.casefold(): v for v in self.values})

    def clean(self, raw: object, props: Mapping[str, object]) -> tuple[str | float, str | None]:
        """The canonical value and a warning; raises ValueError with a readable reason."""
        kind = self.type
        if kind == "number":
            return self._number(raw), None
        if not isinstance(raw, _SCALARS) or isinstance(raw, bool):
            raise ValueError("must be text")
        text = " ".join(str(raw).split())
        if len(text) > self.limit or len(text) > HARD_MAX:
            raise ValueError(f"is longer than {self.limit} characters")
        if kind == "text" or kind == "name":
            return text, None
        if kind == "date":
            return self._date(text), None
        if kind == "country":
            code = country_code(text)
            if code is None:
                raise ValueError(f"{text!r} is not a country code or name")
            return code, None
        if kind == "enum":
            value = self.folded.get(text.casefold())
            if value is None:
                raise ValueError(f"must be one of {', '.join(self.values)}")
            return value, None
        if kind == "crime_area":
            areas = configured_crime_areas()
            if text not in areas:
                raise ValueError(f"{text!r} is not a configured crime area")
            return text, None
        assert self.kind is not None
        country = None
        if self.country and props.get(self.country):
            country = country_code(str(props[self.country]))
        ident = clean(self.kind, text, country)
        if not ident.key:
            raise ValueError(f"{text!r} holds no {self.kind} characters")
        if ident.valid:
            return text, None
        return text, f"{self.label}: kept as given but {ident.problem or 'fails its check'}"

    def _number(self, raw: object) -> float:
        try:
            value = float(str(raw).strip()) if not isinstance(raw, bool) else math.nan
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        if self.min is not None and value < self.min:
            raise ValueError(f"must be at least {self.min:g}")
        if self.max is not None and value > self.max:
            raise ValueError(f"must be at most {self.max:g}")
        return value

    def _date(self, text: str) -> str:
        parsed = parse_date(text)
        if parsed is None:
            raise ValueError(f"{text!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")
        if self.past and parsed.year > utcnow().year:
            raise ValueError(f"{text!r} lies in the future")
        return parsed.iso()


@dataclass(frozen=True, slots=True)
class EntityType:
    name: str
    label: str
    properties: Mapping[str, Property]
    caption_properties: tuple[str, ...]
    one_of: tuple[tuple[str, ...], ...] = ()
    personal_data: bool = False

    @property
    def matchable(self) -> bool:
        return any(p.match for p in self.properties.values())

    def validate(self, raw: Mapping[str, object]) -> tuple[dict[str, Any], list[str]]:
        """Canonical properties and warnings, or ``ValidationFailed`` listing every problem."""
        errors: dict[str, str] = {}
        props: dict[str, Any] = {}
        warnings: list[str] = []
        given = {
            str(k): v
            for k, v in raw.items()
            if v is not None and not (isinstance(v, str) and not v.strip())
        }
        unknown = given.keys() - self.properties.keys()
        for key in sorted(unknown):
            errors[key] = f"{self.name} has no property {key!r}"
        for name, prop in self.properties.items():
            if name not in given:
                if prop.required:
                    errors[name] = f"{prop.label} is required"
                continue
            try:
                value, warning = prop.clean(given[name], given)
            except ValueError as exc:
                errors[name] = f"{prop.label} {exc}"
                continue
            props[name] = value
            if warning:
                warnings.append(warning)
        for group in self.one_of:
            if not any(name in given for name in group):
                labels = " or ".join(self.properties[n].label for n in group)
                errors[group[0]] = f"give at least one of: {labels}"
        if errors:
            summary = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
            raise ValidationFailed(f"invalid {self.label}: {summary}", errors=errors)
        return props, warnings

    def caption(self, props: Mapping[str, Any]) -> str:
        """The few words that name a record in lists and notifications."""
        if self.name == "Person" and not props.get("full_name"):
            parts = [props.get(k) for k in ("given_name", "middle_name", "family_name")]
            text = " ".join(str(p) for p in parts if p)
            if text:
                return text
        for name in self.caption_properties:
            if props.get(name):
                return str(props[name])
        return self.label

    def match_fields(self, props: Mapping[str, Any]) -> dict[str, str]:
        """The matching engine's person-record fields this record fills."""
        return {
            prop.match: str(props[name])
            for name, prop in self.properties.items()
            if prop.match and props.get(name) not in (None, "")
        }


@dataclass(frozen=True, slots=True)
class LinkType:
    name: str
    label: str
    source: frozenset[str]
    target: frozenset[str]
    roles: bool = False

    def check(self, source_type: str, target_type: str, role: str | None) -> None:
        if source_type not in self.source:
            raise ValidationFailed(f"a {self.label!r} link cannot start at a {source_type}")
        if target_type not in self.target:
            raise ValidationFailed(f"a {self.label!r} link cannot end at a {target_type}")
        if role is not None and role not in LINK_ROLES:
            raise ValidationFailed(f"role must be one of {', '.join(LINK_ROLES)}")


@dataclass(frozen=True, slots=True)
class Schema:
    types: Mapping[str, EntityType]
    links: Mapping[str, LinkType] = field(default_factory=dict)

    def get(self, name: str) -> EntityType:
        try:
            return self.types[name]
        except KeyError:
            raise ValidationFailed(
                f"unknown entity type {name!r}; known: {', '.join(self.types)}"
            ) from None

    def link(self, name: str) -> LinkType:
        try:
            return self.links[name]
        except KeyError:
            raise ValidationFailed(
                f"unknown link type {name!r}; known: {', '.join(self.links)}"
            ) from None


def _property(type_name: str, name: str, spec: Mapping[str, Any]) -> Property:
    where = f"{type_name}.{name}"
    kind = spec.get("type")
    if kind not in PROPERTY_TYPES:
        raise SchemaError(f"{where}: type {kind!r} is not one of {sorted(PROPERTY_TYPES)}")
    if kind == "identifier" and spec.get("kind") not in REGISTRY:
        raise SchemaError(f"{where}: identifier kind {spec.get('kind')!r} is unknown")
    if kind == "enum" and not spec.get("values"):
        raise SchemaError(f"{where}: an enum needs values")
    if spec.get("match") is not None and spec["match"] not in FIELDS:
        raise SchemaError(f"{where}: match field {spec['match']!r} is not a matching field")
    unknown = set(spec) - {
        "type",
        "label",
        "required",
        "match",
        "kind",
        "country",
        "values",
        "max",
        "min",
        "past",
    }
    if unknown:
        raise SchemaError(f"{where}: unknown settings {sorted(unknown)}")
    return Property(
        name=name,
        type=kind,
        label=str(spec.get("label", name)),
        required=bool(spec.get("required", False)),
        match=spec.get("match"),
        kind=spec.get("kind"),
        country=spec.get("country"),
        values=tuple(spec.get("values", ())),
        max=spec.get("max"),
        min=spec.get("min"),
        past=bool(spec.get("past", False)),
    )


def parse_schema(data: Mapping[str, Any]) -> Schema:
    """A schema from its parsed TOML; every inconsistency raises ``SchemaError``."""
    types: dict[str, EntityType] = {}
    for name, spec in data.get("types", {}).items():
        props = {p: _property(name, p, s) for p, s in spec.get("properties", {}).items()}
        if not props:
            raise SchemaError(f"{name}: no properties")
        for prop in props.values():
            if prop.country and prop.country not in props:
                raise SchemaError(f"{name}.{prop.name}: country property {prop.country!r} missing")
        caption = tuple(spec.get("caption", ()))
        groups = tuple(tuple(g) for g in spec.get("one_of", ()))
        for ref in (*caption, *(n for g in groups for n in g)):
            if ref not in props:
                raise SchemaError(f"{name}: caption/one_of names unknown property {ref!r}")
        types[name] = EntityType(
            name=name,
            label=str(spec.get("label", name)),
            properties=props,
            caption_properties=caption,
            one_of=groups,
            personal_data=bool(spec.get("personal_data", False)),
        )
    links: dict[str, LinkType] = {}
    for name, spec in data.get("links", {}).items():
        ends = {}
        for end in ("source", "target"):
            names = frozenset(types) if spec.get(end) == ["*"] else frozenset(spec.get(end, ()))
            if not names or not names <= set(types):
                raise SchemaError(f"link {name}: {end} names unknown types {sorted(names)}")
            ends[end] = names
        links[name] = LinkType(
            name,
            str(spec.get("label", name)),
            ends["source"],
            ends["target"],
            bool(spec.get("roles")),
        )
    if not types:
        raise SchemaError("the schema declares no entity types")
    return Schema(types, links)


@cache
def load_schema(path: Path = SCHEMA_FILE) -> Schema:
    with path.open("rb") as f:
        return parse_schema(tomllib.load(f))


SCHEMA = load_schema()
