"""The seam to the outside world: ``Notifier.send(target, message) -> SendResult``.

One implementation per channel family (``ingest.notifier.http_channels``: ntfy and JSON
webhooks over httpx; ``apprise_channel``: everything apprise knows; ``webpush``: browsers),
``ChannelRouter`` picking one by URL scheme, and ``MemoryNotifier``, the in-memory fake tests
and benchmarks own. A channel never raises for a delivery problem: it answers

    SENT    the far end took the message
    RETRY   a transient failure (timeout, 5xx, 429): try again after a backoff
    GONE    it can never work (expired push subscription, 4xx, unknown URL): give up now

Errors of this package (``NotifyError`` tree):
    NotifyError
    ├── NotifyConfigError   bad configuration (raised at start)
    └── ChannelError        a target URL cannot be used (unknown scheme, malformed)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ingest.notifier.model import DeliveryKind
from shelfsense.alert_links import WEBPUSH_PREFIX
from shelfsense.alert_links import mask_channel as mask
from shelfsense.domain import Severity

__all__ = [
    "WEBPUSH_PREFIX",
    "ChannelError",
    "ChannelRouter",
    "MemoryNotifier",
    "Message",
    "Notifier",
    "NotifyConfigError",
    "NotifyError",
    "Outcome",
    "SendResult",
    "Subscription",
    "Target",
    "mask",
]


class NotifyError(Exception):
    """Base of the notifier's errors."""


class NotifyConfigError(NotifyError, ValueError):
    """A configuration value is unusable."""


class ChannelError(NotifyError):
    """A target URL cannot be used."""


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    GONE = "gone"


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    detail: str = ""  # what went wrong, for the delivery log (never a secret)


SENT = SendResult(Outcome.SENT)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A browser's Web Push subscription (``PushSubscription.toJSON()``)."""

    id: int
    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True, slots=True)
class Target:
    url: str  # a channel URL, or webpush:ID
    subscription: Subscription | None = None  # set for webpush:ID while it exists


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str
    severity: Severity
    kind: DeliveryKind
    alert_id: int
    ack_url: str | None = None  # a signed link that acknowledges the alert (POST)


class Notifier(Protocol):
    def send(self, target: Target, message: Message) -> SendResult: ...


def scheme(url: str) -> str:
    return url.split(":", 1)[0].lower() if ":" in url else ""


class ChannelRouter:
    """A ``Notifier`` that hands each target to the channel for its URL scheme."""

    def __init__(self, routes: dict[str, Notifier], fallback: Notifier | None = None) -> None:
        self._routes = routes
        self._fallback = fallback

    def send(self, target: Target, message: Message) -> SendResult:
        channel = self._routes.get(scheme(target.url), self._fallback)
        if channel is None:
            return SendResult(Outcome.GONE, f"no channel for {scheme(target.url)!r} URLs")
        return channel.send(target, message)


@dataclass(frozen=True, slots=True)
class Sent:
    target: Target
    message: Message


class MemoryNotifier:
    """The fake: records every message; ``fail_next(n, outcome)`` makes the next n sends fail.
    Thread-safe (the service sends from worker threads)."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self._failures: list[SendResult] = []
        self._lock = threading.Lock()
        self.delivered = threading.Condition(self._lock)

    def fail_next(self, count: int, outcome: Outcome = Outcome.RETRY) -> None:
        with self._lock:
            self._failures.extend([SendResult(outcome, "fake failure")] * count)

    def send(self, target: Target, message: Message) -> SendResult:
        with self._lock:
            if self._failures:
                return self._failures.pop(0)
            self.sent.append(Sent(target, message))
            self.delivered.notify_all()
            return SENT
