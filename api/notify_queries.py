"""SQL of the notification routes (recipients, Web Push subscriptions, acknowledgement links).

Secrets come from ``notify_secrets`` through the shared statements of ``shelfsense.alert_links``
(the notifier creates them too; whoever comes first wins). Acknowledging is one transaction:
the alert moves ``active -> acknowledged`` only if it is still active (so a link works once),
an ``acknowledged`` event goes into the ``alert_events`` outbox and ``NOTIFY shelfsense_alerts``
wakes the notifier, which cancels what is still waiting to go out and stops escalation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from psycopg.types.json import Jsonb

from api.db import Connection
from shelfsense import alert_links

RECIPIENT_COLUMNS = """r.id, r.site_id, r.name, r.role, r.escalation_level, r.min_severity,
r.alert_types, r.channels, r.timezone, r.quiet_start, r.quiet_end, r.digest_severity,
r.token_id, r.active, r.created_at, r.updated_at,
(select count(*) from webpush_subscriptions w where w.recipient_id = r.id) as webpush_subscriptions
"""
RECIPIENT_FIELDS = (
    "site_id, name, role, escalation_level, min_severity, alert_types, channels, timezone, "
    "quiet_start, quiet_end, digest_severity, token_id, active"
)
_ACK_SQL = """
update alerts set status = 'acknowledged', acked_at = now(), acked_by = %s
where id = %s and status = 'active'
returning site_id, severity
"""
_ACK_EVENT_SQL = """
insert into alert_events (site_id, alert_id, event, severity, ts, created_at, payload)
values (%s, %s, 'acknowledged', %s, now(), now(), %s) returning id
"""


async def secret(conn: Connection, name: str) -> str:
    async with conn.transaction():
        await conn.execute(alert_links.INSERT_SECRET_SQL, (name, alert_links.new_secret(name)))
        cur = await conn.execute(alert_links.SELECT_SECRET_SQL, (name,))
        row = await cur.fetchone()
    assert row is not None
    return str(row[0])


@dataclass(frozen=True, slots=True)
class AlertBrief:
    id: int
    site_id: str
    type: str
    subject: str
    severity: str
    status: str
    acked_by: str | None


async def alert_brief(conn: Connection, alert_id: int) -> AlertBrief | None:
    cur = await conn.execute(
        "select id, site_id, type, subject, severity, status, acked_by from alerts where id = %s",
        (alert_id,),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return AlertBrief(
        int(str(row[0])),
        str(row[1]),
        str(row[2]),
        str(row[3]),
        str(row[4]),
        str(row[5]),
        None if row[6] is None else str(row[6]),
    )


async def recipient_name(conn: Connection, recipient_id: int) -> str | None:
    cur = await conn.execute("select name from recipients where id = %s", (recipient_id,))
    row = await cur.fetchone()
    return None if row is None else str(row[0])


async def acknowledge(conn: Connection, alert_id: int, recipient_id: int, by: str) -> bool:
    """True when this call acknowledged the alert; False when it was not active any more."""
    async with conn.transaction():
        cur = await conn.execute(_ACK_SQL, (by, alert_id))
        row = await cur.fetchone()
        if row is None:
            return False
        payload = Jsonb({"by": by, "recipient_id": recipient_id, "via": "link"})
        cur = await conn.execute(_ACK_EVENT_SQL, (row[0], alert_id, row[1], payload))
        event = await cur.fetchone()
        assert event is not None
        note = json.dumps({"site": str(row[0]), "event_id": int(str(event[0]))})
        await conn.execute("select pg_notify('shelfsense_alerts', %s)", (note,))
    return True
