"""Agency signing keys (Ed25519) and the canonical form of what is signed."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import select
from tests.support.factories import agency

from liaison.core.audit import AuditEntry
from liaison.core.crypto import forget_cached_keys, open_sealed
from liaison.core.errors import NotFound
from liaison.core.settings import Mode, Settings
from liaison.core.signing import (
    ALTERED,
    OTHER_AGENCY,
    UNKNOWN_KEY,
    AgencySigningKey,
    NotCanonical,
    Signature,
    _create,
    canonical_bytes,
    public_keys,
    rotate_signing_key,
    sign,
    verify,
)
from liaison.db.engine import Database

MASTER = Settings(mode=Mode.TEST, data_key=SecretStr(base64.b64encode(b"m" * 32).decode()))
MESSAGE = {"case": "2024/0117", "from": "DE-BKA", "body": "Treffer: Ιωάννης Παπαδόπουλος"}


def test_sign_and_verify(db: Database) -> None:
    with db.session() as s:
        de = agency(s, "DE-BKA")
        signature = sign(s, de.id, canonical_bytes(MESSAGE), MASTER)
    assert signature.algorithm == "Ed25519"
    assert len(signature.value) == 64
    with db.session() as s:
        verdict = verify(
            s,
            agency_id=de.id,
            key_id=signature.key_id,
            payload=canonical_bytes(MESSAGE),
            signature=signature.value,
        )
    assert verdict.valid
    assert verdict.reason == f"signature valid (key {signature.key_id} of agency DE-BKA)"


def test_one_current_key_created_on_first_use_and_audited(db: Database) -> None:
    with db.session() as s:
        de = agency(s, "DE-BKA")
        first = sign(s, de.id, b"one", MASTER)
        second = sign(s, de.id, b"two", MASTER)
        assert first.key_id == second.key_id
        keys = public_keys(s, de.id)
        created = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "keys.signing_key_created")
        ).all()
    assert [k.id for k in keys] == [first.key_id]
    assert len(keys[0].public_key) == 32
    assert [(e.object_id, e.agency_id) for e in created] == [(first.key_id, de.id)]


def test_private_key_is_stored_sealed(db: Database) -> None:
    with db.session() as s:
        de = agency(s, "DE-BKA")
        signature = sign(s, de.id, b"x", MASTER)
        key = s.get(AgencySigningKey, signature.key_id)
        assert key is not None
        raw = open_sealed(
            s, key.private_sealed, aad=b"signing-key:" + key.id.encode(), settings=MASTER
        )
    assert raw not in key.private_sealed
    public = Ed25519PrivateKey.from_private_bytes(raw).public_key().public_bytes_raw()
    assert public == key.public_key


@pytest.mark.parametrize(
    "changed",
    [
        {**MESSAGE, "body": MESSAGE["body"] + " "},
        {**MESSAGE, "from": "NL-NP"},
        {**MESSAGE, "extra": None},
        {k: v for k, v in MESSAGE.items() if k != "case"},
        # Same text, other Unicode normalisation: not the bytes that were signed.
        {**MESSAGE, "body": MESSAGE["body"].replace("ό", "ο\u0301")},
    ],
)
def test_any_change_to_the_payload_is_detected(db: Database, changed: dict[str, Any]) -> None:
    with db.session() as s:
        de = agency(s, "DE-BKA")
        signature = sign(s, de.id, canonical_bytes(MESSAGE), MASTER)
        verdict = verify(
            s,
            agency_id=de.id,
            key_id=signature.key_id,
            payload=canonical_bytes(changed),
            signature=signature.value,
        )
    assert not verdict.valid
    assert verdict.reason == ALTERED
    assert verdict.reason == (
        "signature does not match the content: the message was altered after signing"
    )


@pytest.mark.parametrize("signature_value", [bytes(64), b"", b"\x00" * 63])
def test_forged_signature_is_invalid(db: Database, signature_value: bytes) -> None:
    with db.session() as s:
        de = agency(s, "DE-BKA")
        key_id = sign(s, de.id, b"payload", MASTER).key_id
        verdict = verify(
            s, agency_id=de.id, key_id=key_id, payload=b"payload", signature=signature_value
        )
    assert (verdict.valid, verdict.reason) == (False, ALTERED)


def test_retired_key_still_verifies(db: Database) -> None:
    with db.session() as s:
        de = agency(s, "DE-BKA")
        old = sign(s, de.id, b"signed before rotation", MASTER)
        new_key = rotate_signing_key(s, de.id, MASTER)
        new = sign(s, de.id, b"signed after rotation", MASTER)
    assert new.key_id == new_key.id != old.key_id
    with db.session() as s:
        keys = public_keys(s, de.id)
        assert [k.id for k in keys] == [old.key_id, new.key_id]
        assert keys[0].retired_at is not None
        assert keys[1].retired_at is None
        for signature, payload in [
            (old, b"signed before rotation"),
            (new, b"signed after rotation"),
        ]:
            verdict = verify(
                s,
                agency_id=de.id,
                key_id=signature.key_id,
                payload=payload,
                signature=signature.value,
            )
            assert verdict.valid, verdict.reason
        rotations = s.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "keys.rotate_signing")
        ).all()
    assert [json.loads(d) for d in rotations] == [{"retired": old.key_id}]


def test_rotating_an_agency_without_a_key_creates_one(db: Database) -> None:
    with db.session() as s:
        nl = agency(s, "NL-NP")
        key = rotate_signing_key(s, nl.id, MASTER)
        assert [k.id for k in public_keys(s, nl.id)] == [key.id]
        with pytest.raises(NotFound):
            rotate_signing_key(s, "0" * 26, MASTER)


def test_key_of_another_agency_is_refused(db: Database) -> None:
    with db.session() as s:
        de, nl = agency(s, "DE-BKA"), agency(s, "NL-NP")
        signature = sign(s, de.id, b"payload", MASTER)
        verdict = verify(
            s,
            agency_id=nl.id,
            key_id=signature.key_id,
            payload=b"payload",
            signature=signature.value,
        )
    assert (verdict.valid, verdict.reason) == (False, OTHER_AGENCY)


def test_unknown_key_is_refused(db: Database) -> None:
    with db.session() as s:
        de = agency(s, "DE-BKA")
        verdict = verify(s, agency_id=de.id, key_id="0" * 26, payload=b"x", signature=bytes(64))
    assert (verdict.valid, verdict.reason) == (False, UNKNOWN_KEY)


def test_verification_needs_no_master_key(db: Database) -> None:
    with db.session() as s:
        de = agency(s, "DE-BKA")
        signature = sign(s, de.id, b"payload", MASTER)
    # The default settings hold another master key, and nothing is cached any more.
    forget_cached_keys()
    with db.session() as s:
        verdict = verify(
            s, agency_id=de.id, key_id=signature.key_id, payload=b"payload", signature=b""
        )
        assert verdict.reason == ALTERED
        verdict = verify(
            s,
            agency_id=de.id,
            key_id=signature.key_id,
            payload=b"payload",
            signature=signature.value,
        )
    assert verdict.valid


def test_signature_is_immutable_and_keyword_only() -> None:
    signature = Signature(key_id="k", value=b"v")
    assert signature.algorithm == "Ed25519"
    with pytest.raises(AttributeError):
        signature.key_id = "other"  # type: ignore[misc]


# --- canonical form ------------------------------------------------------------------------------


def test_canonical_form_is_compact_and_sorted() -> None:
    value = {"b": 1, "a": [True, None, "x"], "c": {"z": -2, "y": "é\n\u000f"}}
    assert canonical_bytes(value) == (
        '{"a":[true,null,"x"],"b":1,"c":{"y":"é\\n\\u000f","z":-2}}'.encode()
    )


def test_canonical_form_is_independent_of_key_order() -> None:
    assert canonical_bytes({"x": 1, "y": {"b": 2, "a": 3}}) == canonical_bytes(
        {"y": {"a": 3, "b": 2}, "x": 1}
    )


def test_keys_sort_by_utf16_code_units_as_rfc_8785() -> None:
    # The example of RFC 8785 section 3.2.3: the emoji sorts before U+FB33 in UTF-16.
    names = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6"]
    decoded = json.loads(canonical_bytes(dict.fromkeys(names, 0)))
    assert list(decoded) == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_strings_are_signed_as_stored_not_normalised() -> None:
    assert canonical_bytes({"n": "é"}) != canonical_bytes({"n": "e\u0301"})


@pytest.mark.parametrize(
    "value",
    [
        {"amount": 1.5},
        {"nested": [{"deep": 2.0}]},
        {"when": dt.date(2024, 1, 1)},
        {"raw": b"bytes"},
        {"pair": (1, 2)},
        {"set": {1}},
        {1: "integer key"},
    ],
)
def test_ambiguous_types_are_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        canonical_bytes(value)


def test_float_error_names_the_field() -> None:
    with pytest.raises(TypeError, match=r"\$\.nested\[0\]\.deep: floats are refused"):
        canonical_bytes({"nested": [{"deep": 2.0}]})


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"big": 2**53}, "too large"),
        ({"small": -(2**60)}, "too large"),
        ({"text": "\ud800"}, "lone surrogate"),
        ({"\udfff": 1}, "lone surrogate"),
    ],
)
def test_unrepresentable_values_are_refused(value: dict[str, Any], reason: str) -> None:
    # One exception for every refusal: callers catching TypeError (or ValueError) see them all.
    assert issubclass(NotCanonical, TypeError)
    assert issubclass(NotCanonical, ValueError)
    with pytest.raises(NotCanonical, match=reason):
        canonical_bytes(value)


def test_non_object_is_refused() -> None:
    with pytest.raises(TypeError):
        canonical_bytes([1, 2])  # type: ignore[arg-type]


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
OBJECTS = st.dictionaries(st.text(), JSON_VALUES, max_size=6)


def _reordered(value: Any, rng: Any) -> Any:
    if isinstance(value, dict):
        items = [(k, _reordered(v, rng)) for k, v in value.items()]
        rng.shuffle(items)
        return dict(items)
    if isinstance(value, list):
        return [_reordered(v, rng) for v in value]
    return value


@hypothesis_settings(max_examples=200, deadline=None)
@given(value=OBJECTS, rng=st.randoms(use_true_random=False))
def test_canonical_bytes_is_stable_under_reordering(value: dict[str, Any], rng: Any) -> None:
    encoded = canonical_bytes(value)
    assert canonical_bytes(_reordered(value, rng)) == encoded
    assert json.loads(encoded) == value
    if all(ord(c) <= 0xFFFF for c in encoded.decode()):
        # Without astral characters UTF-16 order is code-point order, so Python's JSON agrees.
        expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        assert encoded == expected.encode()


def test_only_one_current_key_per_agency_even_under_a_race(db: Database) -> None:
    with db.session() as s:
        de = agency(s, "DE-BKA")
        first = sign(s, de.id, b"x", MASTER).key_id
        # A second signer that missed the first key: the unique index sends it to the winner.
        assert _create(s, de.id, MASTER).id == first
        assert [k.id for k in public_keys(s, de.id)] == [first]
