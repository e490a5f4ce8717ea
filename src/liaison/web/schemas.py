"""Wire shapes of the core API (pydantic), kept apart from the tables."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from liaison.core.actor import Role
from liaison.core.agencies import PartnerFramework


class AgencyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    name: str
    country: str | None
    framework: PartnerFramework
    accreditation: int
    personal_data_basis: str | None
    active: bool


class AgencyIn(BaseModel):
    code: str = Field(examples=["NL-NP"])
    name: str = Field(examples=["Netherlands National Police"])
    country: str | None = Field(None, examples=["NL"])
    framework: PartnerFramework
    accreditation: str = Field("restricted", examples=["confidential"])
    personal_data_basis: str | None = None


class MeOut(BaseModel):
    user_id: str
    username: str
    agency_id: str
    agency_code: str
    framework: PartnerFramework
    roles: list[Role]
    capabilities: list[str]


class UserIn(BaseModel):
    agency_id: str
    username: str = Field(examples=["nl.officer2"])
    display_name: str
    password: str = Field(min_length=12)
    roles: list[Role] = Field(min_length=1)
    email: str | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    agency_id: str
    username: str
    display_name: str
    email: str | None
    roles_csv: str
    active: bool
    created_at: dt.datetime


class TokenIn(BaseModel):
    name: str = Field(examples=["national system sync"])
    days: int = Field(30, ge=1)
    user_id: str | None = None


class TokenOut(BaseModel):
    id: str
    name: str
    prefix: str
    expires_at: dt.datetime
    token: str | None = Field(None, description="the secret, returned once at issue")


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: dt.datetime
    actor_user_id: str | None
    actor_username: str | None
    agency_id: str | None
    action: str
    object_type: str | None
    object_id: str | None
    purpose: str | None
    outcome: str
    detail: str
    hash: str


class AuditPageOut(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None


class VerificationOut(BaseModel):
    ok: bool
    checked: int
    broken_seq: int | None
    reason: str | None
