"""Lots, expiry and the cold chain.

POST /sites/{site}/lots                       operator+: receive a lot (201); all or nothing:
                                              422 lists every problem (malformed GS1, unknown
                                              GTIN/sku/location, EPCs of another product or
                                              already in a lot) and nothing is written
GET  /sites/{site}/lots                       every lot received
GET  /sites/{site}/lots/{lot_id}              one lot (404 for an unknown one)
GET  /sites/{site}/expiry                     lots with units on a stock location now: qty,
                                              days left, ok / expiring / expired (expired stock
                                              is not sellable; stock rows keep counting it)
GET  /sites/{site}/locations/{location}/mkt   mean kinetic temperature over [since, until)
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status

from api import alerting_queries as q
from api.alerting_models import ExpiryRow, LotIn, LotOut, MktOut
from api.auth import authenticate, require
from api.deps import DbDep, SiteDep, instant_query, parse_instant
from shelfsense.domain import Role
from shelfsense.gs1 import Gs1Error
from shelfsense.lots import LotError, receipt_from
from shelfsense.tokens import Principal

router = APIRouter(tags=["lots"], dependencies=[Depends(authenticate)])
OperatorDep = Annotated[Principal, Depends(require(Role.OPERATOR))]


def _unprocessable(problems: list[str], details: dict[str, Any] | None = None) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail={"problems": problems, **(details or {})},
    )


@router.post("/sites/{site}/lots", status_code=status.HTTP_201_CREATED, summary="receive a lot")
async def receive_lot(site: SiteDep, body: LotIn, conn: DbDep, who: OperatorDep) -> LotOut:
    try:
        receipt = receipt_from(
            today=datetime.now(UTC).date(),
            gs1_text=body.gs1,
            sku=body.sku,
            gtin=body.gtin,
            lot=body.lot,
            expiry=body.expiry,
            epcs=body.epcs,
            qty=body.qty,
            location=body.location,
        )
        lot_id = await q.receive(conn, site, receipt)
    except Gs1Error as exc:
        raise _unprocessable([f"gs1: {exc}"]) from None
    except LotError as exc:
        raise _unprocessable(exc.problems, exc.details) from None
    (lot,) = await q.lot_list(conn, site, lot_id)
    return lot


@router.get("/sites/{site}/lots", summary="lots received")
async def lots(site: SiteDep, conn: DbDep) -> list[LotOut]:
    return await q.lot_list(conn, site)


@router.get("/sites/{site}/lots/{lot_id}", summary="one lot")
async def lot(site: SiteDep, lot_id: int, conn: DbDep) -> LotOut:
    found = await q.lot_list(conn, site, lot_id)
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no lot {lot_id} in {site!r}")
    return found[0]


@router.get("/sites/{site}/expiry", summary="lots on hand and how long they keep")
async def expiry(site: SiteDep, conn: DbDep) -> list[ExpiryRow]:
    return await q.expiry(conn, site, int(time.time() * 1000))


@router.get("/sites/{site}/locations/{location:path}/mkt", summary="mean kinetic temperature")
async def location_mkt(
    site: SiteDep,
    location: str,
    conn: DbDep,
    since: Annotated[
        str | None, instant_query("start (ISO 8601; default: 24 h before until)")
    ] = None,
    until: Annotated[str | None, instant_query("end, exclusive (ISO 8601; default: now)")] = None,
) -> MktOut:
    end = parse_instant("until", until) or datetime.now(UTC)
    start = parse_instant("since", since) or end - timedelta(days=1)
    if start >= end:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="since must be < until")
    return await q.mkt(conn, site, location, start, end)
