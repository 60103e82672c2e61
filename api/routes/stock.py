"""``GET /sites/{site}/stock`` (contract §6): current stock, or stock as of ``?at=``.

Lists every (sku, location) cell with ``qty > 0`` plus the cells whose state is ``out`` or
``unknown`` (an empty or unobservable shelf must stay visible), ordered by location, then sku.
``?at=`` answers from ``stock_history``: each cell's last change at or before that instant, with
``updated_at`` being that change's event time.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api import queries
from api.auth import authenticate
from api.deps import DbDep, SiteDep, instant_query, parse_instant
from api.models import StockRow

router = APIRouter(tags=["stock"], dependencies=[Depends(authenticate)])


@router.get("/sites/{site}/stock", summary="stock per (sku, location)")
async def stock(
    site: SiteDep,
    conn: DbDep,
    at: Annotated[str | None, instant_query("answer as of this time (ISO 8601)")] = None,
    sku: Annotated[str | None, Query(description="only this product")] = None,
    location: Annotated[str | None, Query(description="only this location")] = None,
) -> list[StockRow]:
    """Cells with qty > 0, plus cells in state `out` or `unknown` whatever their qty, ordered
    by location then sku. With `at`: each cell's last change at or before that instant."""
    instant = parse_instant("at", at)
    if instant is None:
        return await queries.stock_now(conn, site, sku=sku, location=location)
    return await queries.stock_at(conn, site, instant, sku=sku, location=location)
