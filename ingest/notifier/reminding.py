"""Repeat until acknowledged, the SQL side: who was told about which still-active alert, and the
reminders decided for them.

- ``candidates`` reads, for every active alert of a severity that repeats, each recipient whose
  alert / update / escalation message was sent (digests excepted): when it was last told, on
  which channels, and how many reminders it had (``notify_reminders``).
- ``record`` writes one reminder: a ``notify_reminders`` row keyed (alert, recipient,
  repeat_n), and only if that row is new (and the alert is still active) its deliveries, in one
  transaction. Several notifiers, or one restarted, therefore never send a reminder twice.
The pure decision (is one due, held by quiet hours?) is ``ingest.notifier.policy.remind``.
Acknowledging or clearing stops reminders: the alert leaves ``active``, so no candidate, and
the sending side cancels a reminder that is still waiting (``sending.claim_due``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ingest.notifier import store
from ingest.notifier.model import AlertInfo, Planned
from ingest.notifier.policy import PolicyConfig, Unacked
from ingest.notifier.store import Conn
from shelfsense.domain import Severity

_CANDIDATES_SQL = """
with told as (
    select d.alert_id, d.recipient_id, max(d.sent_at) as told_at,
           (array_agg(d.alert_event_id order by d.sent_at desc))[1] as event_id,
           array_agg(distinct d.target) as targets
    from deliveries d join alerts a on a.id = d.alert_id
    where a.status = 'active' and a.severity = any(%s)
      and d.status = 'sent' and not d.digest and d.kind in ('alert', 'update', 'escalation')
    group by d.alert_id, d.recipient_id)
select t.alert_id, t.recipient_id, t.event_id, t.told_at, t.targets,
       coalesce(r.repeat_n, 0), r.release_at, a.site_id, a.severity,
       a.type, a.subject, a.status, a.location_id, a.sku, a.device_id, a.details
from told t join alerts a on a.id = t.alert_id
left join lateral (select repeat_n, release_at from notify_reminders n
                   where n.alert_id = t.alert_id and n.recipient_id = t.recipient_id
                   order by repeat_n desc limit 1) r on true
where coalesce(r.repeat_n, 0) < %s
order by t.alert_id, t.recipient_id
"""
_GUARD_SQL = """
insert into notify_reminders (alert_id, recipient_id, repeat_n, release_at)
select %s, %s, %s, %s
where exists (select 1 from alerts where id = %s and status = 'active')
on conflict do nothing
returning repeat_n
"""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A recipient told about an active alert; ``event_id`` is the outbox event of the last
    message that told it (reminder deliveries point at it)."""

    alert_id: int
    recipient_id: int
    event_id: int
    unacked: Unacked


def candidates(conn: Conn, config: PolicyConfig) -> list[Candidate]:
    """Recipients of active alerts that may be due a reminder ([] when nothing repeats)."""
    severities = [str(s) for s in Severity if config.repeat_every(s) is not None]
    if not severities:
        return []
    rows = conn.execute(_CANDIDATES_SQL, (severities, config.repeat_max)).fetchall()
    return [_candidate(row) for row in rows]


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def _candidate(row: Sequence[Any]) -> Candidate:
    alert = AlertInfo(str(row[9]), str(row[10]), str(row[11]), row[12], row[13], row[14], row[15])
    told_ms = _ms(row[3])
    assert told_ms is not None  # sent deliveries always have sent_at
    unacked = Unacked(
        site_id=str(row[7]),
        severity=Severity(row[8]),
        alert=alert,
        told_ms=told_ms,
        targets=tuple(sorted(row[4])),
        reminded=int(row[5]),
        reminded_ms=_ms(row[6]),
    )
    return Candidate(int(row[0]), int(row[1]), int(row[2]), unacked)


def record(conn: Conn, candidate: Candidate, planned: Sequence[Planned]) -> bool:
    """Queue one reminder (``planned``: its deliveries, one per channel, same repeat_n);
    False when another notifier already did or the alert is no longer active."""
    first = planned[0]
    release = datetime.fromtimestamp(first.release_ms / 1000, UTC)
    guard = (candidate.alert_id, candidate.recipient_id, first.repeat_n, release)
    with conn.transaction():
        if conn.execute(_GUARD_SQL, (*guard, candidate.alert_id)).fetchone() is None:
            return False
        store.insert_deliveries(conn, candidate.event_id, candidate.alert_id, planned)
    return True
