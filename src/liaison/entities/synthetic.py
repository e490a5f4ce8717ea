"""The synthetic world as contributions: what the demo seeds and the benchmarks load.

Each synthetic record becomes a Person record of its holding agency, with the record's markings;
a vehicle the record mentions becomes a Vehicle record of the same agency, linked to the person.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

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


def markings(record: Mapping[str, Any]) -> dict[str, Any]:
    source, info = record.get("source_reliability", ""), record.get("information_reliability", "")
    return {
        "handling": record.get("handling") or "H0",
        "h3_conditions": record.get("h3_conditions") or None,
        "classification": (record.get("classification") or "unclassified").upper(),
        "evaluation": f"{source}{info}" if source and info else None,
        "crime_area": record.get("crime_area") or None,
        "minor": record.get("minor") == "1",
    }


def person_contribution(record: Mapping[str, Any]) -> dict[str, Any]:
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
        **markings(record),
    }


def vehicle_contribution(record: Mapping[str, Any]) -> dict[str, Any] | None:
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
        **markings(record) | {"minor": False},
    }


def contributions(unit: Unit) -> Iterator[tuple[str, dict[str, Any]]]:
    """(holding agency code, contribution) for every record of a unit."""
    for record in unit.records:
        yield record["owner_agency"], person_contribution(record)
        vehicle = vehicle_contribution(record)
        if vehicle is not None:
            yield record["owner_agency"], vehicle
