"""Business-time arithmetic: table cases over weekends, holidays, lunch, DST and leave."""

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.services.sla.calendars import (
    Calendar,
    add_business_minutes,
    business_minutes_between,
    is_working,
    next_opening,
    office_hours,
    validate_intervals,
)

PARIS = ZoneInfo("Europe/Paris")
# Monday–Friday 09:00–12:30 and 14:00–18:00: 7 h 30 a day
OFFICE = office_hours()
ALSACE = office_hours(region="57")
# the expert is on leave the whole week of 8 February 2027
ON_LEAVE = office_hours(closures=[date(2027, 2, 8) + timedelta(days=i) for i in range(5)])
ALWAYS = office_hours(days=range(7), spans=[("00:00", "24:00")], region=None)


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


@pytest.mark.parametrize(
    ("calendar", "start", "minutes", "expected", "why"),
    [
        (OFFICE, "2027-01-13T10:00", 60, "2027-01-13T11:00", "inside one interval"),
        (OFFICE, "2027-01-13T12:00", 60, "2027-01-13T14:30", "over the lunch break"),
        (OFFICE, "2027-01-13T09:00", 210, "2027-01-13T12:30", "ends at the interval's end"),
        (OFFICE, "2027-01-13T07:00", 30, "2027-01-13T09:30", "before opening"),
        (OFFICE, "2027-01-15T17:00", 120, "2027-01-18T10:00", "over a weekend"),
        (OFFICE, "2027-01-16T10:00", 30, "2027-01-18T09:30", "from a Saturday"),
        (OFFICE, "2027-05-05T17:00", 120, "2027-05-07T10:00", "over Ascension Thursday"),
        (OFFICE, "2027-01-13T10:00", 450 * 5, "2027-01-20T10:00", "a working week"),
        # clocks spring forward on Sunday 28 March; Easter Monday 29 March is a holiday
        (OFFICE, "2027-03-26T17:00", 120, "2027-03-30T10:00", "weekend, DST and Easter Monday"),
        (ALSACE, "2027-03-25T17:00", 120, "2027-03-30T10:00", "Good Friday in Alsace-Moselle"),
        (OFFICE, "2027-03-25T17:00", 120, "2027-03-26T10:00", "Good Friday elsewhere"),
        (ALSACE, "2025-12-24T17:00", 120, "2025-12-29T10:00", "26 December in Alsace"),
        (OFFICE, "2025-12-24T17:00", 120, "2025-12-26T10:00", "26 December elsewhere"),
        (ON_LEAVE, "2027-02-05T17:00", 120, "2027-02-15T10:00", "over a week of leave"),
        (OFFICE, "2027-01-13T10:00", 0, "2027-01-13T10:00", "nothing to add"),
        (OFFICE, "2027-01-16T10:00", 0, "2027-01-16T10:00", "nothing to add, even off hours"),
    ],
)
def test_add_business_minutes(calendar, start, minutes, expected, why):
    got = add_business_minutes(calendar, paris(start), minutes)
    assert got == paris(expected), why
    # and the way back measures the same working time
    if minutes and is_working(calendar, paris(start)):
        assert business_minutes_between(calendar, paris(start), got) == minutes, why


@pytest.mark.parametrize(
    ("calendar", "a", "b", "minutes"),
    [
        (OFFICE, "2027-01-15T17:00", "2027-01-18T10:00", 120),
        (OFFICE, "2027-01-16T08:00", "2027-01-17T20:00", 0),  # a whole weekend
        (OFFICE, "2027-01-13T12:00", "2027-01-13T14:30", 60),
        (OFFICE, "2027-05-06T08:00", "2027-05-06T20:00", 0),  # Ascension
        (OFFICE, "2027-01-18T10:00", "2027-01-15T17:00", 0),  # never negative
        # the spring-forward Sunday has 23 hours, the autumn one 25
        (ALWAYS, "2027-03-28T00:00", "2027-03-29T00:00", 23 * 60),
        (ALWAYS, "2027-10-31T00:00", "2027-11-01T00:00", 25 * 60),
        (ON_LEAVE, "2027-02-05T09:00", "2027-02-15T09:00", 450),
    ],
)
def test_business_minutes_between(calendar, a, b, minutes):
    assert business_minutes_between(calendar, paris(a), paris(b)) == minutes


def test_adding_then_measuring_agrees_everywhere():
    rng = random.Random(25)
    start = paris("2027-01-01T00:00")
    for _ in range(300):
        at = start + timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        minutes = rng.randrange(1, 30 * 450)
        for calendar in (OFFICE, ALSACE, ON_LEAVE):
            due = add_business_minutes(calendar, at, minutes)
            assert business_minutes_between(calendar, at, due) == minutes
            assert is_working(calendar, due - timedelta(seconds=1))


def test_next_opening_and_working():
    assert next_opening(OFFICE, paris("2027-01-13T13:00")) == paris("2027-01-13T14:00")
    assert is_working(OFFICE, paris("2027-01-13T09:00"))
    assert not is_working(OFFICE, paris("2027-01-13T12:30"))


@pytest.mark.parametrize(
    ("intervals", "problem"),
    [
        ([(0, 540, 720), (0, 700, 900)], "overlap"),
        ([(0, 540, 540)], "empty"),
        ([(0, 600, 540)], "empty"),
        ([(7, 540, 600)], "does not exist"),
        ([], "no working hours"),
    ],
)
def test_bad_intervals_are_refused(intervals, problem):
    assert any(problem in p for p in validate_intervals(intervals))
    with pytest.raises(ValueError, match=problem):
        Calendar.of(intervals)


def test_negative_minutes_are_refused():
    with pytest.raises(ValueError):
        add_business_minutes(OFFICE, paris("2027-01-13T10:00"), -1)
