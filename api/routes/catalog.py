"""Reads beyond the contract: sites and their catalog, device health, tags, dead letters.

GET /sites                       every site (id, name, time zone)
GET /sites/{site}                products, locations, devices with their antennas
GET /sites/{site}/devices        last batch seen (wall and event time), gateway state
GET /sites/{site}/dead-letters   rejected messages, newest first
GET /sites/{site}/tags           where each RFID tag is (``?location=``, ``?sku=``)
GET /sites/{site}/misplaced      tags on a location whose planogram names another product
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from api import catalog_queries
from api.auth import authenticate
from api.deps import ConfigDep, DbDep, SiteDep
from api.models import (
    DeadLetterRow,
    DeviceStatus,
    MisplacedTag,
    SiteDetail,
    SiteSummary,
    TagRow,
)

router = APIRouter(tags=["catalog"], dependencies=[Depends(authenticate)])
LimitQuery = Annotated[int | None, Query(ge=1, description="at most this many rows")]


def _cap(limit: int | None, cap: int) -> int:
    return min(limit or cap, cap)


@router.get("/sites", summary="all sites")
async def sites(conn: DbDep) -> list[SiteSummary]:
    return await catalog_queries.sites(conn)


@router.get("/sites/{site}", summary="a site's catalog")
async def site_detail(site: str, conn: DbDep) -> SiteDetail:
    detail = await catalog_queries.site_detail(conn, site)
    if detail is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown site {site!r}")
    return detail


@router.get("/sites/{site}/devices", summary="device and gateway health")
async def devices(site: SiteDep, conn: DbDep) -> list[DeviceStatus]:
    return await catalog_queries.device_status(conn, site)


@router.get("/sites/{site}/dead-letters", summary="rejected messages, newest first")
async def dead_letters(
    site: SiteDep, conn: DbDep, config: ConfigDep, limit: LimitQuery = None
) -> list[DeadLetterRow]:
    return await catalog_queries.dead_letters(
        conn, site, limit=_cap(limit, min(1000, config.list_limit_max))
    )


@router.get("/sites/{site}/tags", summary="RFID tags and where they are")
async def tags(
    site: SiteDep,
    conn: DbDep,
    config: ConfigDep,
    location: Annotated[str | None, Query(description="only tags on this location")] = None,
    sku: Annotated[str | None, Query(description="only tags of this product")] = None,
    include_gone: Annotated[bool, Query(description="also tags no longer seen")] = False,
    limit: LimitQuery = None,
) -> list[TagRow]:
    return await catalog_queries.tags(
        conn,
        site,
        location=location,
        sku=sku,
        include_gone=include_gone,
        limit=_cap(limit, config.list_limit_max),
    )


@router.get("/sites/{site}/misplaced", summary="tags on another product's location")
async def misplaced(
    site: SiteDep, conn: DbDep, config: ConfigDep, limit: LimitQuery = None
) -> list[MisplacedTag]:
    return await catalog_queries.misplaced(conn, site, limit=_cap(limit, config.list_limit_max))
