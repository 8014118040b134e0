"""Business time: when people work, and arithmetic on it.

A `Calendar` is a value (hashable, no database): working intervals per weekday in local time,
a time zone, the public holidays of France (or of Alsace-Moselle, which adds Good Friday and
26 December), and manual closures (a firm's bridge day, an expert's leave). Everything here is a
pure function of its arguments, so the clocks, the sweep, the recompute job and the tests all
get the same answer.

Durations are real elapsed time inside working intervals: on the night clocks change, a 09:00
to 17:00 interval is still eight hours. An interval falling in the missing hour of a spring DST
change is shortened by it, never invented.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

PARIS = "Europe/Paris"
# a calendar with hours is never more than a year from its next working minute; the walk stops
# there rather than looping forever on a calendar closed for good
_MAX_DAYS = 3 * 366

# holiday sets: France, and the Alsace-Moselle departments (Bas-Rhin, Haut-Rhin, Moselle)
REGIONS = {"FR": None, "57": "57"}


@dataclass(frozen=True)
class Calendar:
    # weekday (0 = Monday) → sorted, non-overlapping (start, end) minutes since local midnight
    hours: tuple[tuple[tuple[int, int], ...], ...]
    tz: str = PARIS
    region: str | None = "FR"  # None: no public holidays
    closures: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(
        cls,
        intervals: Iterable[tuple[int, int, int]],
        tz: str = PARIS,
        region: str | None = "FR",
        closures: Iterable[date] = (),
    ) -> Calendar:
        """From (weekday, start minute, end minute) rows, as stored."""
        intervals = list(intervals)
        problems = validate_intervals(intervals)
        if problems:
            raise ValueError("; ".join(problems))
        days: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for weekday, start, end in intervals:
            days[weekday].append((start, end))
        return cls(tuple(tuple(sorted(d)) for d in days), tz, region, frozenset(closures))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def is_closed(self, day: date) -> bool:
        return day in self.closures or (
            self.region is not None and day in _public_holidays(self.region, day.year)
        )

    @property
    def weekly_minutes(self) -> int:
        return sum(end - start for day in self.hours for start, end in day)

    @property
    def day_minutes(self) -> int:
        """A business day of this calendar: its week divided by the days it works."""
        return self.weekly_minutes // (sum(1 for day in self.hours if day) or 1)


def office_hours(
    days: Iterable[int] = range(5),
    spans: Iterable[tuple[str, str]] = (("09:00", "12:30"), ("14:00", "18:00")),
    **kwargs,
) -> Calendar:
    """A calendar from readable spans, the same on each of `days` (default Monday–Friday)."""
    minutes = [(minute_of(a), minute_of(b)) for a, b in spans]
    return Calendar.of([(d, a, b) for d in days for a, b in minutes], **kwargs)


def minute_of(text: str) -> int:
    """ "09:30" → 570 (minutes since midnight)."""
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def validate_intervals(intervals: Iterable[tuple[int, int, int]]) -> list[str]:
    """Plain-English problems with a set of intervals (the settings form translates them)."""
    problems = []
    by_day: dict[int, list[tuple[int, int]]] = {}
    for weekday, start, end in intervals:
        if not 0 <= weekday <= 6:
            problems.append(f"weekday {weekday} does not exist")
        elif not (0 <= start < end <= 24 * 60):
            problems.append(f"interval {start}-{end} on day {weekday} is empty or outside the day")
        else:
            by_day.setdefault(weekday, []).append((start, end))
    for weekday, spans in by_day.items():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            if start < end:
                problems.append(f"intervals overlap on day {weekday}")
                break
    if not problems and not by_day:
        problems.append("no working hours at all")
    return problems


@functools.lru_cache(maxsize=64)
def _public_holidays(region: str, year: int) -> frozenset[date]:
    return frozenset(holidays.France(years=year, subdiv=REGIONS.get(region)))


def holidays_of(region: str, year: int) -> list[tuple[date, str]]:
    """The public holidays of a region in a year, with their names (for the settings page)."""
    found = holidays.France(years=year, subdiv=REGIONS.get(region), language="fr")
    return sorted(found.items())


@functools.lru_cache(maxsize=8192)
def day_spans(calendar: Calendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The working intervals of a local date, as aware UTC instants, in order."""
    if calendar.is_closed(day):
        return ()
    zone = calendar.zone
    spans = []
    for start, end in calendar.hours[day.weekday()]:
        a = _local(day, start, zone)
        b = _local(day, end, zone)
        if b > a:
            spans.append((a, b))
    return tuple(spans)


def _local(day: date, minute: int, zone: ZoneInfo) -> datetime:
    if minute == 24 * 60:
        return _local(day + timedelta(days=1), 0, zone)
    naive = datetime.combine(day, time(minute // 60, minute % 60))
    # a wall time that does not exist (spring forward) is pushed past the gap: fold=0 reads it
    # with the old offset, which lands after the jump once normalised through UTC
    return naive.replace(tzinfo=zone).astimezone(UTC)


def _spans_from(calendar: Calendar, at: datetime):
    """Working spans from `at` on, the first one clipped to start at `at`."""
    day = at.astimezone(calendar.zone).date() - timedelta(days=1)  # a span may cross midnight
    for _ in range(_MAX_DAYS):
        for start, end in day_spans(calendar, day):
            if end <= at:
                continue
            yield max(start, at), end
        day += timedelta(days=1)
    raise ValueError("this calendar has no working time in the coming years")


def add_business_minutes(calendar: Calendar, at: datetime, minutes: float) -> datetime:
    """The instant `minutes` of working time after `at` (aware). Zero returns `at` itself;
    from outside working hours the count starts at the next opening. Exhausting the budget at
    the end of an interval gives that end, not the next opening."""
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    left = timedelta(minutes=minutes)
    if not left:
        return at
    for start, end in _spans_from(calendar, at):
        if end - start >= left:
            return start + left
        left -= end - start
    raise AssertionError("unreachable")  # _spans_from raises first


def business_seconds_between(calendar: Calendar, a: datetime, b: datetime) -> int:
    """Working seconds from `a` to `b`; never negative (b before a gives 0)."""
    if b <= a:
        return 0
    total = timedelta(0)
    day = a.astimezone(calendar.zone).date() - timedelta(days=1)
    last = b.astimezone(calendar.zone).date()
    while day <= last:
        for start, end in day_spans(calendar, day):
            lo, hi = max(start, a), min(end, b)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return int(total.total_seconds())


def business_minutes_between(calendar: Calendar, a: datetime, b: datetime) -> int:
    return business_seconds_between(calendar, a, b) // 60


def next_opening(calendar: Calendar, at: datetime) -> datetime:
    """`at` itself when it is working time, else the next instant that is."""
    for start, _ in _spans_from(calendar, at):
        return start
    raise AssertionError("unreachable")


def is_working(calendar: Calendar, at: datetime) -> bool:
    return next_opening(calendar, at) == at
