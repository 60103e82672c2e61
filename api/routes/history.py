"""``GET /sites/{site}/locations/{location}/history``: one location's stock over time.

The rows of ``stock_history`` for the location (every product on it, or ``?sku=``) with
``since <= ts < until``, ordered by ``(ts, sku)``. Without ``since`` the window starts
``movements_window_s`` (24 h) before ``until`` (or now); without ``until`` it has no end.

Each product's last change *before* ``since`` comes first (its ``ts`` is before ``since``), so a
step chart starts at the level the shelf really had when the window opened instead of at
nothing. At most ``list_limit_max`` rows in the window are returned (the oldest ones).
``location`` is path-like (``floor/aisle-1/shelf-1``): it is the rest of the path up to
``/history``; an unknown location is a 404.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from psycopg import sql
from pydantic import BaseModel, ConfigDict, Field

from api.auth import authenticate
from api.db import Connection
from api.deps import ConfigDep, DbDep, SiteDep, instant_query, parse_instant
from api.models import UtcDatetime
from api.queries import Params, fetch, where
from shelfsense.domain import StockState

router = APIRouter(tags=["stock"], dependencies=[Depends(authenticate)])


class HistoryPoint(BaseModel):
    """One change of a (sku, location) cell: from ``ts`` on, the cell held ``qty`` in ``state``."""

    model_config = ConfigDict(frozen=True)
    ts: UtcDatetime = Field(description="event time of the change")
    sku: str
    qty: int
    state: StockState


_CARRY_IN = """select h.ts, c.sku, h.qty, h.state
  from stock c cross join lateral (
    select ts, qty, state from stock_history h
    where h.site_id = c.site_id and h.sku = c.sku and h.location_id = c.location_id
      and h.ts < %(since)s
    order by h.ts desc limit 1) h
  where {cond}"""

_WINDOW = """select ts, sku, qty, state from stock_history h
  where h.site_id = %(site)s and h.location_id = %(location)s and h.ts >= %(since)s and {cond}
  order by ts, sku limit %(limit)s"""


async def location_exists(conn: Connection, site: str, location: str) -> bool:
    cur = await conn.execute(
        "select 1 from locations where site_id = %s and location_id = %s", (site, location)
    )
    return await cur.fetchone() is not None


async def location_history(conn: Connection, params: Params) -> list[HistoryPoint]:
    """Carry-in rows (one per sku, before ``since``), then the window's rows, by (ts, sku)."""
    carry_cond = where(
        "c.site_id = %(site)s and c.location_id = %(location)s",
        {"sku": "c.sku = %(sku)s"},
        params,
    )
    window_cond = where("true", {"sku": "h.sku = %(sku)s", "until": "h.ts < %(until)s"}, params)
    carry = await fetch(conn, HistoryPoint, sql.SQL(_CARRY_IN).format(cond=carry_cond), params)
    rows = await fetch(conn, HistoryPoint, sql.SQL(_WINDOW).format(cond=window_cond), params)
    return sorted(carry, key=lambda p: (p.ts, p.sku)) + rows


@router.get(
    "/sites/{site}/locations/{location:path}/history", summary="a location's stock over time"
)
async def history(
    site: SiteDep,
    conn: DbDep,
    config: ConfigDep,
    location: Annotated[str, Path(description="location id", examples=["floor/aisle-1/shelf-1"])],
    since: Annotated[str | None, instant_query("window start, inclusive (ISO 8601)")] = None,
    until: Annotated[str | None, instant_query("window end, exclusive (ISO 8601)")] = None,
    sku: Annotated[str | None, Query(description="only this product")] = None,
) -> list[HistoryPoint]:
    """Stock changes of the location with `since <= ts < until` (default: the 24 h before
    `until` or now), each product's last change before `since` first."""
    end = parse_instant("until", until)
    start = parse_instant("since", since) or (end or datetime.now(UTC)) - timedelta(
        seconds=config.movements_window_s
    )
    if end is not None and end <= start:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "since must be before until")
    if not await location_exists(conn, site, location):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"unknown location {location!r} in site {site!r}"
        )
    params: Params = {
        "site": site,
        "location": location,
        "since": start,
        "until": end,
        "sku": sku,
        "limit": config.list_limit_max,
    }
    return await location_history(conn, params)
