"""Ed25519 signing keys of agencies, and the canonical form of what they sign.

Each agency has one current signing key, created on first use. Its private half is stored sealed
(``liaison.core.crypto``) with ``aad = b"signing-key:" + key id``; its public half is stored in
the clear, so verifying a signature never needs the master key. Rotation retires the current key
and creates a new one; retired keys keep verifying what they signed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import ForeignKey, Index, LargeBinary, String, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from liaison.core.agencies import Agency, get_agency
from liaison.core.audit import record
from liaison.core.clock import utcnow
from liaison.core.crypto import open_sealed, seal
from liaison.core.ids import new_id
from liaison.core.settings import Settings
from liaison.db.base import Base

ALGORITHM = "Ed25519"
# Integers beyond ±(2**53 - 1) have no exact IEEE-754 double, so RFC 8785 cannot carry them.
MAX_SAFE_INTEGER = 2**53 - 1

VALID = "signature valid (key {key_id} of agency {agency})"
ALTERED = "signature does not match the content: the message was altered after signing"
UNKNOWN_KEY = "unknown signing key"
OTHER_AGENCY = "key belongs to another agency"


class NotCanonical(TypeError, ValueError):
    """A value with no single canonical form: a float, a non-JSON type, an integer beyond
    ±(2**53 - 1) or a string with a lone surrogate. Both a ``TypeError`` and a ``ValueError``,
    so callers may catch either."""


class AgencySigningKey(Base):
    """One Ed25519 key pair of an agency; ``retired_at`` is None for the current key."""

    __tablename__ = "agency_signing_keys"
    # One current key per agency, even when two transactions create it at once.
    __table_args__ = (
        Index(
            "uq_agency_signing_keys_current",
            "agency_id",
            unique=True,
            sqlite_where=text("retired_at IS NULL"),
            postgresql_where=text("retired_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(String(26), ForeignKey("agencies.id"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    private_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column()


@dataclass(frozen=True, slots=True, kw_only=True)
class Signature:
    """A detached signature and the key that made it."""

    key_id: str
    algorithm: str = ALGORITHM
    value: bytes


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a signature holds, and why, in words a user can read."""

    valid: bool
    reason: str


# --- canonical form ------------------------------------------------------------------------------


def canonical_bytes(value: Mapping[str, Any]) -> bytes:
    """The one byte string a JSON object is signed as.

    Follows RFC 8785 (JSON Canonicalization Scheme) for the types allowed: object members sorted
    by the UTF-16 code units of their names, no insignificant whitespace, strings escaped as
    ECMAScript does and encoded as UTF-8. Strings are not normalised (NFC or otherwise): what is
    stored is what is signed. Only objects with string keys, lists, strings, booleans, null and
    integers within ±(2**53 - 1) are accepted; anything else — floats above all — raises
    ``NotCanonical`` (a ``TypeError``), so nothing ambiguous is ever signed.
    """
    if not isinstance(value, Mapping):
        raise NotCanonical(f"canonical_bytes takes a JSON object, not {type(value).__name__}")
    parts: list[str] = []
    _write(value, parts, "$")
    return "".join(parts).encode("utf-8")


def _write(value: Any, parts: list[str], path: str) -> None:
    if value is None:
        parts.append("null")
    elif isinstance(value, bool):
        parts.append("true" if value else "false")
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise NotCanonical(f"{path}: integer {value} is too large to sign unambiguously")
        parts.append(str(int(value)))
    elif isinstance(value, str):
        parts.append(_string(value, path))
    elif isinstance(value, Mapping):
        _write_object(value, parts, path)
    elif isinstance(value, list):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _write(item, parts, f"{path}[{index}]")
        parts.append("]")
    elif isinstance(value, float):
        raise NotCanonical(f"{path}: floats are refused (no single canonical form)")
    else:
        raise NotCanonical(f"{path}: {type(value).__name__} is not a JSON type")


def _write_object(value: Mapping[Any, Any], parts: list[str], path: str) -> None:
    for key in value:
        if not isinstance(key, str):
            raise NotCanonical(f"{path}: object keys must be strings, not {type(key).__name__}")
    parts.append("{")
    for index, key in enumerate(
        sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
    ):
        if index:
            parts.append(",")
        parts.append(_string(key, path))
        parts.append(":")
        _write(value[key], parts, f"{path}.{key}")
    parts.append("}")


def _string(value: str, path: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise NotCanonical(f"{path}: string is not valid Unicode (lone surrogate)") from None
    # Python's escaping with ensure_ascii=False is ECMAScript's: \" \\ \b \f \n \r \t, other
    # control characters as lower-case \u00xx, everything else literal.
    return json.dumps(value, ensure_ascii=False)


# --- keys ----------------------------------------------------------------------------------------


def _private_aad(key_id: str) -> bytes:
    return b"signing-key:" + key_id.encode("ascii")


def _current(session: Session, agency_id: str) -> AgencySigningKey | None:
    return session.scalars(
        select(AgencySigningKey).where(
            AgencySigningKey.agency_id == agency_id, AgencySigningKey.retired_at.is_(None)
        )
    ).one_or_none()


def _create(session: Session, agency_id: str, settings: Settings | None) -> AgencySigningKey:
    private = Ed25519PrivateKey.generate()
    key = AgencySigningKey(
        id=new_id(),
        agency_id=agency_id,
        public_key=private.public_key().public_bytes_raw(),
        created_at=utcnow(),
    )
    key.private_sealed = seal(
        session, private.private_bytes_raw(), aad=_private_aad(key.id), settings=settings
    )
    try:
        with session.begin_nested():
            session.add(key)
    except IntegrityError:
        # Another transaction created this agency's current key first (unique index).
        winner = _current(session, agency_id)
        if winner is None:
            raise
        return winner
    return key


def current_signing_key(
    session: Session, agency_id: str, settings: Settings | None = None
) -> AgencySigningKey:
    """The agency's current signing key, created (and audited) on first use."""
    key = _current(session, agency_id)
    if key is not None:
        return key
    get_agency(session, agency_id)
    key = _create(session, agency_id, settings)
    record(
        session,
        None,
        "keys.signing_key_created",
        object_type="agency_signing_key",
        object_id=key.id,
        agency_id=agency_id,
    )
    return key


def rotate_signing_key(
    session: Session, agency_id: str, settings: Settings | None = None
) -> AgencySigningKey:
    """Retire the agency's current signing key (it still verifies) and create a new one."""
    get_agency(session, agency_id)
    old = session.scalars(
        select(AgencySigningKey)
        .where(AgencySigningKey.agency_id == agency_id, AgencySigningKey.retired_at.is_(None))
        .with_for_update()
    ).one_or_none()
    if old is not None:
        old.retired_at = utcnow()
        session.flush()
    key = _create(session, agency_id, settings)
    record(
        session,
        None,
        "keys.rotate_signing",
        object_type="agency_signing_key",
        object_id=key.id,
        agency_id=agency_id,
        detail={"retired": old.id if old else None},
    )
    return key


def public_keys(session: Session, agency_id: str) -> list[AgencySigningKey]:
    """Every signing key of the agency, oldest first; the last one without ``retired_at`` signs."""
    return list(
        session.scalars(
            select(AgencySigningKey)
            .where(AgencySigningKey.agency_id == agency_id)
            .order_by(AgencySigningKey.created_at, AgencySigningKey.id)
        )
    )


# --- signing and verifying -----------------------------------------------------------------------


def sign(
    session: Session, agency_id: str, payload: bytes, settings: Settings | None = None
) -> Signature:
    """Sign ``payload`` (usually ``canonical_bytes(...)``) with the agency's current key."""
    key = current_signing_key(session, agency_id, settings)
    raw = open_sealed(session, key.private_sealed, aad=_private_aad(key.id), settings=settings)
    private = Ed25519PrivateKey.from_private_bytes(raw)
    return Signature(key_id=key.id, value=private.sign(payload))


def verify(
    session: Session, *, agency_id: str, key_id: str, payload: bytes, signature: bytes
) -> Verdict:
    """Check a signature with the stored public key only; retired keys still verify."""
    key = session.get(AgencySigningKey, key_id)
    if key is None:
        return Verdict(False, UNKNOWN_KEY)
    if key.agency_id != agency_id:
        return Verdict(False, OTHER_AGENCY)
    try:
        Ed25519PublicKey.from_public_bytes(bytes(key.public_key)).verify(bytes(signature), payload)
    except InvalidSignature:
        return Verdict(False, ALTERED)
    agency = session.get(Agency, agency_id)
    name = agency.code if agency is not None else agency_id
    return Verdict(True, VALID.format(key_id=key.id, agency=name))
