"""Identifiers of alert objects: one key for every writing, invalid ones refused with the reason;
check queries refuse hostile input with the field and the rule."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liaison.alerts.checks import object_query, parse_item, person_query
from liaison.alerts.drafts import parse_alert
from liaison.alerts.identifiers import object_key, text_problem
from liaison.core.errors import ValidationFailed
from tests.alerts.examples import example


@pytest.mark.parametrize(
    ("kind", "a", "b", "extra"),
    [
        ("plate", "B-AB 1234", "bab1234", {}),
        ("plate", "В-АВ 1234", "B AB 1234", {}),  # Cyrillic look-alike letters
        ("document", "c01x 00t47", "C01X00T47", {}),
        ("vin", "wvw zzz1jzxw000001", "WVWZZZ1JZXW000001", {}),
        ("firearm", "abc-123", "ABC123", {"make": "H&K"}),
        ("iban", "de89 3704 0044 0532 0130 00", "DE89370400440532013000", {}),
        ("card", "4111-1111-1111-1111", "4111111111111111", {}),
        ("serial", " c02-xk0 ", "C02XK0", {}),
    ],
)
def test_writings_of_one_identifier_meet_on_one_key(
    kind: str, a: str, b: str, extra: dict[str, Any]
) -> None:
    assert object_key(kind, a, **extra).key == object_key(kind, b, **extra).key
    assert object_key(kind, a, **extra).valid


def test_firearm_makes_are_canonical_and_the_serial_alone_is_weak() -> None:
    strong = object_key("firearm", "ABC123", make="Heckler & Koch")
    assert strong.key == object_key("firearm", "ABC123", make="HK").key
    assert strong.weak == object_key("firearm", "ABC123").key


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        ("vin", "1HGCM82633A004353", "check digit"),
        ("vin", "WVWZZZ1JZ", "17 characters"),
        ("plate", "X", "2–12"),
        ("document", "P12", "5–20"),
        ("iban", "DE00370400440532013000", "check digits"),
        ("card", "4111 1111 1111 1112", "Luhn"),
        ("imei", "35-209900-176148-2", "IMEI"),
        ("firearm", "AB", "at least 3"),
        ("aircraft_registration", "D", "2–10"),
        ("document", "P1234\x07567", "control character"),
        ("document", "P1234\ue000567", "private-use"),
        ("document", "-- / --", "no letters or digits"),
    ],
)
def test_invalid_identifiers_say_why(kind: str, value: str, reason: str) -> None:
    key = object_key(kind, value)
    assert not key.valid
    assert reason in (key.problem or "")


def test_an_alert_with_an_invalid_identifier_is_refused_naming_the_field() -> None:
    raw = example("vehicle", subject={"vin": "1HGCM82633A004353"})
    with pytest.raises(ValidationFailed) as caught:
        parse_alert(raw)
    errors = caught.value.extra["errors"]
    assert "check digit" in errors["subject.vin"]
    person = example("discreet_check")
    person["subject"]["document_number"] = "P1"
    person["subject"]["document_country"] = "DE"
    with pytest.raises(ValidationFailed) as caught:
        parse_alert(person)
    assert "subject.document_number" in caught.value.extra["errors"]


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"full_name": "Ivan\x00 Petrov"}, "full_name", "control character"),
        ({"full_name": "Ivan\x1b[31m Petrov"}, "full_name", "control character"),
        ({"full_name": "😀😀"}, "full_name", "no letters"),
        ({"full_name": "\U000f0000 Petrov"}, "full_name", "private-use"),
        ({"full_name": "Ivan Petrov", "dob": "yesterday"}, "dob", "not a date"),
        ({"full_name": "Ivan Petrov", "nationality": "Atlantis"}, "nationality", "country"),
        ({"full_name": "Ivan Petrov", "gender": "robot"}, "gender", "M, F, X or U"),
        ({"document_number": "P1"}, "document_number", "5–20"),
        ({"dob": "1980-01-01"}, "full_name", "give a name"),
        ({"full_name": "x" * 301}, "full_name", "longer than 300"),
        ({"full_name": "Ivan", "colour": "red"}, "colour", "unknown field"),
        ({"full_name": ["Ivan"]}, "full_name", "must be text"),
    ],
)
def test_person_checks_refuse_hostile_input(
    fields: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        person_query(fields)
    errors = caught.value.extra["errors"]
    assert field in errors
    assert reason in errors[field]


def test_names_in_any_script_are_accepted() -> None:
    for name in ("Александр Иванов", "محمد عبد الله", "王小明", "Γιώργος Παπαδόπουλος", "አበበ ቢቂላ"):
        assert person_query({"full_name": name}).record.full_name == name


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "toaster", "value": "X1"}, "kind"),
        ({"kind": "plate"}, "value"),
        ({"kind": "vin", "value": "1HGCM82633A004353"}, "value"),
        ({"kind": "document", "value": "P1234567", "country": "Narnia"}, "country"),
        ({"kind": "plate", "value": "AB\x7f12"}, "value"),
    ],
)
def test_object_checks_refuse_malformed_identifiers(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        object_query(fields)
    assert field in caught.value.extra["errors"]


def test_batch_items_are_persons_or_objects() -> None:
    assert parse_item({"full_name": "Ivan Petrov"}, "1").kind == "person"
    assert parse_item({"kind": "plate", "value": "B-AB 1234", "ref": "car-7"}, "2").ref == "car-7"
    with pytest.raises(ValidationFailed):
        parse_item({"type": "animal"}, "3")


def _problem_char_by_char(value: str) -> str | None:
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cc" and ch not in "\t\n\r":
            return f"holds a control character (U+{ord(ch):04X})"
        if category in ("Cn", "Co", "Cs"):
            return f"holds an unassigned or private-use character (U+{ord(ch):04X})"
    return None


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=30))
def test_text_problem_as_read_character_by_character(value: str) -> None:
    assert text_problem(value) == _problem_char_by_char(value)


@pytest.mark.parametrize("value", ["AB\x7fC", "AB\x00C", "x\x1by", "ok\tok"])
def test_text_problem_on_ascii_controls(value: str) -> None:
    assert text_problem(value) == _problem_char_by_char(value)
