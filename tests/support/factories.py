"""One-line factories: ``agency(s, "NL-NP")``, ``user(s, a, Role.OFFICER)``, ``actor_of(u)``."""

from __future__ import annotations

from itertools import count

from sqlalchemy.orm import Session

from liaison.core.actor import Actor, Role
from liaison.core.agencies import Agency, PartnerFramework
from liaison.core.markings import Classification
from liaison.identity.model import User
from liaison.identity.passwords import hash_password
from liaison.identity.service import actor_for

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = hash_password(PASSWORD)
_numbers = count(1)


def agency(
    session: Session,
    code: str | None = None,
    *,
    framework: PartnerFramework = PartnerFramework.MEMBER_STATE,
    accreditation: Classification = Classification.SECRET,
    country: str | None = "NL",
    personal_data_basis: str | None = None,
) -> Agency:
    row = Agency(
        code=code or f"AG-{next(_numbers)}",
        name=f"Agency {code}",
        country=country,
        framework=framework.value,
        accreditation=int(accreditation),
        personal_data_basis=personal_data_basis,
        active=True,
    )
    session.add(row)
    session.flush()
    return row


def user(session: Session, agency_row: Agency, *roles: Role, username: str | None = None) -> User:
    row = User(
        agency_id=agency_row.id,
        username=username or f"user{next(_numbers)}",
        display_name="Test User",
        password_hash=_PASSWORD_HASH,
        roles_csv=",".join(sorted(r.value for r in (roles or (Role.OFFICER,)))),
        active=True,
        failed_logins=0,
    )
    session.add(row)
    session.flush()
    session.refresh(row)
    return row


def actor_of(user_row: User, purpose: str | None = None) -> Actor:
    return actor_for(user_row, purpose)
