"""Typed configuration of ``shelfsense notify``, built once in ``cli.run`` and passed down.

Tests shorten every timer here (``poll_s``, ``retry_base_s``, the policy's escalation delays
and reminder intervals).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ingest.notifier.channels import NotifyConfigError
from ingest.notifier.policy import DEFAULT_REPEAT_EVERY_S, PolicyConfig
from shelfsense.domain import Severity


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    database_url: str
    public_url: str | None = None  # API base for acknowledgement links; None: no links
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    poll_s: float = 2.0  # outbox safety net when no NOTIFY arrives
    tick_s: float = 0.5  # due deliveries and escalations are checked this often
    batch_max: int = 200  # outbox events or deliveries claimed at once
    send_workers: int = 8  # concurrent sends (a slow channel occupies one)
    http_timeout_s: float = 10.0
    lease_s: float = 120.0  # a claimed delivery returns to the pool after this (crash)
    retry_base_s: float = 5.0  # backoff: base · 2^(attempt-1), capped
    retry_cap_s: float = 600.0
    max_attempts: int = 8  # then the delivery is dead
    ack_link_ttl_s: int = 7 * 24 * 3600
    vapid_subject: str = "mailto:alerts@shelfsense.example.com"

    def __post_init__(self) -> None:
        positive = {
            "poll_s": self.poll_s,
            "tick_s": self.tick_s,
            "batch_max": self.batch_max,
            "send_workers": self.send_workers,
            "http_timeout_s": self.http_timeout_s,
            "retry_base_s": self.retry_base_s,
            "max_attempts": self.max_attempts,
            "ack_link_ttl_s": self.ack_link_ttl_s,
        }
        for name, value in positive.items():
            if value <= 0:
                raise NotifyConfigError(f"{name} must be > 0, got {value}")
        if self.lease_s <= self.http_timeout_s:
            raise NotifyConfigError("lease_s must exceed http_timeout_s")
        if self.retry_cap_s < self.retry_base_s:
            raise NotifyConfigError("retry_cap_s must be >= retry_base_s")
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            raise NotifyConfigError("public_url must be an http:// or https:// URL")

    def ack_base(self) -> str | None:
        return f"{self.public_url.rstrip('/')}/api/v1/ack/" if self.public_url else None


def repeat_pair(text: str) -> tuple[Severity, float]:
    """``"critical=120"`` -> (Severity.CRITICAL, 120.0); seconds >= 0 (0: no reminders)."""
    name, sep, value = text.partition("=")
    try:
        severity, seconds = Severity(name.strip().lower()), float(value)
    except ValueError:
        seconds = -1.0
    if not sep or seconds < 0:
        choices = "|".join(Severity)
        raise NotifyConfigError(f"expected {choices}=SECONDS (>= 0), got {text!r}")
    return severity, seconds


def repeat_every(pairs: Iterable[tuple[Severity, float]]) -> dict[Severity, float]:
    """The default reminder intervals with ``pairs`` applied in order (the last one wins)."""
    return dict(DEFAULT_REPEAT_EVERY_S) | dict(pairs)
