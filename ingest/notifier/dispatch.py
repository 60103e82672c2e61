"""Turning outbox events into deliveries: claim, decide (pure policy), write, in one transaction.

An event is marked processed in the same transaction that writes its deliveries, so a crash
either leaves both undone (the event is claimed again) or both done; the unique key on
``deliveries (alert_event_id, recipient_id, target, repeat_n)`` makes a replay harmless anyway.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ingest.notifier import policy, store
from ingest.notifier.model import AlertEvent, EventKind, Recipient
from ingest.notifier.policy import PolicyConfig, Scope
from ingest.notifier.store import Conn


def utc(now_ms: int) -> datetime:
    return datetime.fromtimestamp(now_ms / 1000, UTC)


def dispatch(conn: Conn, now_ms: int, config: PolicyConfig, limit: int) -> int:
    """Process up to ``limit`` outbox events; returns how many were claimed (0: none left)."""
    with conn.transaction():
        claimed = store.claim_events(conn, limit)
        if not claimed:
            return 0
        recipients = store.load_recipients(conn)
        for event, event_id in claimed:
            count = 0 if event is None else _one(conn, event, recipients, now_ms, config)
            store.mark_processed(conn, event_id, count)
    return len(claimed)


def _one(
    conn: Conn, event: AlertEvent, recipients: list[Recipient], now_ms: int, cfg: PolicyConfig
) -> int:
    if event.kind in (EventKind.ACKNOWLEDGED, EventKind.CLEARED):
        store.cancel_unsent(conn, event.alert_id, f"alert {event.kind} before it went out")
    told = store.told(conn, event.alert_id)
    reached = store.reached_level(conn, event.alert_id)
    planned = policy.plan(event, recipients, told, reached, now_ms, cfg)
    if event.kind is EventKind.OPENED:
        level = policy.first_level(recipients, Scope.of(event))
        store.mark_level(conn, event.alert_id, level, utc(now_ms))
    return store.insert_deliveries(conn, event.id, event.alert_id, planned)
