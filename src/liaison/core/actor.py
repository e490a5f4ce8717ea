"""The authenticated actor every service call receives."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from liaison.core.agencies import PartnerFramework
from liaison.core.markings import Classification


class Role(StrEnum):
    """What a user does for their agency."""

    OFFICER = "officer"
    ANALYST = "analyst"
    PIU_OPERATOR = "piu_operator"
    ALERT_MANAGER = "alert_manager"
    DPO = "dpo"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.OFFICER: "Officer / SPOC operator",
    Role.ANALYST: "Analyst",
    Role.PIU_OPERATOR: "PIU operator",
    Role.ALERT_MANAGER: "Alert manager",
    Role.DPO: "Data protection officer / auditor",
    Role.ADMIN: "Administrator",
}


@dataclass(frozen=True, slots=True)
class Actor:
    """A user acting for an agency, with roles and (when given) a stated purpose."""

    user_id: str
    username: str
    agency_id: str
    agency_code: str
    framework: PartnerFramework
    accreditation: Classification
    roles: frozenset[Role] = field(default_factory=frozenset)
    purpose: str | None = None
    personal_data_allowed: bool = True

    def has(self, role: Role) -> bool:
        return role in self.roles

    def with_purpose(self, purpose: str | None) -> Actor:
        """The same actor stating a purpose for the next operation."""
        return replace(self, purpose=purpose)

    @property
    def is_hub(self) -> bool:
        return self.framework is PartnerFramework.EU_BODY
