"""``GET /sites/{site}/movements`` (contract §6): the stock ledger over a window, by event time.

The window is half-open, ``since <= ts < until``. Without ``since`` it starts
``movements_window_s`` (24 h) before ``until`` (or now); without ``until`` it has no end. Rows
come ordered by ``(ts, id)``, at most ``limit`` of them. To read on, pass the last row's id as
``after_id``: the next page starts strictly after that row in the same order, even where several
movements share one ``ts``. A full page carries ``X-Next-After-Id``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from api import queries
from api.auth import authenticate
from api.db import Connection
from api.deps import ConfigDep, DbDep, SiteDep, instant_query, parse_instant
from api.models import MovementRow

router = APIRouter(tags=["movements"], dependencies=[Depends(authenticate)])
NEXT_HEADER = "X-Next-After-Id"


@router.get("/sites/{site}/movements", summary="movements ordered by ts")
async def movements(
    site: SiteDep,
    conn: DbDep,
    config: ConfigDep,
    response: Response,
    since: Annotated[str | None, instant_query("window start, inclusive (ISO 8601)")] = None,
    until: Annotated[str | None, instant_query("window end, exclusive (ISO 8601)")] = None,
    limit: Annotated[int | None, Query(ge=1, description="page size (default 1000)")] = None,
    after_id: Annotated[int | None, Query(description="continue after this movement")] = None,
    sku: Annotated[str | None, Query()] = None,
    location: Annotated[str | None, Query(description="from or to this location")] = None,
    epc: Annotated[str | None, Query()] = None,
    kind: Annotated[str | None, Query()] = None,
) -> list[MovementRow]:
    """Movements with `since <= ts < until` (default: the 24 h before `until` or now), ordered
    by (ts, id). A full page sets `X-Next-After-Id`: pass it as `after_id` to read on."""
    end = parse_instant("until", until)
    start = parse_instant("since", since) or (end or datetime.now(UTC)) - timedelta(
        seconds=config.movements_window_s
    )
    if end is not None and end <= start:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "since must be before until")
    page = min(limit or config.movements_limit_default, config.movements_limit_max)
    query = queries.MovementQuery(
        site, start, end, page, await _cursor(conn, site, after_id), sku, location, epc, kind
    )
    rows = await queries.movements(conn, query)
    if len(rows) == page:
        response.headers[NEXT_HEADER] = str(rows[-1].id)
    return rows


async def _cursor(conn: Connection, site: str, after_id: int | None) -> tuple[datetime, int] | None:
    if after_id is None:
        return None
    ts = await queries.movement_cursor(conn, site, after_id)
    if ts is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"after_id: {after_id} is not a movement of site {site!r}",
        )
    return ts, after_id
