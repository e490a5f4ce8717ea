"""Envelope encryption of data at rest: AES-256-GCM data keys wrapped by a master key.

Values are sealed with the one *active data key*; data keys are stored in ``data_keys``, each
encrypted ("wrapped") with the master key from ``LIAISON_DATA_KEY``. Rotating the master key only
re-wraps the data keys — a few hundred bytes per key — never the sealed data itself, and it runs
while the node serves: a data key stays readable under its old master key (listed in
``LIAISON_DATA_KEY_PREVIOUS``) until it has been re-wrapped under the new one.

A sealed value is one self-describing blob::

    version (1 byte, 0x01) | data-key id (26 ASCII bytes) | nonce (12 bytes) | ciphertext + tag (16)

The version byte and the data-key id are authenticated along with the caller's ``aad``, which
binds the blob to its row (``b"message-body:" + message_id``): a blob copied to another row, or
altered in any bit, fails to open with ``DecryptionFailed``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Boolean, Index, LargeBinary, String, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from liaison.core.audit import record
from liaison.core.clock import utcnow
from liaison.core.errors import LiaisonError
from liaison.core.ids import new_id
from liaison.core.settings import Settings, get_settings
from liaison.db.base import Base
from liaison.db.engine import Database

BLOB_VERSION = 1
KEY_ID_BYTES = 26
NONCE_BYTES = 12
TAG_BYTES = 16
_HEADER_BYTES = 1 + KEY_ID_BYTES
_MIN_BLOB_BYTES = _HEADER_BYTES + NONCE_BYTES + TAG_BYTES
# Unwrapped data keys kept in memory; a node has few data keys, so this is never the limit.
CACHE_SIZE = 1024


class DecryptionFailed(LiaisonError):
    """A sealed value or a data key could not be opened: altered, misplaced or key missing."""

    status = 500
    title = "Stored data could not be decrypted"


class KeyConfigurationError(LiaisonError):
    """The configured master keys are unusable (malformed, or the key file cannot be read)."""

    status = 500
    title = "Key configuration refused"


class DataKey(Base):
    """A 256-bit data key, stored only wrapped (AES-GCM) under a master key."""

    __tablename__ = "data_keys"
    # At most one active key: two nodes creating the first key at once cannot both win.
    __table_args__ = (
        Index(
            "uq_data_keys_active",
            "active",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    # nonce (12 bytes) | AES-GCM(master key, data key, aad=b"data-key:" + id)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    master_key_id: Mapped[str] = mapped_column(String(16), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column()


# --- master keys ---------------------------------------------------------------------------------


def master_key_id(key: bytes) -> str:
    """The public name of a master key: the first 16 hex characters of its SHA-256."""
    return hashlib.sha256(key).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class MasterKeys:
    """The master keys this process holds: the current one and those being phased out."""

    current_id: str
    by_id: dict[str, bytes]

    def role(self, key_id: str) -> str:
        """``current``, ``previous`` or ``unknown`` (neither configured)."""
        if key_id == self.current_id:
            return "current"
        return "previous" if key_id in self.by_id else "unknown"


def master_keys(settings: Settings) -> MasterKeys:
    """The current and previous master keys from the settings, validated."""
    try:
        current = settings.master_key()
        previous = settings.previous_master_keys()
    except ValueError as exc:
        raise KeyConfigurationError(str(exc)) from None
    except OSError as exc:
        raise KeyConfigurationError(
            f"cannot read LIAISON_DATA_KEY_FILE {settings.data_key_file}: {exc.strerror}"
        ) from None
    current_id = master_key_id(current)
    by_id = {current_id: current}
    for key in previous:
        by_id.setdefault(master_key_id(key), key)
    return MasterKeys(current_id, by_id)


# --- the in-memory cache of unwrapped data keys ---------------------------------------------------


class _KeyCache:
    """Bounded LRU of ciphers, keyed by (data-key id, id of the master key that unwrapped it)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, str], AESGCM] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, data_key_id: str, master_id: str) -> AESGCM | None:
        with self._lock:
            cipher = self._entries.get((data_key_id, master_id))
            if cipher is not None:
                self._entries.move_to_end((data_key_id, master_id))
            return cipher

    def put(self, data_key_id: str, master_id: str, cipher: AESGCM) -> None:
        with self._lock:
            self._entries[(data_key_id, master_id)] = cipher
            self._entries.move_to_end((data_key_id, master_id))
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_cache = _KeyCache(CACHE_SIZE)


def forget_cached_keys() -> None:
    """Drop every unwrapped data key held in memory (the next use unwraps from the database)."""
    _cache.clear()


# --- wrapping ------------------------------------------------------------------------------------


def _wrap_aad(data_key_id: str) -> bytes:
    return b"data-key:" + data_key_id.encode("ascii")


def _wrap(master: bytes, data_key_id: str, data_key: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(master).encrypt(nonce, data_key, _wrap_aad(data_key_id))


def _unwrap(master: bytes, row: DataKey) -> bytes:
    wrapped = bytes(row.wrapped)
    failure = DecryptionFailed(
        f"data key {row.id} could not be unwrapped with master key {row.master_key_id}: "
        "the stored key was altered",
        data_key_id=row.id,
    )
    if len(wrapped) < NONCE_BYTES + TAG_BYTES:
        raise failure
    try:
        return AESGCM(master).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(row.id)
        )
    except InvalidTag:
        raise failure from None


def _master_for(row: DataKey, keys: MasterKeys) -> bytes:
    master = keys.by_id.get(row.master_key_id)
    if master is None:
        raise DecryptionFailed(
            f"data key {row.id} is wrapped by master key {row.master_key_id}, which is neither "
            "LIAISON_DATA_KEY nor listed in LIAISON_DATA_KEY_PREVIOUS: configure that master key "
            "to read the data sealed with it",
            data_key_id=row.id,
            master_key_id=row.master_key_id,
        )
    return master


def _cipher_for_row(row: DataKey, keys: MasterKeys) -> AESGCM:
    master = _master_for(row, keys)
    cipher = _cache.get(row.id, row.master_key_id)
    if cipher is None:
        cipher = AESGCM(_unwrap(master, row))
        _cache.put(row.id, row.master_key_id, cipher)
    return cipher


def _cipher_for_id(session: Session, data_key_id: str, keys: MasterKeys) -> AESGCM:
    # Only master keys configured now may serve a cached key: a key dropped from the settings
    # stops working at once, even for data keys this process unwrapped before.
    for master_id in keys.by_id:
        cipher = _cache.get(data_key_id, master_id)
        if cipher is not None:
            return cipher
    row = session.get(DataKey, data_key_id)
    if row is None:
        raise DecryptionFailed(
            f"unknown data key {data_key_id}: the sealed value names a key this database does "
            "not hold (altered, or copied from another node)",
            data_key_id=data_key_id,
        )
    return _cipher_for_row(row, keys)


_ACTIVE = "liaison.active_data_key"


def _active_row(session: Session) -> DataKey | None:
    """The active data key, looked up once per unit of work (a rotation in another transaction
    is seen by the next one)."""
    cached = session.info.get(_ACTIVE)
    if isinstance(cached, DataKey) and cached.active:
        return cached
    row = session.scalars(select(DataKey).where(DataKey.active.is_(True))).one_or_none()
    if row is not None:
        session.info[_ACTIVE] = row
    return row


def _create_active(session: Session, keys: MasterKeys) -> DataKey:
    key = AESGCM.generate_key(bit_length=256)
    row = DataKey(
        id=new_id(),
        master_key_id=keys.current_id,
        active=True,
        created_at=utcnow(),
    )
    row.wrapped = _wrap(keys.by_id[keys.current_id], row.id, key)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another transaction created the active key first (unique index): use that one.
        winner = _active_row(session)
        if winner is None:
            raise
        return winner
    _cache.put(row.id, keys.current_id, AESGCM(key))
    return row


# --- sealing -------------------------------------------------------------------------------------


def seal(
    session: Session, plaintext: bytes, *, aad: bytes, settings: Settings | None = None
) -> bytes:
    """Encrypt ``plaintext`` with the active data key (created on first use), bound to ``aad``.

    ``aad`` names the row the blob belongs to (``b"message-body:" + message_id``); the same
    ``aad`` must be given to ``open_sealed``.
    """
    keys = master_keys(settings or get_settings())
    row = _active_row(session) or _create_active(session, keys)
    cipher = _cipher_for_row(row, keys)
    header = bytes([BLOB_VERSION]) + row.id.encode("ascii")
    nonce = os.urandom(NONCE_BYTES)
    return header + nonce + cipher.encrypt(nonce, plaintext, header + aad)


def open_sealed(
    session: Session, blob: bytes, *, aad: bytes, settings: Settings | None = None
) -> bytes:
    """Decrypt a blob made by ``seal`` with the same ``aad``; ``DecryptionFailed`` otherwise."""
    blob = bytes(blob)
    if len(blob) < _MIN_BLOB_BYTES:
        raise DecryptionFailed(f"not a sealed value: {len(blob)} bytes is too short")
    if blob[0] != BLOB_VERSION:
        raise DecryptionFailed(f"not a sealed value: unknown format version {blob[0]}")
    try:
        data_key_id = blob[1:_HEADER_BYTES].decode("ascii")
    except UnicodeDecodeError:
        raise DecryptionFailed("not a sealed value: its data-key id is malformed") from None
    keys = master_keys(settings or get_settings())
    cipher = _cipher_for_id(session, data_key_id, keys)
    nonce = blob[_HEADER_BYTES : _HEADER_BYTES + NONCE_BYTES]
    try:
        return cipher.decrypt(
            nonce, blob[_HEADER_BYTES + NONCE_BYTES :], blob[:_HEADER_BYTES] + aad
        )
    except InvalidTag:
        raise DecryptionFailed(
            "sealed value failed its integrity check: it was altered, or it belongs to another "
            "record",
            data_key_id=data_key_id,
        ) from None


# --- rotation ------------------------------------------------------------------------------------


def start_new_data_key(session: Session, settings: Settings | None = None) -> DataKey:
    """Retire the active data key and create a fresh one for new writes; old keys still read."""
    keys = master_keys(settings or get_settings())
    current = session.scalars(
        select(DataKey).where(DataKey.active.is_(True)).with_for_update()
    ).one_or_none()
    if current is not None:
        current.active = False
        current.retired_at = utcnow()
        session.flush()
    session.info.pop(_ACTIVE, None)
    row = _create_active(session, keys)
    record(
        session,
        None,
        "keys.new_data_key",
        object_type="data_key",
        object_id=row.id,
        detail={"retired": current.id if current else None, "master_key_id": keys.current_id},
    )
    return row


@dataclass(frozen=True, slots=True)
class RewrapReport:
    """What ``rewrap_data_keys`` did."""

    master_key_id: str
    rewrapped: int
    batches: int
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        done = (
            f"re-wrapped {data_keys(self.rewrapped)} under master key {self.master_key_id} "
            f"in {self.batches} batch{'' if self.batches == 1 else 'es'}"
            if self.rewrapped
            else f"every readable data key is already wrapped by master key {self.master_key_id}"
        )
        if self.problems:
            return done + f"; {len(self.problems)} could not be re-wrapped"
        return done


def rewrap_data_keys(
    database: Database, settings: Settings | None = None, *, batch: int = 500
) -> RewrapReport:
    """Re-wrap every data key not yet under the current master key, one transaction per batch.

    Readers keep working throughout: each row is wrapped either by a previous master key (still
    configured) or by the current one. Keys wrapped by a master key that is not configured at all
    are left alone and reported. Safe to re-run.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    keys = master_keys(settings or get_settings())
    rewrapped = batches = 0
    problems: list[str] = []
    last = ""
    while True:
        with database.session() as session:
            rows = session.scalars(
                select(DataKey)
                .where(DataKey.master_key_id != keys.current_id, DataKey.id > last)
                .order_by(DataKey.id)
                .limit(batch)
                .with_for_update()
            ).all()
            if not rows:
                break
            last = rows[-1].id
            done = _rewrap_rows(session, rows, keys, problems)
        if done:
            batches += 1
            rewrapped += done
    return RewrapReport(keys.current_id, rewrapped, batches, tuple(problems))


def _rewrap_rows(
    session: Session, rows: Sequence[DataKey], keys: MasterKeys, problems: list[str]
) -> int:
    """Re-wrap ``rows`` under the current master key and audit them; unreadable ones to problems."""
    current = keys.by_id[keys.current_id]
    done: list[str] = []
    for row in rows:
        try:
            data_key = _unwrap(_master_for(row, keys), row)
        except DecryptionFailed as exc:
            problems.append(exc.detail)
            continue
        done.append(f"{row.id} (was {row.master_key_id})")
        row.wrapped = _wrap(current, row.id, data_key)
        row.master_key_id = keys.current_id
        _cache.put(row.id, keys.current_id, AESGCM(data_key))
    if done:
        record(
            session,
            None,
            "keys.rewrap",
            object_type="data_key",
            detail={"master_key_id": keys.current_id, "rewrapped": done},
        )
    return len(done)


# --- status --------------------------------------------------------------------------------------


def data_keys(count: int) -> str:
    """``1 data key``, ``2 data keys``: counts in reports and command output."""
    return f"{count} data key{'' if count == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class MasterKeyUsage:
    """How many data keys one master key wraps, and whether this node holds that master key."""

    master_key_id: str
    role: str
    data_keys: int
    holds_active: bool


@dataclass(frozen=True, slots=True)
class KeyStatus:
    """Data keys per master key; ``ok`` is false when some are wrapped by an unconfigured key."""

    current_master_key_id: str
    active_data_key_id: str | None
    usage: tuple[MasterKeyUsage, ...]

    @property
    def needs_rewrap(self) -> int:
        return sum(u.data_keys for u in self.usage if u.role != "current")

    @property
    def unreadable(self) -> int:
        return sum(u.data_keys for u in self.usage if u.role == "unknown")

    @property
    def ok(self) -> bool:
        return self.unreadable == 0


def key_status(session: Session, settings: Settings | None = None) -> KeyStatus:
    """Count data keys per master key; every configured master key is listed, even if unused."""
    keys = master_keys(settings or get_settings())
    rows = session.execute(
        select(DataKey.master_key_id, func.count()).group_by(DataKey.master_key_id)
    )
    counts = dict(rows.all())
    active = _active_row(session)
    order = {"current": 0, "previous": 1, "unknown": 2}
    names = sorted(set(counts) | set(keys.by_id), key=lambda k: (order[keys.role(k)], k))
    usage = tuple(
        MasterKeyUsage(
            master_key_id=name,
            role=keys.role(name),
            data_keys=counts.get(name, 0),
            holds_active=active is not None and active.master_key_id == name,
        )
        for name in names
    )
    return KeyStatus(keys.current_id, active.id if active else None, usage)
