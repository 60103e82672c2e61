"""The sending side's SQL: lease due deliveries, record outcomes, escalate.

- ``claim_due`` leases due deliveries (status ``sending`` until ``now + lease``, ``FOR UPDATE
  SKIP LOCKED``); a notifier that dies mid-send leaves the lease to expire and another sends
  again (at least once). A reminder whose alert was acknowledged or cleared meanwhile is
  cancelled instead, even before the ``acknowledged`` / ``cleared`` event is dispatched.
- ``record`` writes one attempt's outcome: ``sent``; ``failed`` with ``next_attempt_at`` after a
  backoff; ``dead`` after ``max_attempts`` or at once for a GONE answer. A Web Push target that
  is GONE loses its subscription row.
- ``escalate`` moves an alert to a higher level once (``notify_escalations`` is the guard) and
  writes an ``escalated`` event into the outbox, which the ordinary path then delivers.
Every function opens its own transaction on an autocommit connection.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from ingest.notifier.channels import WEBPUSH_PREFIX, Outcome, SendResult, Subscription
from ingest.notifier.model import DeliveryKind, DeliveryStatus
from ingest.notifier.schedule import retry_delay_ms
from ingest.notifier.store import CHANNEL, Conn
from shelfsense.domain import Severity

log = logging.getLogger(__name__)

_CANCEL_ORPHANS_SQL = """
update deliveries d set status = 'cancelled', last_error = 'recipient deactivated'
from recipients r
where r.id = d.recipient_id and not r.active
  and d.status in ('pending', 'held', 'failed', 'sending') and d.next_attempt_at <= %s
"""
_CANCEL_STALE_REMINDERS_SQL = """
update deliveries d
set status = 'cancelled', last_error = 'alert ' || a.status || ' before it went out'
from alerts a
where a.id = d.alert_id and a.status <> 'active' and d.kind = 'reminder'
  and d.status in ('pending', 'held', 'failed', 'sending') and d.next_attempt_at <= %s
"""
_CLAIM_SQL = """
with due as (
    select d.id from deliveries d
    where d.status in ('pending', 'held', 'failed', 'sending') and d.next_attempt_at <= %s
    order by d.next_attempt_at
    limit %s
    for update skip locked)
update deliveries d set status = 'sending', next_attempt_at = %s
from due where d.id = due.id
returning d.id, d.alert_id, d.recipient_id, d.kind, d.severity, d.title, d.body, d.target,
          d.digest, d.attempts
"""
_SUBSCRIPTIONS_SQL = (
    "select id, endpoint, p256dh, auth from webpush_subscriptions where id = any(%s)"
)
_RESULT_SQL = """
update deliveries set status = %s, attempts = attempts + 1, next_attempt_at = %s,
       last_error = %s, sent_at = %s
where id = any(%s)
"""
_CANDIDATES_SQL = """
select a.id, a.site_id, a.type, a.severity, e.level, e.reached_at
from alerts a
join lateral (select level, reached_at from notify_escalations n
              where n.alert_id = a.id order by level desc limit 1) e on true
where a.status = 'active'
"""
_ESCALATED_EVENT_SQL = """
insert into alert_events (site_id, alert_id, event, severity, ts, created_at, payload)
values (%s, %s, 'escalated', %s, %s, %s, %s) returning id
"""


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery leased for sending."""

    id: int
    alert_id: int
    recipient_id: int
    kind: DeliveryKind
    severity: Severity
    title: str
    body: str
    target: str
    digest: bool
    attempts: int  # before this one
    subscription: Subscription | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """An active alert with the escalation level it reached and when."""

    alert_id: int
    site_id: str
    alert_type: str
    severity: Severity
    level: int
    reached_at: datetime


def claim_due(conn: Conn, now: datetime, limit: int, lease_s: float) -> list[Claimed]:
    with conn.transaction():
        conn.execute(_CANCEL_ORPHANS_SQL, (now,))
        conn.execute(_CANCEL_STALE_REMINDERS_SQL, (now,))
        rows = conn.execute(_CLAIM_SQL, (now, limit, now + timedelta(seconds=lease_s))).fetchall()
        subs = _subscriptions(conn, [str(r[7]) for r in rows])
    return [_claimed(row, subs) for row in rows]


def _subscriptions(conn: Conn, targets: Sequence[str]) -> dict[str, Subscription]:
    ids = [int(t.removeprefix(WEBPUSH_PREFIX)) for t in targets if t.startswith(WEBPUSH_PREFIX)]
    if not ids:
        return {}
    rows = conn.execute(_SUBSCRIPTIONS_SQL, (ids,))
    subs = (Subscription(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows)
    return {f"{WEBPUSH_PREFIX}{s.id}": s for s in subs}


def _claimed(row: Sequence[Any], subs: dict[str, Subscription]) -> Claimed:
    return Claimed(
        int(row[0]),
        int(row[1]),
        int(row[2]),
        DeliveryKind(row[3]),
        Severity(row[4]),
        str(row[5]),
        str(row[6]),
        str(row[7]),
        bool(row[8]),
        int(row[9]),
        subs.get(str(row[7])),
    )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_s: float
    cap_s: float
    max_attempts: int


def record(
    conn: Conn, batch: Sequence[Claimed], result: SendResult, now: datetime, retry: RetryPolicy
) -> DeliveryStatus:
    """Write the outcome of one send (a digest covers several deliveries); returns the status."""
    attempts = max(c.attempts for c in batch) + 1
    status, next_at, error = _next_state(result, attempts, now, retry)
    ids = [c.id for c in batch]
    sent_at = now if status is DeliveryStatus.SENT else None
    with conn.transaction():
        conn.execute(_RESULT_SQL, (str(status), next_at, error, sent_at, ids))
        if result.outcome is Outcome.GONE:
            _drop_subscriptions(conn, batch, result)
    if status is DeliveryStatus.DEAD:
        log.warning("deliveries %s are dead after %d attempts: %s", ids, attempts, error)
    return status


def _next_state(
    result: SendResult, attempts: int, now: datetime, retry: RetryPolicy
) -> tuple[DeliveryStatus, datetime, str | None]:
    match result.outcome:
        case Outcome.SENT:
            return DeliveryStatus.SENT, now, None
        case Outcome.GONE:
            return DeliveryStatus.DEAD, now, result.detail
        case Outcome.RETRY if attempts >= retry.max_attempts:
            return DeliveryStatus.DEAD, now, f"gave up after {attempts} attempts: {result.detail}"
        case Outcome.RETRY:
            delay_ms = retry_delay_ms(attempts, retry.base_s, retry.cap_s)
            return DeliveryStatus.FAILED, now + timedelta(milliseconds=delay_ms), result.detail


def _drop_subscriptions(conn: Conn, batch: Sequence[Claimed], result: SendResult) -> None:
    for claimed in batch:
        if claimed.subscription is not None:
            conn.execute(
                "delete from webpush_subscriptions where id = %s", (claimed.subscription.id,)
            )
            log.warning(
                "removed Web Push subscription %d of recipient %d: %s",
                claimed.subscription.id,
                claimed.recipient_id,
                result.detail,
            )


def candidates(conn: Conn) -> list[Candidate]:
    rows = conn.execute(_CANDIDATES_SQL).fetchall()
    return [
        Candidate(int(r[0]), str(r[1]), str(r[2]), Severity(r[3]), int(r[4]), r[5]) for r in rows
    ]


def escalate(conn: Conn, candidate: Candidate, level: int, now: datetime) -> int | None:
    """Move the alert to ``level`` and queue an ``escalated`` event; None if another notifier
    already did."""
    with conn.transaction():
        row = conn.execute(
            "insert into notify_escalations (alert_id, level, reached_at) values (%s, %s, %s) "
            "on conflict do nothing returning level",
            (candidate.alert_id, level, now),
        ).fetchone()
        if row is None:
            return None
        payload = Jsonb({"level": level, "from_level": candidate.level})
        params = (candidate.site_id, candidate.alert_id, str(candidate.severity), now, now, payload)
        event = conn.execute(_ESCALATED_EVENT_SQL, params).fetchone()
        assert event is not None
        note = json.dumps({"site": candidate.site_id, "event_id": int(event[0])})
        conn.execute("select pg_notify(%s, %s)", (CHANNEL, note))
    return int(event[0])
