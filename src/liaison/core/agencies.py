"""Agencies on the network and the partner frameworks that decide what they may receive."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Boolean, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from liaison.core.clock import utcnow
from liaison.core.errors import NotFound
from liaison.core.ids import new_id
from liaison.core.markings import Classification
from liaison.db.base import Base


class PartnerFramework(StrEnum):
    """The legal basis on which an agency cooperates with the network."""

    MEMBER_STATE = "member_state"
    EU_BODY = "eu_body"
    THIRD_COUNTRY_AGREEMENT = "third_country_agreement"
    THIRD_COUNTRY_WORKING_ARRANGEMENT = "third_country_working_arrangement"
    INTERNATIONAL_ORGANISATION = "international_organisation"

    @property
    def label(self) -> str:
        return FRAMEWORK_LABELS[self]


FRAMEWORK_LABELS: dict[PartnerFramework, str] = {
    PartnerFramework.MEMBER_STATE: "Member-state authority",
    PartnerFramework.EU_BODY: "EU body / hub",
    PartnerFramework.THIRD_COUNTRY_AGREEMENT: "Third country with operational agreement",
    PartnerFramework.THIRD_COUNTRY_WORKING_ARRANGEMENT: (
        "Third country with working arrangement only (no personal data)"
    ),
    PartnerFramework.INTERNATIONAL_ORGANISATION: "International organisation",
}


class Agency(Base):
    """An organisation on the network."""

    __tablename__ = "agencies"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    framework: Mapped[str] = mapped_column(String(40))
    accreditation: Mapped[int] = mapped_column(Integer, default=int(Classification.RESTRICTED))
    # For an international organisation: the agreement that allows personal data to it, if any.
    personal_data_basis: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # IANA time zone of the agency's calendar (legal deadlines in calendar days); None: from the
    # country, else UTC.
    timezone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def partner_framework(self) -> PartnerFramework:
        return PartnerFramework(self.framework)

    @property
    def accreditation_level(self) -> Classification:
        return Classification(self.accreditation)

    @property
    def is_hub(self) -> bool:
        return self.partner_framework is PartnerFramework.EU_BODY

    @property
    def zone(self) -> ZoneInfo:
        """The agency's time zone: as set, else the main zone of its country, else UTC."""
        return zone_for(self.timezone, self.country)


def get_agency(session: Session, agency_id: str) -> Agency:
    """The agency with this id, or NotFound."""
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(f"no agency {agency_id}")
    return agency


def agency_by_code(session: Session, code: str) -> Agency:
    """The agency with this code, or NotFound."""
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise NotFound(f"no agency with code {code!r}")
    return agency


_ZONE_TAB = Path("/usr/share/zoneinfo/zone.tab")


@lru_cache(maxsize=1)
def _country_zones() -> dict[str, str]:
    """Country code → its first-listed zone in the tz database's ``zone.tab``."""
    zones: dict[str, str] = {}
    try:
        lines = _ZONE_TAB.read_text(encoding="utf-8").splitlines()
    except OSError:
        return zones
    for line in lines:
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) >= 3:
            for country in parts[0].split(","):
                zones.setdefault(country, parts[2])
    return zones


@lru_cache(maxsize=256)
def zone_for(name: str | None, country: str | None) -> ZoneInfo:
    """A time zone by IANA name, else by country, else UTC."""
    for candidate in (name, _country_zones().get((country or "").upper())):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")
