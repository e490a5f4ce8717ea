"""Sortable, opaque identifiers.

ULIDs: 48-bit millisecond time and 80 random bits, in Crockford base32.
"""

from __future__ import annotations

import secrets

from liaison.core.clock import utcnow

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id() -> str:
    """Return a new 26-character ULID; ids created later sort after earlier ones."""
    millis = int(utcnow().timestamp() * 1000)
    value = (millis << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))
