"""An alert as its issuer submits it, validated per category before anything is stored.

``parse_alert(raw)`` reads plain data (a JSON object, a CSV row turned into one) and returns an
``AlertDraft`` or raises ``ValidationFailed`` whose ``errors`` maps each field (``reason``,
``subject.dob``, ``warnings``…) to the rule it breaks. Pure: no database, so the API, the
import and the tests share one set of rules.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from liaison.alerts.categories import WARNINGS, Category, get_category, review_period
from liaison.alerts.identifiers import ObjectKey, object_key, text_problem
from liaison.core.clock import utcnow
from liaison.core.errors import ValidationFailed
from liaison.core.markings import Classification, HandlingCode, Markings, configured_crime_areas
from liaison.entities.schema import EntityType
from liaison.matching import clean
from liaison.matching.countries import country_code

MAX_REF = 128
MAX_TEXT = 4000
MAX_LEGAL_BASIS = 500
MAX_LINKS = 50
MAX_COUNTRIES = 250
FIELDS = frozenset(
    {
        "category",
        "subject_type",
        "subject",
        "id",
        "source_ref",
        "legal_basis",
        "reason",
        "instructions",
        "valid_until",
        "review_date",
        "handling",
        "h3_conditions",
        "classification",
        "crime_area",
        "warnings",
        "diffusion_countries",
        "related_alerts",
        "entities",
    }
)


@dataclass(slots=True)
class AlertDraft:
    """A validated alert, ready to be issued (or to replace an alert's content)."""

    category: Category
    subject_type: str
    properties: dict[str, Any]
    reason: str
    legal_basis: str
    source_ref: str | None = None
    instructions: str | None = None
    valid_until: dt.date | None = None
    review_date: dt.date | None = None
    handling: HandlingCode = HandlingCode.H0
    h3_conditions: str | None = None
    classification: Classification = Classification.UNCLASSIFIED
    crime_area: str | None = None
    warnings: list[str] = field(default_factory=list)
    diffusion_countries: list[str] = field(default_factory=list)
    related_alerts: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    keys: list[ObjectKey] = field(default_factory=list)

    @property
    def etype(self) -> EntityType:
        return self.category.subject_type(self.subject_type)

    @property
    def caption(self) -> str:
        return self.etype.caption(self.properties)[:300]

    def markings(self, owner_agency_id: str) -> Markings:
        return Markings(
            owner_agency_id=owner_agency_id,
            handling=self.handling,
            classification=self.classification,
            crime_area=self.crime_area,
            h3_conditions=self.h3_conditions,
        )


def _text(value: object) -> str:
    return "" if value is None else " ".join(str(value).split())


def _free_text(raw: Mapping[str, Any], name: str, limit: int, errors: dict[str, str]) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        errors[name] = "must be text"
        return ""
    text = str(value).strip()
    problem = text_problem(text)
    if problem:
        errors[name] = problem
    elif len(text) > limit:
        errors[name] = f"is longer than {limit} characters"
    return text


def _list(value: object, name: str, errors: dict[str, str]) -> list[str]:
    """A list given as a JSON array or as text separated by ``;`` or ``,``."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items = value.replace(",", ";").split(";")
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        errors[name] = "must be a list (or text separated by ';')"
        return []
    out: list[str] = []
    for item in items:
        if not isinstance(item, str | int) or isinstance(item, bool):
            errors[name] = "every entry must be text"
            return []
        text = str(item).strip()
        problem = text_problem(text)
        if problem:
            errors[name] = f"an entry {problem}"
            return []
        if text and text not in out:
            out.append(text)
    return out


def _date(raw: Mapping[str, Any], name: str, errors: dict[str, str]) -> dt.date | None:
    text = _text(raw.get(name))
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors[name] = f"{text[:40]!r} is not a date (YYYY-MM-DD)"
        return None


def _markings(raw: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    handling = _text(raw.get("handling")).upper() or "H0"
    try:
        out["handling"] = HandlingCode(handling)
    except ValueError:
        errors["handling"] = "handling code must be H0, H1, H2 or H3"
    classification = raw.get("classification")
    try:
        out["classification"] = Classification.parse(
            classification
            if isinstance(classification, int) and not isinstance(classification, bool)
            else _text(classification) or 0
        )
    except ValueError:
        errors["classification"] = "must be one of " + ", ".join(c.name for c in Classification)
    out["h3_conditions"] = _free_text(raw, "h3_conditions", MAX_TEXT, errors) or None
    area = _text(raw.get("crime_area")) or None
    if area is not None and area not in configured_crime_areas():
        errors["crime_area"] = f"{area[:60]!r} is not a configured crime area"
    out["crime_area"] = area
    return out


# ── The subject ──────────────────────────────────────────────────────────────────────────────


def _has_letter(text: str) -> bool:
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def _subject(
    category: Category, type_name: str, given: object, errors: dict[str, str]
) -> tuple[dict[str, Any], list[ObjectKey]]:
    if not isinstance(given, Mapping):
        errors["subject"] = "subject must be an object of property → value"
        return {}, []
    try:
        etype = category.subject_type(type_name)
    except ValidationFailed as exc:
        errors.update(exc.extra.get("errors", {"subject_type": exc.detail}))
        return {}, []
    for name, value in given.items():
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                errors[f"subject.{name}"] = f"{name} {problem}"
    if any(k.startswith("subject.") for k in errors):
        return {}, []
    try:
        props, _flagged = etype.validate(given)
    except ValidationFailed as exc:
        errors.update({f"subject.{k}": v for k, v in exc.extra["errors"].items()})
        return {}, []
    for name, prop in etype.properties.items():
        value = props.get(name)
        if value is None:
            continue
        if prop.type == "name" and not _has_letter(str(value)):
            errors[f"subject.{name}"] = f"{prop.label} holds no letters"
        if prop.type == "identifier" and prop.kind is not None:
            country = props.get(prop.country) if prop.country else None
            ident = clean(prop.kind, str(value), str(country) if country else None)
            if not ident.valid:
                errors[f"subject.{name}"] = f"{prop.label}: {ident.problem}"
    nationality = props.get("nationality")
    if nationality and nationality in category.excluded_nationalities:
        errors["subject.nationality"] = (
            f"a {category.label!r} alert is for third-country nationals, not {nationality}"
        )
    keys = _object_keys(category, type_name, props, etype, errors)
    return props, keys


def _object_keys(
    category: Category,
    type_name: str,
    props: Mapping[str, Any],
    etype: EntityType,
    errors: dict[str, str],
) -> list[ObjectKey]:
    keys: list[ObjectKey] = []
    for spec in category.key_specs(type_name):
        value = props.get(spec.value)
        if value in (None, ""):
            continue
        key = object_key(
            spec.kind,
            str(value),
            country=str(props[spec.country]) if spec.country and props.get(spec.country) else None,
            make=str(props[spec.make]) if spec.make and props.get(spec.make) else None,
        )
        if not key.valid:
            label = etype.properties[spec.value].label
            errors[f"subject.{spec.value}"] = f"{label}: {key.problem}"
            continue
        keys.append(key)
    needed = category.subject_kind == "object" and not category.identifier_optional
    if needed and not keys and not errors:
        kinds = ", ".join(category.identifier_kinds)
        errors["subject"] = f"an object alert needs an identifier to be found by: {kinds}"
    return keys


# ── The alert ────────────────────────────────────────────────────────────────────────────────


def _warnings(raw: Mapping[str, Any], category: Category, errors: dict[str, str]) -> list[str]:
    codes = _list(raw.get("warnings"), "warnings", errors)
    out = []
    for code in codes:
        warning = WARNINGS.get(code.lower())
        if warning is None:
            errors["warnings"] = f"unknown warning {code[:40]!r}; known: {', '.join(WARNINGS)}"
        elif not warning.applies_to(category.subject_kind):
            errors["warnings"] = f"warning {code!r} does not apply to {category.subject_kind}s"
        else:
            out.append(warning.code)
    return out


def _countries(raw: Mapping[str, Any], category: Category, errors: dict[str, str]) -> list[str]:
    given = _list(raw.get("diffusion_countries"), "diffusion_countries", errors)
    if len(given) > MAX_COUNTRIES:
        errors["diffusion_countries"] = f"at most {MAX_COUNTRIES} countries"
        return []
    out = []
    for value in given:
        code = country_code(value)
        if code is None:
            errors["diffusion_countries"] = f"{value[:40]!r} is not a country code or name"
        elif code not in out:
            out.append(code)
    if category.is_diffusion and not out and "diffusion_countries" not in errors:
        errors["diffusion_countries"] = "a diffusion needs the countries it is sent to"
    if out and not category.is_diffusion:
        errors["diffusion_countries"] = "only a diffusion is sent to selected countries"
    return out


def _links(raw: Mapping[str, Any], name: str, errors: dict[str, str]) -> list[str]:
    ids = _list(raw.get(name), name, errors)
    if len(ids) > MAX_LINKS:
        errors[name] = f"at most {MAX_LINKS} links"
        return []
    bad = [i for i in ids if len(i) != 26 or not i.isalnum()]
    if bad:
        errors[name] = f"{bad[0][:40]!r} is not an id"
    return ids


def _dates(
    raw: Mapping[str, Any], category: Category, errors: dict[str, str]
) -> tuple[dt.date | None, dt.date | None]:
    today = utcnow().date()
    valid_until = _date(raw, "valid_until", errors)
    review_date = _date(raw, "review_date", errors)
    if valid_until is not None and valid_until < today:
        errors["valid_until"] = f"{valid_until.isoformat()} lies in the past"
    if "valid_until" in category.requires and valid_until is None:
        errors.setdefault("valid_until", "this category needs a validity date")
    if review_date is not None:
        latest = review_period(category.code).after(today)
        if review_date < today:
            errors["review_date"] = f"{review_date.isoformat()} lies in the past"
        elif review_date > latest:
            errors["review_date"] = (
                f"the review is due at the latest on {latest.isoformat()} "
                f"({review_period(category.code)} for this category)"
            )
    return valid_until, review_date


def parse_alert(raw: Mapping[str, Any]) -> AlertDraft:
    """An ``AlertDraft`` from plain data; every problem named by field, all at once."""
    configured_crime_areas()  # a configuration problem is not a data problem: raise it first
    errors: dict[str, str] = {}
    unknown = sorted(str(k) for k in raw if k not in FIELDS)
    if unknown:
        errors[unknown[0][:60]] = (
            f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)[:200]}; known: "
            + ", ".join(sorted(FIELDS))
        )
    code = _text(raw.get("category"))
    try:
        category = get_category(code or "?")
    except ValidationFailed as exc:
        errors["category"] = exc.detail
        _raise(errors)
        raise
    type_name = _text(raw.get("subject_type")) or category.subjects[0]
    props, keys = _subject(category, type_name, raw.get("subject"), errors)
    reason = _free_text(raw, "reason", MAX_TEXT, errors)
    if not reason and "reason" not in errors:
        errors["reason"] = "state the reason for the alert"
    legal_basis = _free_text(raw, "legal_basis", MAX_LEGAL_BASIS, errors) or category.legal_basis
    instructions = _free_text(raw, "instructions", MAX_TEXT, errors) or None
    if "instructions" in category.requires and not instructions:
        errors.setdefault("instructions", "this category needs instructions for the officer")
    source_ref = _text(raw.get("id") or raw.get("source_ref")) or None
    if source_ref and len(source_ref) > MAX_REF:
        errors["id"] = f"your reference is longer than {MAX_REF} characters"
    elif source_ref and text_problem(source_ref):
        errors["id"] = f"your reference {text_problem(source_ref)}"
    valid_until, review_date = _dates(raw, category, errors)
    markings = _markings(raw, errors)
    draft = AlertDraft(
        category=category,
        subject_type=type_name,
        properties=props,
        reason=reason,
        legal_basis=legal_basis,
        source_ref=source_ref,
        instructions=instructions,
        valid_until=valid_until,
        review_date=review_date,
        warnings=_warnings(raw, category, errors),
        diffusion_countries=_countries(raw, category, errors),
        related_alerts=_links(raw, "related_alerts", errors),
        entities=_links(raw, "entities", errors),
        keys=keys,
        **markings,
    )
    if not errors:
        try:
            draft.markings("-")
        except ValueError as exc:
            errors["markings"] = str(exc)
    _raise(errors)
    return draft


def _raise(errors: Mapping[str, str]) -> None:
    if errors:
        summary = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
        raise ValidationFailed(summary, errors=dict(errors))


def draft_of(raw: Mapping[str, Any], patch: Mapping[str, Any]) -> AlertDraft:
    """The draft an alert becomes under a JSON merge patch (RFC 7396): top-level fields given
    replace the alert's, ``null`` clears them; ``subject`` is merged property by property."""
    if "category" in patch and _text(patch["category"]) != _text(raw.get("category")):
        raise ValidationFailed(
            "the category of an alert cannot change: delete it and issue a new one",
            errors={"category": "cannot change"},
        )
    merged: dict[str, Any] = dict(raw)
    for key, value in patch.items():
        if key == "subject" and isinstance(value, Mapping):
            subject = dict(merged.get("subject") or {})
            for name, new in value.items():
                if new is None:
                    subject.pop(name, None)
                else:
                    subject[name] = new
            merged["subject"] = subject
        elif value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return parse_alert(merged)


def split_flat(row: Mapping[str, Any], *, subject_prefix: str = "subject.") -> dict[str, Any]:
    """A flat row (CSV) as an alert object: alert fields by name, every other column (or
    ``subject.<property>``) a subject property; empty cells left out."""
    raw: dict[str, Any] = {}
    subject: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        name = str(key).strip()
        if name.startswith(subject_prefix):
            subject[name[len(subject_prefix) :]] = value
        elif name in FIELDS and name != "subject":
            raw[name] = value
        else:
            subject[name] = value
    raw["subject"] = subject
    return raw
