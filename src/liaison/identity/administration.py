"""Administration of agencies and their partner frameworks (hub administrators)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from liaison.core import audit
from liaison.core.actor import Actor
from liaison.core.agencies import Agency, PartnerFramework, get_agency
from liaison.core.errors import ValidationFailed
from liaison.core.markings import Classification
from liaison.core.policy import Capability, can


def _validated(
    *, code: str, name: str, country: str | None, framework: str, accreditation: str | int
) -> tuple[str, str, str | None, PartnerFramework, Classification]:
    code = code.strip().upper()
    if not code or len(code) > 32 or not code.replace("-", "").replace("_", "").isalnum():
        raise ValidationFailed("agency codes are 1–32 letters, digits, - or _")
    if not name.strip():
        raise ValidationFailed("an agency needs a name")
    country = (country or "").strip().upper() or None
    if country is not None and (len(country) != 2 or not country.isalpha()):
        raise ValidationFailed("country must be an ISO 3166-1 alpha-2 code, e.g. DE")
    try:
        parsed_framework = PartnerFramework(framework)
    except ValueError:
        known = ", ".join(f.value for f in PartnerFramework)
        raise ValidationFailed(f"unknown partner framework {framework!r}; known: {known}") from None
    try:
        level = Classification.parse(accreditation)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    return code, name.strip(), country, parsed_framework, level


def create_agency(
    session: Session,
    actor: Actor | None,
    *,
    code: str,
    name: str,
    country: str | None,
    framework: str,
    accreditation: str | int,
    personal_data_basis: str | None = None,
) -> Agency:
    """Add an agency to the network. ``actor`` None is the node operator's command line."""
    if actor is not None:
        can(actor, Capability.MANAGE_AGENCIES).enforce()
    code, name, country, parsed_framework, level = _validated(
        code=code, name=name, country=country, framework=framework, accreditation=accreditation
    )
    if session.scalar(select(Agency.id).where(Agency.code == code)):
        raise ValidationFailed(f"agency code {code!r} is taken")
    agency = Agency(
        code=code,
        name=name,
        country=country,
        framework=parsed_framework.value,
        accreditation=int(level),
        personal_data_basis=(personal_data_basis or "").strip() or None,
        active=True,
    )
    session.add(agency)
    session.flush()
    audit.record(
        session,
        actor,
        "agency.create",
        object_type="agency",
        object_id=agency.id,
        detail={"code": code, "framework": parsed_framework.value, "accreditation": level.name},
    )
    return agency


def update_agency(
    session: Session,
    actor: Actor,
    agency_id: str,
    *,
    framework: str,
    accreditation: str | int,
    personal_data_basis: str | None,
    active: bool,
) -> Agency:
    """Change an agency's partner framework, accreditation or status."""
    can(actor, Capability.MANAGE_AGENCIES).enforce()
    agency = get_agency(session, agency_id)
    _, _, _, parsed_framework, level = _validated(
        code=agency.code,
        name=agency.name,
        country=agency.country,
        framework=framework,
        accreditation=accreditation,
    )
    before = {"framework": agency.framework, "accreditation": agency.accreditation}
    agency.framework = parsed_framework.value
    agency.accreditation = int(level)
    agency.personal_data_basis = (personal_data_basis or "").strip() or None
    agency.active = active
    audit.record(
        session,
        actor,
        "agency.update",
        object_type="agency",
        object_id=agency.id,
        detail={"before": before, "framework": agency.framework, "accreditation": level.name},
    )
    return agency


def list_agencies(session: Session) -> Sequence[Agency]:
    """Every agency on the network (the directory is not secret to authenticated users)."""
    return session.scalars(select(Agency).order_by(Agency.code)).all()
