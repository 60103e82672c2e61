"""The notifier's vocabulary: outbox events, recipients, and the deliveries decided for them.

All times are integer epoch milliseconds (UTC). Everything here is a frozen value; the pure
policy (``ingest.notifier.policy``) maps these to ``Planned`` deliveries and the service writes
them to the ``deliveries`` table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum
from typing import Any

from shelfsense.domain import Severity

SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.MAJOR: 2, Severity.CRITICAL: 3}


def rank(severity: Severity) -> int:
    return SEVERITY_RANK[severity]


class EventKind(StrEnum):
    """``alert_events.event``: one state change of an alert."""

    OPENED = "opened"
    UPDATED = "updated"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"
    ESCALATED = "escalated"


class DeliveryKind(StrEnum):
    ALERT = "alert"  # the first message about an alert to this recipient
    UPDATE = "update"  # its severity rose since this recipient was told
    ESCALATION = "escalation"  # nobody acknowledged in time: a higher level is told
    RESOLVED = "resolved"  # the condition cleared
    REMINDER = "reminder"  # still neither acknowledged nor cleared: told again (repeat_n >= 1)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    HELD = "held"
    SENDING = "sending"
    FAILED = "failed"
    SENT = "sent"
    DEAD = "dead"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class AlertInfo:
    """The alert an event is about, as its row reads when the event is processed."""

    type: str
    subject: str
    status: str  # active | acknowledged | cleared
    location_id: str | None = None
    sku: str | None = None
    device_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertEvent:
    id: int
    site_id: str
    alert_id: int
    kind: EventKind
    severity: Severity
    ts_ms: int  # event time of the change
    alert: AlertInfo
    payload: Mapping[str, Any] = field(default_factory=dict)

    @property
    def level(self) -> int:
        """The escalation level an ``escalated`` event names (1 for every other event)."""
        value = self.payload.get("level", 1)
        return value if isinstance(value, int) and value >= 1 else 1


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local wall-clock hours in which only critical alerts go out; ``start > end`` spans
    midnight (22:00-07:00); ``start == end`` is never quiet."""

    start: time
    end: time


@dataclass(frozen=True, slots=True)
class Recipient:
    id: int
    name: str
    site_id: str | None = None  # None: every site
    role: str = "staff"
    escalation_level: int = 1
    min_severity: Severity = Severity.WARNING
    alert_types: frozenset[str] = frozenset()  # empty: every type
    targets: tuple[str, ...] = ()  # channel URLs and webpush:ID
    timezone: str = "UTC"
    quiet: QuietHours | None = None
    digest_severity: Severity | None = None  # alerts at or below this go in a digest
    active: bool = True


@dataclass(frozen=True, slots=True)
class Told:
    """What one recipient has received (sent or on its way) about one alert."""

    max_severity: Severity


@dataclass(frozen=True, slots=True)
class Planned:
    """One delivery decided by the policy: a message to one target of one recipient."""

    recipient_id: int
    target: str
    kind: DeliveryKind
    severity: Severity
    title: str
    body: str
    release_ms: int  # not before this instant (== now: at once)
    held: bool = False  # delayed by quiet hours or a digest
    digest: bool = False
    repeat_n: int = 0  # 0: not a reminder; n >= 1: the n-th reminder
