"""Repeat until acknowledged: when a reminder is due, to whom, held by quiet hours, and when it
stops (time is an argument)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time

import pytest

from ingest.notifier.channels import NotifyConfigError
from ingest.notifier.config import repeat_every, repeat_pair
from ingest.notifier.model import AlertInfo, DeliveryKind, QuietHours, Recipient
from ingest.notifier.policy import PolicyConfig, Unacked, remind, reminder_due
from ingest.notifier.schedule import next_reminder_ms
from shelfsense.domain import Severity


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


NOON = ms("2025-11-21T12:00:00+00:00")
CFG = PolicyConfig(repeat_every_s={Severity.CRITICAL: 60.0, Severity.MAJOR: 300.0})
ANNA = Recipient(1, "anna", targets=("ntfy://n.local/anna", "json://h.local/hook", "webpush:9"))
ACTIVE = AlertInfo("out_of_stock", "location:a/1|sku:TUNA", "active", "a/1", "TUNA", None, {})
TOLD = Unacked(
    site_id="store-1",
    severity=Severity.CRITICAL,
    alert=ACTIVE,
    told_ms=NOON,
    targets=("json://h.local/hook", "ntfy://n.local/anna"),
)


def after(state: Unacked, repeat_n: int, release_ms: int) -> Unacked:
    return replace(state, reminded=repeat_n, reminded_ms=release_ms)


def test_the_first_reminder_is_due_one_interval_after_the_recipient_was_told() -> None:
    assert reminder_due(TOLD, ANNA, NOON + 59_999, CFG) is None
    assert reminder_due(TOLD, ANNA, NOON + 60_000, CFG) == 1
    major = replace(TOLD, severity=Severity.MAJOR)
    assert reminder_due(major, ANNA, NOON + 299_999, CFG) is None
    assert reminder_due(major, ANNA, NOON + 300_000, CFG) == 1


def test_each_reminder_counts_from_the_previous_one() -> None:
    once = after(TOLD, 1, NOON + 65_000)  # the first went out a little late
    assert reminder_due(once, ANNA, NOON + 120_000, CFG) is None
    assert reminder_due(once, ANNA, NOON + 125_000, CFG) == 2


def test_a_reminder_goes_to_the_channels_that_got_the_alert_with_its_number() -> None:
    planned = remind(after(TOLD, 1, NOON + 60_000), ANNA, NOON + 120_000, CFG)
    assert [(p.target, p.kind, p.repeat_n) for p in planned] == [
        ("ntfy://n.local/anna", DeliveryKind.REMINDER, 2),
        ("json://h.local/hook", DeliveryKind.REMINDER, 2),
    ]  # not webpush:9, which never got it
    assert planned[0].title == "[CRITICAL] Reminder 2: Out of stock: TUNA"
    assert planned[0].body.endswith("reminder 2 of 3, not acknowledged yet")
    assert all(p.release_ms == NOON + 120_000 and not p.held and not p.digest for p in planned)


def test_at_most_repeat_max_reminders() -> None:
    last = after(TOLD, 3, NOON + 180_000)
    assert reminder_due(last, ANNA, NOON + 10**9, CFG) is None
    two = replace(CFG, repeat_max=2)
    assert reminder_due(after(TOLD, 2, NOON + 120_000), ANNA, NOON + 10**9, two) is None
    assert reminder_due(after(TOLD, 1, NOON + 60_000), ANNA, NOON + 10**9, two) == 2
    assert reminder_due(TOLD, ANNA, NOON + 10**9, replace(CFG, repeat_max=0)) is None


def test_acknowledged_or_cleared_alerts_are_not_reminded() -> None:
    for status in ("acknowledged", "cleared"):
        stopped = replace(TOLD, alert=replace(ACTIVE, status=status))
        assert reminder_due(stopped, ANNA, NOON + 10**9, CFG) is None
        assert remind(stopped, ANNA, NOON + 10**9, CFG) == []


def test_severities_without_an_interval_or_with_zero_are_not_repeated() -> None:
    for severity in (Severity.WARNING, Severity.INFO):
        assert reminder_due(replace(TOLD, severity=severity), ANNA, NOON + 10**9, CFG) is None
    off = PolicyConfig(repeat_every_s={Severity.CRITICAL: 0.0})
    assert reminder_due(TOLD, ANNA, NOON + 10**9, off) is None
    assert PolicyConfig().repeat_every(Severity.CRITICAL) == 300.0
    assert PolicyConfig().repeat_every(Severity.MAJOR) == 900.0
    assert PolicyConfig().repeat_every(Severity.WARNING) is None


def test_recipients_who_no_longer_want_it_are_not_reminded() -> None:
    digesting = replace(ANNA, digest_severity=Severity.MAJOR)
    major = replace(TOLD, severity=Severity.MAJOR)
    assert reminder_due(major, digesting, NOON + 10**9, CFG) is None
    picky = replace(ANNA, min_severity=Severity.CRITICAL)
    assert reminder_due(major, picky, NOON + 10**9, CFG) is None
    assert reminder_due(TOLD, replace(ANNA, active=False), NOON + 10**9, CFG) is None


def test_a_reminder_due_in_quiet_hours_is_held_to_their_end_unless_critical() -> None:
    sleepy = replace(ANNA, quiet=QuietHours(time(22, 0), time(7, 0)))
    night, morning = ms("2025-11-21T23:00:00+00:00"), ms("2025-11-22T07:00:00+00:00")
    major = replace(TOLD, severity=Severity.MAJOR, told_ms=night - 300_000)
    held = remind(major, sleepy, night, CFG)
    assert {(p.held, p.release_ms, p.repeat_n) for p in held} == {(True, morning, 1)}
    critical = remind(replace(TOLD, told_ms=night - 60_000), sleepy, night, CFG)
    assert {(p.held, p.release_ms) for p in critical} == {(False, night)}
    # the next one counts from the held one's release, so no burst at the end of the night
    assert reminder_due(after(major, 1, morning), sleepy, morning + 1, CFG) is None
    assert reminder_due(after(major, 1, morning), sleepy, morning + 300_000, CFG) == 2


def test_next_reminder_counts_from_the_later_of_told_and_the_last_reminder() -> None:
    assert next_reminder_ms(1_000, None, 2.5) == 3_500
    assert next_reminder_ms(1_000, 5_000, 2.5) == 7_500
    assert next_reminder_ms(9_000, 5_000, 2.5) == 11_500  # a later update resets the timer


def test_repeat_flags_override_the_defaults() -> None:
    pairs = [repeat_pair("critical=60"), repeat_pair("MAJOR=0"), repeat_pair("warning=1800")]
    assert repeat_every(pairs) == {
        Severity.CRITICAL: 60.0,
        Severity.MAJOR: 0.0,
        Severity.WARNING: 1800.0,
    }
    assert repeat_every([]) == {Severity.CRITICAL: 300.0, Severity.MAJOR: 900.0}


@pytest.mark.parametrize("text", ["critical", "loud=60", "critical=-1", "critical=soon"])
def test_bad_repeat_flags_are_rejected(text: str) -> None:
    with pytest.raises(NotifyConfigError):
        repeat_pair(text)


def test_bad_repeat_config_is_rejected() -> None:
    with pytest.raises(ValueError):
        PolicyConfig(repeat_max=-1)
    with pytest.raises(ValueError):
        PolicyConfig(repeat_every_s={Severity.CRITICAL: -5.0})
