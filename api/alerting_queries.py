"""SQL of the alerting, lots and cold-chain routes -> typed rows.

Acknowledging and clearing by hand write the ``alerts`` row, one ``alert_events`` outbox row and
``NOTIFY shelfsense_alerts`` in one transaction, as ingest does for its own changes. Both are
idempotent: acknowledging an acknowledged alert or clearing a cleared one changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from psycopg.rows import kwargs_row
from psycopg.types.json import Jsonb

from api.alerting_models import AlertDetail, AlertEventRow, AlertRuleOut, ExpiryRow, LotOut, MktOut
from api.db import Connection
from api.queries import fetch
from shelfsense import lots
from shelfsense.alerting import (
    ALERTS_CHANNEL,
    RULE_SPECS,
    AlertType,
    check_override,
    effective_rules,
)
from shelfsense.lots import Known, Receipt, expires_at_ms, lot_status
from shelfsense.mkt import mean_kinetic_temperature

_DAY_MS = 86_400_000


def _text(value: object) -> str | None:
    return None if value is None else str(value)


DETAIL_COLUMNS = """id, type, severity, location_id as location, sku, status, opened_at, details,
    subject, device_id as device, lot_id, updated_at, acked_at, acked_by, cleared_at, cleared_by,
    updates"""


async def alert_detail(conn: Connection, site: str, alert_id: int) -> AlertDetail | None:
    query = f"select {DETAIL_COLUMNS} from alerts where site_id = %(site)s and id = %(id)s"
    rows = await fetch(conn, AlertDetail, query, {"site": site, "id": alert_id})
    if not rows:
        return None
    events = await fetch(
        conn,
        AlertEventRow,
        "select id, event, severity, ts, created_at from alert_events"
        " where alert_id = %(id)s order by id",
        {"id": alert_id},
    )
    return rows[0].model_copy(update={"events": events})


_ACK_SQL = """update alerts set status = 'acknowledged', acked_at = now(), acked_by = %s
    where site_id = %s and id = %s and status = 'active' returning severity"""
_CLEAR_SQL = """update alerts set status = 'cleared', cleared_at = now(), updated_at = now(),
    cleared_by = %s where site_id = %s and id = %s and status <> 'cleared' returning severity"""


async def change_status(conn: Connection, site: str, alert_id: int, event: str, by: str) -> bool:
    """``acknowledged`` or ``cleared`` by ``by``; False when the alert was not in a state to."""
    sql = _ACK_SQL if event == "acknowledged" else _CLEAR_SQL
    async with conn.transaction():
        cur = await conn.execute(sql, (by, site, alert_id))
        row = await cur.fetchone()
        if row is None:
            return False
        cur = await conn.execute(
            """insert into alert_events (site_id, alert_id, event, severity, ts, payload)
               values (%s, %s, %s, %s, now(), %s) returning id""",
            (site, alert_id, event, row[0], Jsonb({"by": by, "status": event})),
        )
        inserted = await cur.fetchone()
        assert inserted is not None
        notice = json.dumps({"site": site, "event_id": int(str(inserted[0]))})
        await conn.execute("select pg_notify(%s, %s)", (ALERTS_CHANNEL, notice))
    return True


# -- rules ------------------------------------------------------------------------------------
async def _overrides(conn: Connection, site: str) -> dict[str, tuple[bool, Mapping[str, Any]]]:
    cur = await conn.execute(
        "select rule_key, enabled, params from alert_rules where site_id = %s", (site,)
    )
    return {str(r[0]): (bool(r[1]), r[2] or {}) for r in await cur.fetchall()}  # type: ignore[misc]


async def rules(conn: Connection, site: str) -> list[AlertRuleOut]:
    overrides = await _overrides(conn, site)
    effective = effective_rules(overrides)
    return [
        AlertRuleOut(
            key=str(spec.type),
            description=spec.description,
            enabled=effective[spec.type].enabled,
            params=dict(effective[spec.type].params),
            defaults=dict(spec.defaults),
            overrides=dict(overrides.get(str(spec.type), (True, {}))[1]),
        )
        for spec in RULE_SPECS
    ]


async def put_rules(conn: Connection, site: str, wanted: Mapping[str, tuple[bool, Any]]) -> None:
    """Replace the overrides of the named rules; RuleError (nothing written) on any bad one."""
    checked = [check_override(key, enabled, params) for key, (enabled, params) in wanted.items()]
    async with conn.transaction():
        for kind, enabled, params in checked:
            await conn.execute(
                """insert into alert_rules (site_id, rule_key, enabled, params, updated_at)
                   values (%s, %s, %s, %s, now()) on conflict (site_id, rule_key) do update
                   set enabled = excluded.enabled, params = excluded.params, updated_at = now()""",
                (site, str(kind), enabled, Jsonb(params)),
            )


# -- lots -------------------------------------------------------------------------------------
async def receive(conn: Connection, site: str, receipt: Receipt) -> int:
    """Async twin of ``shelfsense.lots.receive_lot`` (same SQL, same checks, one transaction)."""
    async with conn.transaction():
        params = lots.lookup_params(site, receipt)
        product = await (await conn.execute(lots.PRODUCT_SQL, params)).fetchone()
        located = True
        if receipt.location is not None:
            located = await (await conn.execute(lots.LOCATION_SQL, params)).fetchone() is not None
        cur = await conn.execute(lots.EPC_LOTS_SQL, params)
        owners = {str(r[0]): int(str(r[1])) for r in await cur.fetchall()}
        found = (str(product[0]), _text(product[1])) if product else None
        known = Known(found, located, owners)
        error = lots.receipt_problems(receipt, known)
        if error is not None:
            raise error
        assert known.product is not None
        insert = lots.insert_params(site, receipt, *known.product)
        row = await (await conn.execute(lots.INSERT_LOT_SQL, insert)).fetchone()
        assert row is not None
        lot_id = int(str(row[0]))
        if receipt.epcs:
            await conn.execute(lots.INSERT_ITEMS_SQL, {**insert, "lot_id": lot_id})
    return lot_id


LOT_COLUMNS = """l.lot_id, l.sku, l.gtin, l.lot_code as lot, l.expiry_date as expiry, l.received_at,
    l.received_qty, l.remaining_qty, l.location_id as location,
    (select count(*) from lot_items i where i.lot_id = l.lot_id)::int as items"""


async def lot_list(conn: Connection, site: str, lot_id: int | None = None) -> list[LotOut]:
    cond = " and l.lot_id = %(lot)s" if lot_id is not None else ""
    query = f"select {LOT_COLUMNS} from lots l where l.site_id = %(site)s{cond} order by l.lot_id"
    return await fetch(conn, LotOut, query, {"site": site, "lot": lot_id})


_ON_HAND_SQL = """
select l.lot_id, l.sku, l.lot_code, l.expiry_date, l.location_id, l.remaining_qty,
       p.expiry_lead_days
from lots l left join products p on p.site_id = l.site_id and p.sku = l.sku
where l.site_id = %(site)s and l.remaining_qty > 0
union all
select l.lot_id, l.sku, l.lot_code, l.expiry_date, t.location_id, count(*)::int,
       p.expiry_lead_days
from lots l join lot_items i on i.lot_id = l.lot_id
join rfid_tags t on t.site_id = i.site_id and t.epc = i.epc
join locations loc on loc.site_id = t.site_id and loc.location_id = t.location_id
left join products p on p.site_id = l.site_id and p.sku = l.sku
where l.site_id = %(site)s and loc.kind in ('shelf', 'storage', 'cooler')
group by l.lot_id, l.sku, l.lot_code, l.expiry_date, t.location_id, p.expiry_lead_days
order by 4, 1, 5
"""


async def expiry(conn: Connection, site: str, now_ms: int) -> list[ExpiryRow]:
    """Lots with units on a stock location, with days left and ok / expiring / expired."""
    cur = await conn.execute("select timezone from sites where site_id = %s", (site,))
    tz_row = await cur.fetchone()
    timezone = str(tz_row[0]) if tz_row else "UTC"
    rule = effective_rules(await _overrides(conn, site))[AlertType.EXPIRING_SOON]
    default_lead = int(rule.number("default_lead_days"))
    out = []
    for r in await (await conn.execute(_ON_HAND_SQL, {"site": site})).fetchall():
        lot_id, sku, code, day, location, qty, lead = r
        assert isinstance(day, date)
        ends = expires_at_ms(day, timezone)
        lead_days = int(str(lead)) if lead is not None else default_lead
        out.append(
            ExpiryRow(
                lot_id=int(str(lot_id)),
                sku=str(sku),
                lot=str(code),
                expiry=day,
                expires_at=datetime.fromtimestamp(ends / 1000, tz=UTC),
                location=_text(location),
                qty=int(str(qty)),
                days_left=round((ends - now_ms) / _DAY_MS, 2),
                status=lot_status(now_ms, ends, lead_days),
            )
        )
    return out


# -- cold chain -------------------------------------------------------------------------------
async def mkt(
    conn: Connection, site: str, location: str, since: datetime, until: datetime
) -> MktOut:
    """Mean kinetic temperature of the readings in [since, until), equally weighted."""
    async with conn.cursor(row_factory=kwargs_row(lambda temp_c: float(temp_c))) as cur:
        await cur.execute(
            """select temp_c from sensor_readings where site_id = %s and location_id = %s
               and ts >= %s and ts < %s and temp_c is not null order by ts""",
            (site, location, since, until),
        )
        temps = await cur.fetchall()
    return MktOut(
        location=location,
        since=since,
        until=until,
        readings=len(temps),
        mkt_c=round(mean_kinetic_temperature(temps), 3) if temps else None,
        mean_c=round(sum(temps) / len(temps), 3) if temps else None,
        min_c=min(temps, default=None),
        max_c=max(temps, default=None),
    )
