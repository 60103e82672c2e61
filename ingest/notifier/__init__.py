"""shelfsense notify: alerts to phones and browsers, once, acknowledgeable, quiet at night,
repeated until acknowledged.

A process of its own (``shelfsense notify``) that reads the ``alert_events`` outbox written by
ingest's alert engine and delivers through ntfy, JSON webhooks, apprise URLs and Web Push.

    model.py        the vocabulary (events, recipients, planned deliveries)
    schedule.py     PURE  quiet hours, digest boundaries, backoff, escalation delays
    policy.py       PURE  event + recipients + now -> deliveries; escalation due
    messages.py     PURE  wording
    channels.py     Notifier seam, ChannelRouter, MemoryNotifier (the fake), mask()
    http_channels.py  ntfy + JSON webhook (httpx)   apprise_channel.py   webpush.py
    store.py, sending.py, dispatch.py   SQL: outbox in, delivery log out
    reminding.py    SQL: repeat until acknowledged (who was told, reminders once each)
    sender.py       the send pool         service.py   wiring (run_notify)   cli.py

Public surface: ``NotifyConfig`` and ``run_notify`` (imported lazily).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.notifier.config import NotifyConfig
    from ingest.notifier.service import run_notify

__all__ = ["NotifyConfig", "run_notify"]


def __getattr__(name: str) -> Any:
    if name == "NotifyConfig":
        from ingest.notifier.config import NotifyConfig

        return NotifyConfig
    if name == "run_notify":
        from ingest.notifier.service import run_notify

        return run_notify
    raise AttributeError(name)
