"""PURE timing rules of delivery: quiet hours, digest boundaries, retry backoff, escalation,
reminders.

Times are epoch milliseconds (UTC) in and out; quiet hours are read in the recipient's own time
zone (IANA name), so a recipient in Istanbul and one in New York are quiet at their own nights,
and daylight-saving changes move the instants, not the local hours.

    quiet_end_ms(quiet, "Europe/Istanbul", now_ms)  -> end of the quiet spell now is in, or None
    digest_due_ms(now_ms, every_s)                  -> the next digest boundary (> now)
    retry_delay_ms(attempts, base_s, cap_s)          -> base * 2**(attempts-1), capped
    next_reminder_ms(told_ms, reminded_ms, every_s)  -> when the next reminder is due
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ingest.notifier.model import QuietHours


def _local(now_ms: int, timezone: str) -> datetime:
    return datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(ZoneInfo(timezone))


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def quiet_end_ms(quiet: QuietHours | None, timezone: str, now_ms: int) -> int | None:
    """When the quiet spell containing ``now_ms`` ends (epoch ms), or None when not quiet.

    ``start <= t < end`` is quiet; across midnight (``start > end``) ``t >= start or t < end``.
    """
    if quiet is None or quiet.start == quiet.end:
        return None
    local = _local(now_ms, timezone)
    clock = local.time().replace(tzinfo=None)
    today = local.date()
    if quiet.start < quiet.end:
        inside = quiet.start <= clock < quiet.end
        end_day = today
    else:
        inside = clock >= quiet.start or clock < quiet.end
        end_day = today + timedelta(days=1) if clock >= quiet.start else today
    if not inside:
        return None
    end = datetime.combine(end_day, quiet.end, tzinfo=ZoneInfo(timezone))
    return max(_ms(end), now_ms + 1)


def digest_due_ms(now_ms: int, every_s: float) -> int:
    """The next multiple of ``every_s`` after ``now_ms`` (all recipients share boundaries)."""
    every_ms = max(1, round(every_s * 1000))
    return (now_ms // every_ms + 1) * every_ms


def retry_delay_ms(attempts: int, base_s: float, cap_s: float) -> int:
    """Wait after the ``attempts``-th failed attempt (1-based): base, 2·base, 4·base, … ≤ cap."""
    exponent = min(max(attempts - 1, 0), 30)
    return round(min(base_s * float(2**exponent), cap_s) * 1000)


def escalation_delay_s(level: int, delays_s: tuple[float, ...]) -> float:
    """How long level ``level`` has to acknowledge before the next is told; past the end of
    ``delays_s`` its last value repeats."""
    return delays_s[min(level, len(delays_s)) - 1]


def next_reminder_ms(told_ms: int, reminded_ms: int | None, every_s: float) -> int:
    """When the next reminder is due: ``every_s`` after the later of the last message that told
    the recipient (``told_ms``) and the release of the last reminder (``reminded_ms``, None
    before the first). Counting from the release keeps a reminder held by quiet hours from
    being followed at once by the next one."""
    last_ms = told_ms if reminded_ms is None else max(told_ms, reminded_ms)
    return last_ms + round(every_s * 1000)
