"""The notifier's SQL: the alert_events outbox in, the ``deliveries`` log out.

Every function takes an autocommit connection and opens its own transaction, so each step
commits on its own and a crash between steps loses nothing:

- ``claim_events`` locks unprocessed outbox rows (``FOR UPDATE SKIP LOCKED``: several notifiers
  may run), at most one per alert per round and only the alert's oldest unprocessed event, so
  an alert's events are decided in order even with several notifiers.
The sending side (``claim_due``, ``record``, escalation) is in ``ingest.notifier.sending``.
Times come from the service's clock (``now``), not the database's, so tests can move time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, time
from typing import Any

import psycopg

from ingest.notifier.channels import WEBPUSH_PREFIX, mask
from ingest.notifier.model import (
    AlertEvent,
    AlertInfo,
    DeliveryStatus,
    EventKind,
    Planned,
    QuietHours,
    Recipient,
    Told,
)
from shelfsense import alert_links
from shelfsense.domain import Severity

Conn = psycopg.Connection[tuple[Any, ...]]
CHANNEL = "shelfsense_alerts"
_SEVERITIES = "array['info','warning','major','critical']"

_EVENTS_SQL = """
select e.id, e.site_id, e.alert_id, e.event, e.severity, e.ts, e.payload,
       a.type, a.subject, a.status, a.location_id, a.sku, a.device_id, a.details
from alert_events e left join alerts a on a.id = e.alert_id
where not exists (select 1 from notify_processed p where p.alert_event_id = e.id)
  and not exists (select 1 from alert_events o
                  where o.alert_id = e.alert_id and o.id < e.id
                    and not exists (select 1 from notify_processed q where q.alert_event_id = o.id))
order by e.id
limit %s
for update of e skip locked
"""
_TOLD_SQL = f"""
select recipient_id, ({_SEVERITIES})[max(array_position({_SEVERITIES}, severity))]
from deliveries
where alert_id = %s and status in ('pending', 'held', 'sending', 'failed', 'sent')
  and kind <> 'reminder'
group by recipient_id
"""
_CANCEL_SQL = """
update deliveries set status = 'cancelled', last_error = %s
where alert_id = %s and kind <> 'resolved' and status in ('pending', 'held', 'failed')
"""
_INSERT_DELIVERY_SQL = """
insert into deliveries (alert_event_id, alert_id, recipient_id, kind, severity, title, body,
                        channel, target, digest, status, next_attempt_at, repeat_n)
values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
on conflict (alert_event_id, recipient_id, target, repeat_n) do nothing
"""
_RECIPIENTS_SQL = """
select r.id, r.name, r.site_id, r.role, r.escalation_level, r.min_severity, r.alert_types,
       r.channels, r.timezone, r.quiet_start, r.quiet_end, r.digest_severity,
       coalesce(array_agg(w.id order by w.id) filter (where w.id is not null), '{}')
from recipients r left join webpush_subscriptions w on w.recipient_id = r.id
where r.active
group by r.id
order by r.id
"""


def secret(conn: Conn, name: str) -> str:
    """The secret ``name``, created on first use (whoever inserts first wins)."""
    with conn.transaction():
        conn.execute(alert_links.INSERT_SECRET_SQL, (name, alert_links.new_secret(name)))
        row = conn.execute(alert_links.SELECT_SECRET_SQL, (name,)).fetchone()
    assert row is not None
    return str(row[0])


def load_recipients(conn: Conn) -> list[Recipient]:
    return [_recipient(row) for row in conn.execute(_RECIPIENTS_SQL)]


def _recipient(row: Sequence[Any]) -> Recipient:
    start: time | None = row[9]
    end: time | None = row[10]
    webpush = tuple(f"{WEBPUSH_PREFIX}{sub_id}" for sub_id in row[12])
    return Recipient(
        id=int(row[0]),
        name=str(row[1]),
        site_id=row[2],
        role=str(row[3]),
        escalation_level=int(row[4]),
        min_severity=Severity(row[5]),
        alert_types=frozenset(row[6]),
        targets=tuple(row[7]) + webpush,
        timezone=str(row[8]),
        quiet=QuietHours(start, end) if start is not None and end is not None else None,
        digest_severity=Severity(row[11]) if row[11] else None,
    )


def claim_events(conn: Conn, limit: int) -> list[tuple[AlertEvent | None, int]]:
    """Lock up to ``limit`` outbox events (call inside a transaction). Each comes back as
    (event, id); event is None when its alert row is missing or its kind unknown."""
    return [(_event(row), int(row[0])) for row in conn.execute(_EVENTS_SQL, (limit,))]


def _event(row: Sequence[Any]) -> AlertEvent | None:
    if row[7] is None or row[3] not in EventKind.__members__.values():
        return None
    payload = row[6] if isinstance(row[6], Mapping) else {}
    alert = AlertInfo(str(row[7]), str(row[8]), str(row[9]), row[10], row[11], row[12], row[13])
    ts_ms = int(row[5].timestamp() * 1000)
    return AlertEvent(
        int(row[0]),
        str(row[1]),
        int(row[2]),
        EventKind(row[3]),
        Severity(row[4]),
        ts_ms,
        alert,
        payload,
    )


def told(conn: Conn, alert_id: int) -> dict[int, Told]:
    rows = conn.execute(_TOLD_SQL, (alert_id,))
    return {int(r[0]): Told(Severity(r[1])) for r in rows}


def cancel_unsent(conn: Conn, alert_id: int, reason: str) -> None:
    conn.execute(_CANCEL_SQL, (reason, alert_id))


def reached_level(conn: Conn, alert_id: int) -> int:
    row = conn.execute(
        "select max(level) from notify_escalations where alert_id = %s", (alert_id,)
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else 1


def mark_level(conn: Conn, alert_id: int, level: int, now: datetime) -> bool:
    """Record that ``alert_id`` reached ``level``; False when it already had."""
    row = conn.execute(
        "insert into notify_escalations (alert_id, level, reached_at) values (%s, %s, %s) "
        "on conflict do nothing returning level",
        (alert_id, level, now),
    ).fetchone()
    return row is not None


def insert_deliveries(conn: Conn, event_id: int, alert_id: int, planned: Iterable[Planned]) -> int:
    """Queue ``planned`` (of outbox event ``event_id``, or the one a reminder repeats); a
    delivery already queued (same event, recipient, target, repeat number) is skipped."""
    rows = [
        (
            event_id,
            alert_id,
            p.recipient_id,
            str(p.kind),
            str(p.severity),
            p.title,
            p.body,
            mask(p.target),
            p.target,
            p.digest,
            str(DeliveryStatus.HELD if p.held else DeliveryStatus.PENDING),
            datetime.fromtimestamp(p.release_ms / 1000, UTC),
            p.repeat_n,
        )
        for p in planned
    ]
    with conn.cursor() as cur:
        cur.executemany(_INSERT_DELIVERY_SQL, rows)
    return len(rows)


def mark_processed(conn: Conn, event_id: int, deliveries: int) -> None:
    conn.execute(
        "insert into notify_processed (alert_event_id, deliveries) values (%s, %s) "
        "on conflict do nothing",
        (event_id, deliveries),
    )
