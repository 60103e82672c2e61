"""Quiet hours across midnight and time zones, digest boundaries, backoff, escalation delays."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from ingest.notifier.model import QuietHours
from ingest.notifier.schedule import (
    digest_due_ms,
    escalation_delay_s,
    quiet_end_ms,
    retry_delay_ms,
)

NIGHT = QuietHours(time(22, 0), time(7, 0))
LUNCH = QuietHours(time(12, 0), time(13, 0))


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


@pytest.mark.parametrize(
    ("now", "end"),
    [
        ("2025-11-21T21:59:59+00:00", None),
        ("2025-11-21T22:00:00+00:00", "2025-11-22T07:00:00+00:00"),
        ("2025-11-21T23:30:00+00:00", "2025-11-22T07:00:00+00:00"),
        ("2025-11-22T03:00:00+00:00", "2025-11-22T07:00:00+00:00"),
        ("2025-11-22T07:00:00+00:00", None),
    ],
)
def test_quiet_hours_span_midnight(now: str, end: str | None) -> None:
    assert quiet_end_ms(NIGHT, "UTC", ms(now)) == (ms(end) if end else None)


def test_quiet_hours_within_a_day() -> None:
    assert quiet_end_ms(LUNCH, "UTC", ms("2025-11-21T12:30:00+00:00")) == ms(
        "2025-11-21T13:00:00+00:00"
    )
    assert quiet_end_ms(LUNCH, "UTC", ms("2025-11-21T13:00:00+00:00")) is None


def test_quiet_hours_are_read_in_the_recipients_zone() -> None:
    now = ms("2025-11-21T20:00:00+00:00")  # 23:00 in Istanbul (UTC+3), 15:00 in New York
    assert quiet_end_ms(NIGHT, "Europe/Istanbul", now) == ms("2025-11-22T04:00:00+00:00")
    assert quiet_end_ms(NIGHT, "America/New_York", now) is None


def test_quiet_end_follows_daylight_saving() -> None:
    # Berlin leaves summer time on 2025-10-26: 07:00 local is 05:00 UTC before, 06:00 after
    assert quiet_end_ms(NIGHT, "Europe/Berlin", ms("2025-10-25T23:00:00+00:00")) == ms(
        "2025-10-26T06:00:00+00:00"
    )


def test_equal_start_and_end_is_never_quiet() -> None:
    always_open = QuietHours(time(8, 0), time(8, 0))
    assert quiet_end_ms(always_open, "UTC", ms("2025-11-21T08:00:00+00:00")) is None
    assert quiet_end_ms(None, "UTC", 0) is None


def test_digest_boundaries_are_shared_and_strictly_later() -> None:
    every_s = 900.0
    t = ms("2025-11-21T10:00:00+00:00")
    assert digest_due_ms(t, every_s) == t + 900_000
    assert digest_due_ms(t + 1, every_s) == t + 900_000
    assert digest_due_ms(t + 899_999, every_s) == t + 900_000


def test_backoff_doubles_up_to_the_cap() -> None:
    delays = [retry_delay_ms(n, 5.0, 600.0) for n in range(1, 10)]
    assert delays[:5] == [5_000, 10_000, 20_000, 40_000, 80_000]
    assert delays[-1] == 600_000
    assert retry_delay_ms(500, 5.0, 600.0) == 600_000


def test_escalation_delay_repeats_its_last_value() -> None:
    assert [escalation_delay_s(level, (60.0, 300.0)) for level in (1, 2, 3, 4)] == [
        60.0,
        300.0,
        300.0,
        300.0,
    ]


def test_times_are_utc_epoch_ms() -> None:
    assert datetime.fromtimestamp(ms("2025-11-21T22:00:00+00:00") / 1000, UTC).hour == 22
