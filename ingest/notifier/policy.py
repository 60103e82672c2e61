"""PURE: who is told what about one outbox event, and when escalation is due.

    plan(event, recipients, told, reached_level, now_ms, config) -> list[Planned]
    next_escalation(scope, recipients, reached_level, reached_ms, now_ms, config) -> int | None
    remind(unacked, recipient, now_ms, config) -> list[Planned]     (repeat until acknowledged)

Rules (``told`` maps recipient id -> what it received about this alert, sent or on its way):
- ``opened``: the recipients of the lowest escalation level with a match (site, type, role,
  min severity) get one message per channel. Anyone already told is skipped (de-duplication).
- ``updated``: nothing, unless the severity rose above what a recipient was told; then the
  matching recipients of the levels reached so far get an "update" (or a first message, when
  the new severity is the first to pass their min severity).
- ``escalated``: the matching recipients of the level the event names.
- ``cleared``: a short "resolved" to everyone who was told; nobody else.
- ``acknowledged``: nothing (the service cancels what is still waiting to go out).
Release time: critical goes at once. Otherwise a recipient's digest severity (and below) waits
for the next digest boundary, and quiet hours hold a message until they end: held, never
dropped. Escalation: an alert still active ``escalation_delays_s[level-1]`` after reaching
``level`` goes to the next higher level that has a matching recipient.
Reminders: an alert still ``active`` (neither acknowledged nor cleared) is told again to each
recipient who was told, on the channels that got it, ``repeat_every_s[severity]`` after the
later of the last message that told them and the previous reminder, at most ``repeat_max``
times (numbered 1..repeat_max). A severity without an interval (or 0) is never repeated, nor is
one the recipient takes as a digest or no longer wants (below min severity). A reminder due in
quiet hours is held to their end unless critical.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from ingest.notifier import messages
from ingest.notifier.model import (
    AlertEvent,
    AlertInfo,
    DeliveryKind,
    EventKind,
    Planned,
    Recipient,
    Told,
    rank,
)
from ingest.notifier.schedule import (
    digest_due_ms,
    escalation_delay_s,
    next_reminder_ms,
    quiet_end_ms,
)
from shelfsense.domain import Severity

# Reminder interval per severity; a severity not listed (warning, info) is never repeated.
DEFAULT_REPEAT_EVERY_S: Mapping[Severity, float] = MappingProxyType(
    {Severity.CRITICAL: 300.0, Severity.MAJOR: 900.0}
)


def _default_repeat_every_s() -> dict[Severity, float]:
    return dict(DEFAULT_REPEAT_EVERY_S)


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    digest_every_s: float = 900.0  # digest boundaries: multiples of this since the epoch
    escalation_delays_s: tuple[float, ...] = (300.0,)  # per level; the last one repeats
    # seconds between reminders per severity; missing or 0: no reminders for that severity
    repeat_every_s: Mapping[Severity, float] = field(default_factory=_default_repeat_every_s)
    repeat_max: int = 3  # reminders per recipient and alert; 0: none

    def __post_init__(self) -> None:
        if self.digest_every_s <= 0 or not self.escalation_delays_s:
            raise ValueError("digest_every_s > 0 and at least one escalation delay")
        if min(self.escalation_delays_s) <= 0:
            raise ValueError("escalation delays must be > 0")
        if self.repeat_max < 0 or any(s < 0 for s in self.repeat_every_s.values()):
            raise ValueError("repeat_every_s values and repeat_max must be >= 0")
        if not all(isinstance(key, Severity) for key in self.repeat_every_s):
            raise ValueError("repeat_every_s keys must be severities")

    def repeat_every(self, severity: Severity) -> float | None:
        """Seconds between reminders of an alert of ``severity``; None: no reminders."""
        every_s = self.repeat_every_s.get(severity, 0.0)
        return every_s if every_s > 0 and self.repeat_max > 0 else None


@dataclass(frozen=True, slots=True)
class Scope:
    """What decides whether a recipient cares about an alert."""

    site_id: str
    alert_type: str
    severity: Severity
    roles: frozenset[str] = frozenset()  # from the event payload; empty: any role

    @classmethod
    def of(cls, event: AlertEvent) -> Scope:
        roles = event.payload.get("roles")
        wanted = frozenset(str(r) for r in roles) if isinstance(roles, list) else frozenset()
        return cls(event.site_id, event.alert.type, event.severity, wanted)


def matches(recipient: Recipient, scope: Scope) -> bool:
    return (
        recipient.active
        and recipient.site_id in (None, scope.site_id)
        and (not recipient.alert_types or scope.alert_type in recipient.alert_types)
        and (not scope.roles or recipient.role in scope.roles)
        and rank(scope.severity) >= rank(recipient.min_severity)
    )


def _levels(recipients: Iterable[Recipient], scope: Scope) -> list[int]:
    return sorted({r.escalation_level for r in recipients if matches(r, scope)})


def first_level(recipients: Iterable[Recipient], scope: Scope) -> int:
    """The level an opening goes to: the lowest with a matching recipient (1 if none)."""
    levels = _levels(recipients, scope)
    return levels[0] if levels else 1


def plan(
    event: AlertEvent,
    recipients: Sequence[Recipient],
    told: Mapping[int, Told],
    reached_level: int,
    now_ms: int,
    config: PolicyConfig,
) -> list[Planned]:
    scope = Scope.of(event)
    match event.kind:
        case EventKind.OPENED:
            levels = _levels(recipients, scope)
            chosen = [r for r in recipients if levels and r.escalation_level == levels[0]]
            pairs = [(r, DeliveryKind.ALERT) for r in chosen if r.id not in told]
        case EventKind.ESCALATED:
            chosen = [r for r in recipients if r.escalation_level == event.level]
            pairs = [(r, DeliveryKind.ESCALATION) for r in chosen if r.id not in told]
        case EventKind.UPDATED:
            pairs = _risen(event, recipients, told, reached_level)
        case EventKind.CLEARED:
            pairs = [(r, DeliveryKind.RESOLVED) for r in recipients if r.id in told]
        case EventKind.ACKNOWLEDGED:
            pairs = []
    needs_match = event.kind is not EventKind.CLEARED
    return [
        planned
        for recipient, kind in pairs
        if not needs_match or matches(recipient, scope)
        for planned in _deliveries(event, recipient, kind, now_ms, config)
    ]


def _risen(
    event: AlertEvent, recipients: Sequence[Recipient], told: Mapping[int, Told], reached: int
) -> list[tuple[Recipient, DeliveryKind]]:
    pairs = []
    for r in recipients:
        before = told.get(r.id)
        if r.escalation_level > reached:
            continue
        if before is None:
            pairs.append((r, DeliveryKind.ALERT))
        elif rank(event.severity) > rank(before.max_severity):
            pairs.append((r, DeliveryKind.UPDATE))
    return pairs


def release(
    recipient: Recipient, severity: Severity, now_ms: int, config: PolicyConfig
) -> tuple[int, bool, bool]:
    """(release_ms, held, digest) of a message of ``severity`` to ``recipient`` at ``now_ms``."""
    if severity is Severity.CRITICAL:
        return now_ms, False, False
    digest = recipient.digest_severity is not None and rank(severity) <= rank(
        recipient.digest_severity
    )
    at_ms = digest_due_ms(now_ms, config.digest_every_s) if digest else now_ms
    quiet_until = quiet_end_ms(recipient.quiet, recipient.timezone, at_ms)
    if quiet_until is not None:
        at_ms = quiet_until
    return at_ms, at_ms > now_ms, digest


def _deliveries(
    event: AlertEvent, recipient: Recipient, kind: DeliveryKind, now_ms: int, cfg: PolicyConfig
) -> list[Planned]:
    at_ms, held, digest = release(recipient, event.severity, now_ms, cfg)
    title, body = messages.title(event, kind), messages.body(event, kind)
    return [
        Planned(recipient.id, target, kind, event.severity, title, body, at_ms, held, digest)
        for target in recipient.targets
    ]


def next_escalation(
    scope: Scope,
    recipients: Sequence[Recipient],
    reached_level: int,
    reached_ms: int,
    now_ms: int,
    config: PolicyConfig,
) -> int | None:
    """The level to escalate an unacknowledged alert to now, or None (not yet, or no higher
    level has a matching recipient)."""
    if now_ms < reached_ms + escalation_delay_s(reached_level, config.escalation_delays_s) * 1000:
        return None
    higher = [level for level in _levels(recipients, scope) if level > reached_level]
    return higher[0] if higher else None


@dataclass(frozen=True, slots=True)
class Unacked:
    """One recipient who was told about one alert, as the reminder rule sees it."""

    site_id: str
    severity: Severity  # the alert's severity now
    alert: AlertInfo  # status: active | acknowledged | cleared (only active is reminded)
    told_ms: int  # the last alert / update / escalation message that reached the recipient
    targets: tuple[str, ...]  # the channels that got it
    reminded: int = 0  # reminders decided so far (the last repeat_n)
    reminded_ms: int | None = None  # release time of the last reminder


def reminder_due(
    unacked: Unacked, recipient: Recipient, now_ms: int, config: PolicyConfig
) -> int | None:
    """The repeat number (1-based) of the reminder due at ``now_ms``, or None."""
    every_s = config.repeat_every(unacked.severity)
    if every_s is None or unacked.alert.status != "active" or not _wants(recipient, unacked):
        return None
    if unacked.reminded >= config.repeat_max:
        return None
    if now_ms < next_reminder_ms(unacked.told_ms, unacked.reminded_ms, every_s):
        return None
    return unacked.reminded + 1


def _wants(recipient: Recipient, unacked: Unacked) -> bool:
    severity = rank(unacked.severity)
    digest = recipient.digest_severity is not None and severity <= rank(recipient.digest_severity)
    return recipient.active and severity >= rank(recipient.min_severity) and not digest


def remind(
    unacked: Unacked, recipient: Recipient, now_ms: int, config: PolicyConfig
) -> list[Planned]:
    """The reminder due now to ``recipient``, one per channel that got the alert ([] if none)."""
    repeat_n = reminder_due(unacked, recipient, now_ms, config)
    if repeat_n is None:
        return []
    at_ms = now_ms
    if unacked.severity is not Severity.CRITICAL:
        at_ms = quiet_end_ms(recipient.quiet, recipient.timezone, now_ms) or now_ms
    title, body = messages.reminder(
        unacked.alert, unacked.site_id, unacked.severity, repeat_n, config.repeat_max
    )
    return [
        Planned(
            recipient.id,
            target,
            DeliveryKind.REMINDER,
            unacked.severity,
            title,
            body,
            at_ms,
            held=at_ms > now_ms,
            repeat_n=repeat_n,
        )
        for target in recipient.targets
        if target in unacked.targets
    ]
