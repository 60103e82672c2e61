"""Read SQL for the contract §6 reads (stock, movements, alerts) -> typed rows.

Every function takes an open connection and returns response models built straight from the
rows (``kwargs_row``: column aliases equal field names). Optional filters are composed into the
statement only when given, so each variant gets a plan for its own indexes.

Which stock cells are listed: a cell (sku, location) with ``qty > 0``, or whose state is ``out``
or ``unknown`` whatever its qty. A zero cell in ``out`` is exactly what a client watching for
empty shelves needs, and ``unknown`` says "not observable now", which must not silently vanish.
Zero cells in ``ok`` or ``low`` would contradict the state rules and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import LiteralString, TypeVar

from psycopg import sql
from psycopg.rows import kwargs_row
from pydantic import BaseModel

from api.db import Connection
from api.models import AlertRow, MovementRow, StockRow
from shelfsense.domain import AlertStatus

M = TypeVar("M", bound=BaseModel)
Params = dict[str, object]

LISTED_CELL = "(qty > 0 or state in ('out', 'unknown'))"
STOCK_COLUMNS = "sku, location_id as location, qty, state, updated_at"
# Units of a cell whose lot is past its expiry date in the site's own time zone (a lot is
# sellable through its expiry date): RFID items by their EPC's lot, weight-shelf lots by the
# quantity still on the shelf (consumed first-expiry-first-out).
EXPIRED_QTY = """(
    with today as (
        select (now() at time zone s.timezone)::date as d from sites s where s.site_id = c.site_id)
    select least(c.qty, coalesce((
        select count(*) from rfid_tags t
        join lot_items li on li.site_id = t.site_id and li.epc = t.epc
        join lots l on l.lot_id = li.lot_id
        where t.site_id = c.site_id and t.sku = c.sku and t.location_id = c.location_id
          and l.expiry_date < (select d from today)), 0) + coalesce((
        select sum(l.remaining_qty) from lots l
        where l.site_id = c.site_id and l.sku = c.sku and l.location_id = c.location_id
          and l.expiry_date < (select d from today)), 0))::int)"""
MOVEMENT_COLUMNS = (
    "id, ts, sku, epc, from_location, to_location, qty, kind, source, confidence::float8 "
    "as confidence"
)
ALERT_COLUMNS = "id, type, severity, location_id as location, sku, status, opened_at, details"


async def fetch(
    conn: Connection, model: type[M], query: LiteralString | sql.Composed, params: Params
) -> list[M]:
    async with conn.cursor(row_factory=kwargs_row(model)) as cur:
        await cur.execute(query, params)
        return await cur.fetchall()


def where(base: LiteralString, filters: dict[str, LiteralString], params: Params) -> sql.Composed:
    """``base`` + `` and <clause>`` for every filter whose parameter is not None."""
    clauses = [sql.SQL(base)]
    clauses += [sql.SQL(clause) for key, clause in filters.items() if params.get(key) is not None]
    return sql.SQL(" and ").join(clauses)


async def site_exists(conn: Connection, site: str) -> bool:
    cur = await conn.execute("select 1 from sites where site_id = %s", (site,))
    return await cur.fetchone() is not None


_CELL_FILTERS: dict[str, LiteralString] = {
    "sku": "c.sku = %(sku)s",
    "location": "c.location_id = %(location)s",
}


async def stock_now(
    conn: Connection, site: str, *, sku: str | None = None, location: str | None = None
) -> list[StockRow]:
    params: Params = {"site": site, "sku": sku, "location": location}
    cond = where(f"c.site_id = %(site)s and {LISTED_CELL}", _CELL_FILTERS, params)
    query = sql.SQL(
        """select {cols}, {expired} as expired_qty from stock c
        where {cond} order by location_id, sku"""
    ).format(cols=sql.SQL(STOCK_COLUMNS), expired=sql.SQL(EXPIRED_QTY), cond=cond)
    return await fetch(conn, StockRow, query, params)


async def stock_at(
    conn: Connection,
    site: str,
    at: datetime,
    *,
    sku: str | None = None,
    location: str | None = None,
) -> list[StockRow]:
    """Each cell's last ``stock_history`` row at or before ``at``.

    The cells come from ``stock`` (every cell ingest ever wrote has a row there); per cell one
    backward index probe on ``stock_history_cell_ts`` finds its row, newest partition first.
    """
    params: Params = {"site": site, "at": at, "sku": sku, "location": location}
    cond = where("c.site_id = %(site)s", _CELL_FILTERS, params)
    query = sql.SQL(
        """select c.sku, c.location_id as location, h.qty, h.state, h.ts as updated_at
        from stock c cross join lateral (
          select qty, state, ts from stock_history h
          where h.site_id = c.site_id and h.sku = c.sku and h.location_id = c.location_id
            and h.ts <= %(at)s
          order by h.ts desc, h.seq desc limit 1) h
        where {cond} and (h.qty > 0 or h.state in ('out', 'unknown'))
        order by c.location_id, c.sku"""
    ).format(cond=cond)
    return await fetch(conn, StockRow, query, params)


@dataclass(frozen=True, slots=True)
class MovementQuery:
    """A window [since, until) of one site's movements, in (ts, id) order, after a cursor."""

    site: str
    since: datetime
    until: datetime | None
    limit: int
    after: tuple[datetime, int] | None = None  # (ts, id) of the last row already seen
    sku: str | None = None
    location: str | None = None  # from or to
    epc: str | None = None
    kind: str | None = None


_MOVEMENT_FILTERS: dict[str, LiteralString] = {
    "until": "ts < %(until)s",
    "after_ts": "(ts, id) > (%(after_ts)s, %(after_id)s)",
    "sku": "sku = %(sku)s",
    "location": "(from_location = %(location)s or to_location = %(location)s)",
    "epc": "epc = %(epc)s",
    "kind": "kind = %(kind)s",
}


async def movements(conn: Connection, q: MovementQuery) -> list[MovementRow]:
    after_ts, after_id = q.after if q.after else (None, None)
    params: Params = {
        "site": q.site,
        "since": q.since,
        "until": q.until,
        "after_ts": after_ts,
        "after_id": after_id,
        "sku": q.sku,
        "location": q.location,
        "epc": q.epc,
        "kind": q.kind,
        "limit": q.limit,
    }
    cond = where("site_id = %(site)s and ts >= %(since)s", _MOVEMENT_FILTERS, params)
    query = sql.SQL(
        "select {cols} from movements where {cond} order by ts, id limit %(limit)s"
    ).format(cols=sql.SQL(MOVEMENT_COLUMNS), cond=cond)
    return await fetch(conn, MovementRow, query, params)


async def movement_cursor(conn: Connection, site: str, movement_id: int) -> datetime | None:
    """The ts of a movement of ``site`` (to continue after it), None if there is none."""
    cur = await conn.execute(
        "select ts from movements where id = %s and site_id = %s", (movement_id, site)
    )
    row = await cur.fetchone()
    return row[0] if row else None  # type: ignore[return-value]


async def alerts(
    conn: Connection, site: str, *, status: AlertStatus | None, limit: int
) -> list[AlertRow]:
    params: Params = {"site": site, "status": status, "limit": limit}
    cond = where("site_id = %(site)s", {"status": "status = %(status)s"}, params)
    query = sql.SQL(
        "select {cols} from alerts where {cond} order by opened_at, id limit %(limit)s"
    ).format(cols=sql.SQL(ALERT_COLUMNS), cond=cond)
    return await fetch(conn, AlertRow, query, params)
