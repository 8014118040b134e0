"""The platform's clock. Every "now" the code reads is `clock.now()` (aware, UTC): a test sets
the time for everything at once (`clock.frozen(at)`, `clock.shifted(delta)`) instead of
patching, module by module, each place that happens to read it. Redis expiries and presence
keep the real time: they are Redis's clock, not ours."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo

_fixed: datetime | None = None
_shift = timedelta(0)


def now() -> datetime:
    return _fixed if _fixed is not None else datetime.now(UTC) + _shift


def today(zone: tzinfo) -> date:
    """The date it is now where `zone` is (a French user's "today" at 00:30 is not UTC's)."""
    return now().astimezone(zone).date()


@contextlib.contextmanager
def frozen(at: datetime) -> Iterator[datetime]:
    """Time stops at `at` (aware) inside the block."""
    global _fixed
    before, _fixed = _fixed, at.astimezone(UTC)
    try:
        yield _fixed
    finally:
        _fixed = before


@contextlib.contextmanager
def shifted(delta: timedelta) -> Iterator[None]:
    """Time runs, `delta` ahead, inside the block ("two minutes later")."""
    global _shift
    before, _shift = _shift, _shift + delta
    try:
        yield
    finally:
        _shift = before
