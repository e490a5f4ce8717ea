"""Entity types declared as data: loaded, checked at load, validating what agencies contribute."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liaison.core.errors import ValidationFailed
from liaison.entities.schema import SCHEMA, SchemaError, parse_schema

EXPECTED_TYPES = {
    "Person",
    "Organisation",
    "IdentityDocument",
    "Vehicle",
    "Phone",
    "Email",
    "BankAccount",
    "Firearm",
    "Location",
    "Event",
}


def test_the_shipped_schema_declares_the_domain_types_and_links() -> None:
    assert set(SCHEMA.types) == EXPECTED_TYPES
    assert set(SCHEMA.links) == {
        "associate",
        "family",
        "member_of",
        "holds",
        "owns_uses",
        "involved_in",
        "travelled_with",
    }


def test_person_is_normalised_and_keeps_the_original_script() -> None:
    props, warnings = SCHEMA.get("Person").validate(
        {
            "given_name": " Иван ",
            "family_name": "Petrov",
            "dob": "12.03.1980",
            "nationality": "RUS",
            "document_country": "Russia",
            "document_number": "AB123",
        }
    )
    assert props == {
        "given_name": "Иван",
        "family_name": "Petrov",
        "dob": "1980-03-12",
        "nationality": "RU",
        "document_country": "RU",
        "document_number": "AB123",
    }
    assert warnings == []


def test_every_problem_is_named_by_property() -> None:
    with pytest.raises(ValidationFailed) as caught:
        SCHEMA.get("Person").validate({"dob": "31.02.1980", "shoe_size": "44", "gender": "Q"})
    errors = caught.value.extra["errors"]
    assert set(errors) == {"dob", "shoe_size", "gender", "full_name"}
    assert "at least one of" in errors["full_name"]


def test_future_birth_dates_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="future"):
        SCHEMA.get("Person").validate({"family_name": "X", "dob": "2190-01-01"})


def test_an_invalid_identifier_is_kept_and_flagged_not_dropped() -> None:
    props, warnings = SCHEMA.get("BankAccount").validate({"iban": "DE89 3704 0044 0532 0130 01"})
    assert props["iban"] == "DE89 3704 0044 0532 0130 01"
    assert len(warnings) == 1
    assert "IBAN" in warnings[0]
    props, warnings = SCHEMA.get("BankAccount").validate({"iban": "DE89 3704 0044 0532 0130 00"})
    assert warnings == []


def test_required_properties_and_ranges() -> None:
    with pytest.raises(ValidationFailed, match="Make is required"):
        SCHEMA.get("Firearm").validate({"serial": "123"})
    with pytest.raises(ValidationFailed, match="at most 90"):
        SCHEMA.get("Location").validate({"city": "Riga", "latitude": "91"})
    with pytest.raises(ValidationFailed, match="crime area"):
        SCHEMA.get("Event").validate({"crime_area": "parking", "date": "2024"})


def test_unknown_types_and_links_are_refused_with_the_known_ones() -> None:
    with pytest.raises(ValidationFailed, match="known: Person"):
        SCHEMA.get("Spaceship")
    with pytest.raises(ValidationFailed, match="cannot end at a Vehicle"):
        SCHEMA.link("family").check("Person", "Vehicle", None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"types": {"T": {"properties": {"a": {"type": "colour"}}}}}, "type 'colour'"),
        (
            {"types": {"T": {"properties": {"a": {"type": "identifier", "kind": "dna"}}}}},
            "kind 'dna'",
        ),
        ({"types": {"T": {"properties": {"a": {"type": "text", "match": "shoe"}}}}}, "shoe"),
        ({"types": {"T": {"caption": ["b"], "properties": {"a": {"type": "text"}}}}}, "'b'"),
        (
            {
                "types": {"T": {"properties": {"a": {"type": "text"}}}},
                "links": {"l": {"source": ["T"], "target": ["U"]}},
            },
            "unknown types",
        ),
        ({}, "no entity types"),
    ],
)
def test_an_inconsistent_schema_is_refused_at_load(data: dict[str, object], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        parse_schema(data)


@given(st.dictionaries(st.sampled_from(sorted(SCHEMA.get("Person").properties)), st.text()))
def test_validation_either_returns_canonical_values_or_names_the_problem(
    raw: dict[str, str],
) -> None:
    person = SCHEMA.get("Person")
    try:
        props, _ = person.validate(raw)
    except ValidationFailed as exc:
        errors = exc.extra["errors"]
    else:
        errors = None
    if errors is not None:
        assert set(errors) <= set(raw) | {"full_name"}
        return
    assert set(props) <= set(raw)
    assert person.validate(props)[0] == props  # canonical values are a fixed point
