"""The synthetic world as contributions: what the demo seeds and the benchmarks load.

Each synthetic record becomes a Person record of its holding agency, with the record's markings;
a vehicle the record mentions becomes a Vehicle record of the same agency, linked to the person.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from liaison.core.markings import Classification
from liaison.synth.world import Unit

PERSON_PROPERTIES = (
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
    "national_id",
    "phone",
    "email",
    "postcode",
    "city",
)


def markings(
    record: Mapping[str, Any], *, accreditation: Classification | None = None
) -> dict[str, Any]:
    """The record's markings; its classification lowered to ``accreditation`` when above it
    (the synthetic world classifies without regard to the holding agency's clearance)."""
    source, info = record.get("source_reliability", ""), record.get("information_reliability", "")
    classification = Classification.parse(record.get("classification") or "unclassified")
    if accreditation is not None and classification > accreditation:
        classification = accreditation
    return {
        "handling": record.get("handling") or "H0",
        "h3_conditions": record.get("h3_conditions") or None,
        "classification": classification.name,
        "evaluation": f"{source}{info}" if source and info else None,
        "crime_area": record.get("crime_area") or None,
        "minor": record.get("minor") == "1",
    }


def person_contribution(
    record: Mapping[str, Any], *, accreditation: Classification | None = None
) -> dict[str, Any]:
    """A synthetic record as a Person contribution (the record id is the contributor's id)."""
    props = {k: record[k] for k in PERSON_PROPERTIES if record.get(k)}
    street = " ".join(p for p in (record.get("street"), record.get("street_number")) if p)
    if street:
        props["address"] = street
    if record.get("address_country"):
        props["country"] = record["address_country"]
    return {
        "type": "Person",
        "id": record["record_id"],
        "subject_category": record.get("subject_category") or "suspect",
        "properties": props,
        **markings(record, accreditation=accreditation),
    }


def vehicle_contribution(
    record: Mapping[str, Any], *, accreditation: Classification | None = None
) -> dict[str, Any] | None:
    if not (record.get("vehicle_plate") or record.get("vehicle_vin")):
        return None
    props = {
        "plate": record.get("vehicle_plate"),
        "plate_country": record.get("vehicle_plate_country"),
        "vin": record.get("vehicle_vin"),
        "make": record.get("vehicle_make"),
    }
    return {
        "type": "Vehicle",
        "id": f"{record['record_id']}-V",
        "properties": {k: v for k, v in props.items() if v},
        **markings(record, accreditation=accreditation) | {"minor": False},
    }


def contributions(
    unit: Unit, accreditation: Mapping[str, Classification] | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(holding agency code, contribution) for every record of a unit; classifications capped
    at each agency's ``accreditation`` (by agency code) when given."""
    for record in unit.records:
        cap = (accreditation or {}).get(record["owner_agency"])
        yield record["owner_agency"], person_contribution(record, accreditation=cap)
        vehicle = vehicle_contribution(record, accreditation=cap)
        if vehicle is not None:
            yield record["owner_agency"], vehicle
