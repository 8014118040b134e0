"""One clock for the whole platform: setting it moves every "now" the models and services read."""

from datetime import UTC, datetime, timedelta

from app.core import clock
from app.models import PARIS, utcnow


def test_frozen_time_is_what_every_reader_sees_and_is_given_back():
    night = datetime(2026, 1, 5, 22, 30, tzinfo=UTC)
    with clock.frozen(night):
        assert clock.now() == utcnow() == night
        assert clock.today(PARIS).isoformat() == "2026-01-05"
        with clock.frozen(night + timedelta(hours=2)):
            assert clock.today(PARIS).isoformat() == "2026-01-06"  # 01:30 in Paris
        assert utcnow() == night
    assert abs(utcnow() - datetime.now(UTC)) < timedelta(seconds=5)


def test_shifted_time_keeps_running_ahead():
    real = datetime.now(UTC)
    with clock.shifted(timedelta(minutes=2)):
        ahead = utcnow() - real
        assert timedelta(minutes=2) <= ahead < timedelta(minutes=2, seconds=5)
    assert utcnow() - real < timedelta(seconds=5)
