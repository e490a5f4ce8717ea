"""The one clock: UTC, timezone-aware, and replaceable in tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)  # noqa: E731


def utcnow() -> dt.datetime:
    """Return the current time in UTC (timezone-aware)."""
    return _now()


@contextmanager
def frozen(at: dt.datetime) -> Iterator[None]:
    """Freeze the clock at ``at`` for the duration of the block (tests and replays)."""
    global _now
    if at.tzinfo is None:
        raise ValueError("frozen() needs a timezone-aware datetime")
    previous = _now
    _now = lambda: at  # noqa: E731
    try:
        yield
    finally:
        _now = previous
