"""Categories as data: the catalogue checks itself at load; every category's required fields,
actions, review periods and identifiers; issuing validation names the field and the rule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from liaison.alerts.categories import (
    CATEGORIES,
    CategoryError,
    ReviewPeriod,
    load_catalogue,
    parse_catalogue,
    review_overrides,
    review_period,
)
from liaison.alerts.drafts import parse_alert
from liaison.core.clock import frozen
from liaison.core.errors import ValidationFailed
from liaison.core.settings import get_settings
from tests.alerts.examples import SUBJECTS, example

SIS_PERSON = {
    "arrest_surrender",
    "arrest_extradition",
    "missing_adult",
    "missing_child",
    "child_abduction_risk",
    "vulnerable_prevent_travel",
    "judicial_procedure",
    "discreet_check",
    "inquiry_check",
    "specific_check",
    "refusal_entry_stay",
    "return",
    "unknown_wanted",
}
NOTICES = {f"notice_{c}" for c in ("red", "yellow", "blue", "black", "green", "orange")} | {
    "notice_purple",
    "notice_silver",
    "notice_un_special",
}
OBJECTS = {
    "vehicle",
    "boat",
    "aircraft",
    "firearm",
    "document_issued",
    "document_blank",
    "vehicle_registration_document",
    "number_plate",
    "banknote",
    "it_equipment",
    "other_object",
    "payment_means",
}


def errors_of(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_alert(raw)
    errors: dict[str, str] = caught.value.extra["errors"]
    return errors


def test_every_category_the_issue_names_is_declared() -> None:
    assert SIS_PERSON | NOTICES | OBJECTS | {"diffusion"} <= set(CATEGORIES)
    assert set(SUBJECTS) == set(CATEGORIES), "every category needs an example"


@pytest.mark.parametrize("code", sorted(CATEGORIES))
def test_each_category_has_its_action_basis_review_and_sources(code: str) -> None:
    category = CATEGORIES[code]
    assert category.label
    assert category.legal_basis
    assert category.sources
    assert len(category.action) > 30, "the action to be taken is spelled out"
    assert category.subject_kind in ("person", "object")
    assert review_period(code) == ReviewPeriod(months=36)
    if category.subject_kind == "object":
        assert category.identifier_kinds


@pytest.mark.parametrize("code", sorted(CATEGORIES))
def test_each_category_example_is_valid(code: str) -> None:
    draft = parse_alert(example(code))
    assert draft.category.code == code
    assert draft.legal_basis == CATEGORIES[code].legal_basis
    if CATEGORIES[code].subject_kind == "object" and not CATEGORIES[code].identifier_optional:
        assert draft.keys, "an object alert is found by its identifiers"


def _required(code: str) -> list[str]:
    etype = CATEGORIES[code].subject_type()
    return [name for name, prop in etype.properties.items() if prop.required]


@pytest.mark.parametrize(
    ("code", "field"),
    [(code, field) for code in sorted(CATEGORIES) for field in _required(code)],
)
def test_each_required_subject_field_is_refused_when_missing(code: str, field: str) -> None:
    raw = example(code)
    del raw["subject"][field]
    errors = errors_of(raw)
    assert f"subject.{field}" in errors
    assert "required" in errors[f"subject.{field}"]


@pytest.mark.parametrize(
    ("code", "field"),
    [
        ("inquiry_check", "instructions"),
        ("notice_orange", "instructions"),
        ("diffusion", "instructions"),
        ("diffusion", "diffusion_countries"),
        ("object_inquiry_check", "instructions"),
    ],
)
def test_alert_fields_a_category_requires(code: str, field: str) -> None:
    raw = example(code)
    del raw[field]
    assert field in errors_of(raw)


def test_a_name_is_needed_for_arrest_and_one_identifier_for_objects() -> None:
    raw = example("arrest_surrender")
    for name in ("given_name", "family_name"):
        raw["subject"].pop(name)
    assert "subject.full_name" in errors_of(raw) or "subject.family_name" in errors_of(raw)
    car = example("vehicle", subject={"make": "Volkswagen"})
    assert "subject.plate" in errors_of(car)


def test_reason_is_required_and_unknown_fields_are_named() -> None:
    raw = example("discreet_check")
    del raw["reason"]
    raw["colour"] = "red"
    errors = errors_of(raw)
    assert errors["reason"] == "state the reason for the alert"
    assert "colour" in errors


def test_unknown_category_and_wrong_subject_type() -> None:
    assert "category" in errors_of({"category": "pink_notice", "subject": {}, "reason": "x"})
    wrong = example("vehicle", subject_type="Person")
    assert "subject_type" in errors_of(wrong)


def test_refusal_of_entry_is_for_third_country_nationals_only() -> None:
    raw = example("refusal_entry_stay")
    raw["subject"]["nationality"] = "Germany"
    assert "third-country" in errors_of(raw)["subject.nationality"]


def test_warnings_are_known_codes_for_the_subject_kind() -> None:
    draft = parse_alert(example("arrest_surrender", warnings="armed; escape_risk"))
    assert draft.warnings == ["armed", "escape_risk"]
    assert "warnings" in errors_of(example("arrest_surrender", warnings=["grumpy"]))
    assert "warnings" in errors_of(example("vehicle", warnings=["suicidal"]))
    assert parse_alert(example("vehicle", warnings=["hazardous"])).warnings == ["hazardous"]


def test_only_a_diffusion_has_recipient_countries() -> None:
    draft = parse_alert(example("diffusion", diffusion_countries="France, nl, NL"))
    assert draft.diffusion_countries == ["FR", "NL"]
    assert "diffusion_countries" in errors_of(example("notice_red", diffusion_countries=["FR"]))
    assert "diffusion_countries" in errors_of(example("diffusion", diffusion_countries=["Xx"]))


def test_dates_validity_and_review_within_the_period() -> None:
    with frozen(dt.datetime(2026, 3, 1, tzinfo=dt.UTC)):
        assert parse_alert(example("vehicle", review_date="2029-03-01")).review_date
        late = errors_of(example("vehicle", review_date="2029-03-02"))
        assert "at the latest on 2029-03-01" in late["review_date"]
        assert "past" in errors_of(example("vehicle", valid_until="2026-02-28"))["valid_until"]
        assert (
            "not a date" in errors_of(example("vehicle", valid_until="31/12/2026"))["valid_until"]
        )


def test_markings_are_checked() -> None:
    errors = errors_of(example("vehicle", handling="H9", classification="cosmic"))
    assert set(errors) >= {"handling", "classification"}
    assert "markings" in errors_of(example("vehicle", handling="H3"))
    assert "crime_area" in errors_of(example("vehicle", crime_area="jaywalking"))


def test_review_periods_are_a_deployment_choice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "review.toml"
    path.write_text('[review]\ndefault = "2y"\nmissing_child = "6m"\nvehicle = 400\n')
    monkeypatch.setenv("LIAISON_ALERT_REVIEW_FILE", str(path))
    get_settings.cache_clear()
    try:
        assert review_period("missing_child") == ReviewPeriod(months=6)
        assert review_period("vehicle") == ReviewPeriod(days=400)
        assert review_period("notice_red") == ReviewPeriod(months=24)
        with frozen(dt.datetime(2026, 3, 1, tzinfo=dt.UTC)):
            draft = parse_alert(example("missing_child", review_date="2026-09-01"))
            assert draft.review_date == dt.date(2026, 9, 1)
            assert "review_date" in errors_of(example("missing_child", review_date="2026-09-02"))
    finally:
        get_settings.cache_clear()
    bad = tmp_path / "bad.toml"
    bad.write_text('pink_notice = "1y"\n')
    with pytest.raises(CategoryError, match="unknown alert category"):
        review_overrides(bad)
    bad.write_text('vehicle = "soon"\n')
    with pytest.raises(CategoryError, match="must be like"):
        review_overrides(bad)


def test_review_period_arithmetic() -> None:
    assert ReviewPeriod.parse("3y").after(dt.date(2024, 2, 29)) == dt.date(2027, 2, 28)
    assert ReviewPeriod.parse("1m").after(dt.date(2026, 1, 31)) == dt.date(2026, 2, 28)
    assert ReviewPeriod.parse("90d").after(dt.date(2026, 1, 1)) == dt.date(2026, 4, 1)
    assert str(ReviewPeriod.parse("3y")) == "3 years"


def _catalogue(**category: Any) -> dict[str, Any]:
    spec = {
        "label": "x",
        "family": "sis",
        "subjects": ["Person"],
        "legal_basis": "b",
        "action": "a",
        "sources": ["s"],
        **category,
    }
    return {"warnings": {"armed": {"label": "Armed"}}, "categories": {"x": spec}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"subjects": ["Unicorn"]}, "unknown subject types"),
        ({"subjects": ["Person", "Vehicle"]}, "mix persons and objects"),
        ({"required": ["shoe_size"]}, "no property 'shoe_size'"),
        ({"family": "gossip"}, "family must be"),
        ({"family": "diffusion"}, "only a diffusion"),
        ({"requires": ["lunch"]}, "unknown fields"),
        ({"review": "sometime"}, "must be like"),
        ({"colour": "red"}, "unknown settings"),
        ({"subjects": ["Vehicle"], "name_check": False}, "person categories only"),
        ({"excluded_nationalities": ["Germany"]}, "alpha-2"),
        ({"extra": {"dob": {"type": "date"}}}, "clash"),
    ],
)
def test_a_wrong_catalogue_fails_at_load(change: dict[str, Any], message: str) -> None:
    with pytest.raises(CategoryError, match=message):
        parse_catalogue(_catalogue(**change))


def test_the_shipped_file_loads() -> None:
    catalogue = load_catalogue()
    assert set(catalogue.categories) == set(CATEGORIES)
    assert {"armed", "violent", "escape_risk", "suicidal", "contagious"} <= set(catalogue.warnings)


def test_the_documentation_lists_every_category_with_its_action() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "alerts.md").read_text(encoding="utf-8")
    for category in CATEGORIES.values():
        assert f"`{category.code}`" in docs
        assert category.action in docs, category.code
