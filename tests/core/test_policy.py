"""The policy matrix: each role × each partner framework × each marking decision."""

from __future__ import annotations

import itertools

import pytest

from liaison.core.actor import Actor, Role
from liaison.core.agencies import PartnerFramework
from liaison.core.markings import Classification, HandlingCode, Markings
from liaison.core.policy import (
    Capability,
    Visibility,
    audit_scope,
    can,
    can_change_record,
    can_manage_users_of,
    can_receive,
    framework_allows_personal_data,
    record_visibility,
)

OWN, OTHER = "agency-own", "agency-other"
READ_ROLES = {Role.OFFICER, Role.ANALYST, Role.ALERT_MANAGER, Role.PIU_OPERATOR}


def make_actor(
    role: Role,
    framework: PartnerFramework,
    accreditation: Classification = Classification.CONFIDENTIAL,
    basis: str | None = None,
) -> Actor:
    return Actor(
        user_id="u",
        username="u",
        agency_id=OWN,
        agency_code="OWN",
        framework=framework,
        accreditation=accreditation,
        roles=frozenset({role}),
        personal_data_allowed=framework_allows_personal_data(framework, basis).allowed,
    )


def markings(owner: str, handling: HandlingCode, level: Classification) -> Markings:
    conditions = "only for case 12" if handling is HandlingCode.H3 else None
    return Markings(
        owner_agency_id=owner, handling=handling, classification=level, h3_conditions=conditions
    )


MATRIX = list(
    itertools.product(
        Role,
        PartnerFramework,
        (OWN, OTHER),
        HandlingCode,
        (Classification.RESTRICTED, Classification.SECRET),
        (False, True),  # minor
        (False, True),  # personal data
    )
)


@pytest.mark.parametrize(
    ("role", "framework", "owner", "handling", "level", "minor", "personal"), MATRIX
)
def test_record_visibility_matrix(
    role: Role,
    framework: PartnerFramework,
    owner: str,
    handling: HandlingCode,
    level: Classification,
    minor: bool,
    personal: bool,
) -> None:
    actor = make_actor(role, framework)
    decision = record_visibility(
        actor, markings(owner, handling, level), personal_data=personal, minor=minor
    )
    assert decision.reason  # every decision explains itself
    if role not in READ_ROLES:
        assert decision.visibility is Visibility.NONE
        return
    if level > actor.accreditation:
        assert decision.visibility is Visibility.NONE
        assert "accredited" in decision.reason
        return
    if personal and framework is PartnerFramework.THIRD_COUNTRY_WORKING_ARRANGEMENT:
        assert decision.visibility is Visibility.NONE
        return
    if personal and framework is PartnerFramework.INTERNATIONAL_ORGANISATION:
        assert decision.visibility is Visibility.NONE  # no agreement recorded in this matrix
        return
    if owner == OWN:
        assert decision.visibility is Visibility.FULL
        return
    assert decision.visibility is Visibility.HIT_ONLY
    if minor:
        assert "minor" not in decision.reason  # the reason must not reveal a minor
    elif handling is HandlingCode.H2:
        assert "H2" in decision.reason


@pytest.mark.parametrize(("role", "capability"), list(itertools.product(Role, Capability)))
def test_capabilities_are_denied_unless_granted(role: Role, capability: Capability) -> None:
    actor = make_actor(role, PartnerFramework.EU_BODY)
    decision = can(actor, capability)
    granted = {
        Role.ADMIN: {
            Capability.MANAGE_USERS,
            Capability.MANAGE_AGENCIES,
            Capability.MANAGE_OWN_TOKENS,
        },
        Role.DPO: {Capability.VIEW_AUDIT, Capability.MANAGE_OWN_TOKENS},
    }
    if role in granted:
        assert decision.allowed is (capability in granted[role])
    if capability is Capability.VIEW_AUDIT:
        assert decision.allowed is (role is Role.DPO)
    if capability is Capability.ISSUE_ALERT:
        assert decision.allowed is (role is Role.ALERT_MANAGER)


def test_only_hub_admins_manage_agencies() -> None:
    assert can(make_actor(Role.ADMIN, PartnerFramework.EU_BODY), Capability.MANAGE_AGENCIES)
    denied = can(make_actor(Role.ADMIN, PartnerFramework.MEMBER_STATE), Capability.MANAGE_AGENCIES)
    assert not denied
    assert "hub" in denied.reason


@pytest.mark.parametrize("framework", list(PartnerFramework))
def test_user_management_scope(framework: PartnerFramework) -> None:
    admin = make_actor(Role.ADMIN, framework)
    assert can_manage_users_of(admin, OWN)
    assert can_manage_users_of(admin, OTHER).allowed is (framework is PartnerFramework.EU_BODY)
    assert not can_manage_users_of(make_actor(Role.OFFICER, framework), OWN)


@pytest.mark.parametrize("framework", list(PartnerFramework))
def test_audit_scope(framework: PartnerFramework) -> None:
    dpo = make_actor(Role.DPO, framework)
    decision = audit_scope(dpo)
    assert decision.allowed
    assert ("all agencies" in decision.reason) is (framework is PartnerFramework.EU_BODY)
    assert not audit_scope(make_actor(Role.ADMIN, framework))


@pytest.mark.parametrize(
    ("framework", "basis", "personal", "level", "allowed"),
    [
        (PartnerFramework.MEMBER_STATE, None, True, Classification.RESTRICTED, True),
        (PartnerFramework.THIRD_COUNTRY_AGREEMENT, None, True, Classification.RESTRICTED, True),
        (
            PartnerFramework.THIRD_COUNTRY_WORKING_ARRANGEMENT,
            None,
            True,
            Classification.UNCLASSIFIED,
            False,
        ),
        (
            PartnerFramework.THIRD_COUNTRY_WORKING_ARRANGEMENT,
            None,
            False,
            Classification.RESTRICTED,
            True,
        ),
        (PartnerFramework.INTERNATIONAL_ORGANISATION, None, True, Classification.RESTRICTED, False),
        (
            PartnerFramework.INTERNATIONAL_ORGANISATION,
            "cooperation agreement 2001",
            True,
            Classification.RESTRICTED,
            True,
        ),
        (PartnerFramework.MEMBER_STATE, None, False, Classification.TOP_SECRET, False),
    ],
)
def test_can_receive(
    framework: PartnerFramework,
    basis: str | None,
    personal: bool,
    level: Classification,
    allowed: bool,
) -> None:
    decision = can_receive(
        framework=framework,
        accreditation=Classification.CONFIDENTIAL,
        personal_data_basis=basis,
        classification=level,
        contains_personal_data=personal,
    )
    assert decision.allowed is allowed, decision.reason


def test_only_owner_changes_records() -> None:
    officer = make_actor(Role.OFFICER, PartnerFramework.MEMBER_STATE)
    assert can_change_record(officer, OWN)
    refused = can_change_record(officer, OTHER)
    assert not refused
    assert "owner" in refused.reason
    assert not can_change_record(make_actor(Role.DPO, PartnerFramework.MEMBER_STATE), OWN)
