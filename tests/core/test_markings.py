"""Markings mean exactly what the reference texts say."""

from __future__ import annotations

from pathlib import Path

import pytest

from liaison.core.markings import (
    EUROPOL_CRIME_AREAS,
    Classification,
    Evaluation,
    HandlingCode,
    Markings,
    crime_areas,
)


def test_handling_code_meanings() -> None:
    assert HandlingCode.H1.meaning == (
        "Not to be disclosed in judicial proceedings without the permission of the provider."
    )
    assert (
        HandlingCode.H2.meaning == "Not to be disseminated without the permission of the provider."
    )


@pytest.mark.parametrize("code", ["A1", "B2", "C3", "X4", "b2"])
def test_evaluation_codes_parse(code: str) -> None:
    assert Evaluation.parse(code).code == code.upper()


@pytest.mark.parametrize("code", ["", "D1", "A5", "A", "AB", "1A"])
def test_evaluation_codes_refuse_nonsense(code: str) -> None:
    with pytest.raises(ValueError, match="evaluation code"):
        Evaluation.parse(code)


def test_h3_needs_conditions_and_only_h3_has_them() -> None:
    with pytest.raises(ValueError, match="H3"):
        Markings(owner_agency_id="a", handling=HandlingCode.H3)
    with pytest.raises(ValueError, match="only given with"):
        Markings(owner_agency_id="a", handling=HandlingCode.H1, h3_conditions="x")
    m = Markings(owner_agency_id="a", handling=HandlingCode.H3, h3_conditions="no onward transfer")
    assert m.h3_conditions == "no onward transfer"


def test_h1_warning() -> None:
    assert Markings(owner_agency_id="a", handling=HandlingCode.H1).judicial_use_warning
    assert Markings(owner_agency_id="a").judicial_use_warning is None


def test_classification_order_and_parse() -> None:
    assert Classification.RESTRICTED < Classification.CONFIDENTIAL < Classification.SECRET
    assert Classification.parse("top secret") is Classification.TOP_SECRET
    with pytest.raises(ValueError, match="unknown classification"):
        Classification.parse("cosmic")


def test_crime_areas_default_and_configured(tmp_path: Path) -> None:
    assert len(crime_areas()) == len(EUROPOL_CRIME_AREAS) == 30
    path = tmp_path / "areas.txt"
    path.write_text("# local list\nfraud\tFraud\ncyber\n")
    assert crime_areas(path) == {"fraud": "Fraud", "cyber": "cyber"}
    with pytest.raises(ValueError, match="unknown crime area"):
        Markings(owner_agency_id="a", crime_area="parking")
