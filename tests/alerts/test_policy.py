"""The alert decisions of ``core/policy.py``, as a table."""

from __future__ import annotations

from dataclasses import replace

import pytest

from liaison.core.actor import Actor, Role
from liaison.core.agencies import PartnerFramework
from liaison.core.markings import Classification
from liaison.core.policy import (
    Visibility,
    alert_view,
    can_check,
    can_confirm_hit,
    can_flag_alert,
    can_issue_alert,
)

OFFICER = Actor(
    user_id="u1",
    username="nl.officer",
    agency_id="NL",
    agency_code="NL-NP",
    framework=PartnerFramework.MEMBER_STATE,
    accreditation=Classification.SECRET,
    roles=frozenset({Role.OFFICER}),
    purpose="border check",
)
WA = replace(
    OFFICER,
    agency_id="JP",
    framework=PartnerFramework.THIRD_COUNTRY_WORKING_ARRANGEMENT,
    personal_data_allowed=False,
)


def view(actor: Actor, **kw: object) -> Visibility:
    args: dict[str, object] = {
        "issuer_agency_id": "DE",
        "person": True,
        "personal_data": True,
        "classification": Classification.RESTRICTED,
        "diffusion_countries": (),
        "actor_country": "NL",
    } | kw
    return alert_view(actor, **args).visibility  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("actor", "kw", "expected"),
    [
        (OFFICER, {}, Visibility.FULL),
        (WA, {}, Visibility.NONE),
        (WA, {"person": False}, Visibility.HIT_ONLY),
        (WA, {"person": False, "personal_data": False}, Visibility.FULL),
        (OFFICER, {"classification": Classification.TOP_SECRET}, Visibility.NONE),
        (OFFICER, {"diffusion_countries": ("FR",)}, Visibility.NONE),
        (OFFICER, {"diffusion_countries": ("FR", "NL")}, Visibility.FULL),
        (OFFICER, {"diffusion_countries": ("FR",), "issuer_agency_id": "NL"}, Visibility.FULL),
        (replace(OFFICER, roles=frozenset({Role.DPO})), {}, Visibility.NONE),
    ],
)
def test_who_sees_an_alert(actor: Actor, kw: dict[str, object], expected: Visibility) -> None:
    assert view(actor, **kw) is expected


def test_who_checks_issues_flags_and_confirms() -> None:
    assert can_check(OFFICER, person=True)
    assert not can_check(replace(OFFICER, purpose=None), person=False)
    assert not can_check(WA, person=True)
    assert can_check(WA, person=False)
    manager = replace(OFFICER, roles=frozenset({Role.ALERT_MANAGER}))
    assert can_issue_alert(manager, personal_data=True, classification=Classification.SECRET)
    assert not can_issue_alert(
        OFFICER, personal_data=False, classification=Classification.UNCLASSIFIED
    )
    assert can_flag_alert(manager, issuer_agency_id="DE")
    assert not can_flag_alert(manager, issuer_agency_id="NL")
    third = replace(manager, framework=PartnerFramework.THIRD_COUNTRY_AGREEMENT)
    assert not can_flag_alert(third, issuer_agency_id="DE")
    assert can_confirm_hit(OFFICER)
    assert not can_confirm_hit(replace(OFFICER, roles=frozenset({Role.PIU_OPERATOR})))
