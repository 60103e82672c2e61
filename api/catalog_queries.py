"""Read SQL beyond the contract: sites, their catalog, device health, tags, dead letters.

Only active products, locations and devices are listed (a site file that drops one marks it
inactive; history keeps referring to it).
"""

from __future__ import annotations

from collections import defaultdict
from typing import LiteralString

from psycopg import sql

from api.db import Connection
from api.models import (
    AntennaRow,
    DeadLetterRow,
    DeviceRow,
    DeviceStatus,
    LocationRow,
    MisplacedTag,
    ProductRow,
    SiteDetail,
    SiteSummary,
    TagRow,
)
from api.queries import Params, fetch, where

PREVIEW_BYTES = 1024


async def sites(conn: Connection) -> list[SiteSummary]:
    query = "select site_id as site, name, timezone from sites order by site_id"
    return await fetch(conn, SiteSummary, query, {})


async def site_detail(conn: Connection, site: str) -> SiteDetail | None:
    found = await fetch(
        conn,
        SiteSummary,
        "select site_id as site, name, timezone from sites where site_id = %(site)s",
        {"site": site},
    )
    if not found:
        return None
    params: Params = {"site": site}
    products = await fetch(
        conn,
        ProductRow,
        """select sku, name, gtin, unit_weight_g, reorder_point from products
           where site_id = %(site)s and active order by sku""",
        params,
    )
    locations = await fetch(
        conn,
        LocationRow,
        """select location_id as id, kind, name, sku, min_qty, capacity from locations
           where site_id = %(site)s and active order by location_id""",
        params,
    )
    devices = await _devices(conn, site)
    return SiteDetail(
        **found[0].model_dump(), products=products, locations=locations, devices=devices
    )


async def _devices(conn: Connection, site: str) -> list[DeviceRow]:
    params: Params = {"site": site}
    antennas = await fetch(
        conn,
        _Antenna,
        """select a.device_id, a.port, a.location_id as location, a.side
           from device_antennas a join devices d using (site_id, device_id)
           where a.site_id = %(site)s and d.active order by a.device_id, a.port""",
        params,
    )
    by_device: defaultdict[str, list[AntennaRow]] = defaultdict(list)
    for a in antennas:
        by_device[a.device_id].append(AntennaRow(port=a.port, location=a.location, side=a.side))
    devices = await fetch(
        conn,
        DeviceRow,
        """select device_id as id, gateway_id as gateway, kind, location_id as location, sku
           from devices where site_id = %(site)s and active order by device_id""",
        params,
    )
    return [d.model_copy(update={"antennas": by_device.get(d.id, [])}) for d in devices]


class _Antenna(AntennaRow):
    device_id: str


async def device_status(conn: Connection, site: str) -> list[DeviceStatus]:
    return await fetch(
        conn,
        DeviceStatus,
        """select d.device_id as id, d.gateway_id as gateway, d.kind, d.location_id as location,
             d.last_seen_at, d.last_t1, coalesce(g.state, 'unknown') as gateway_state,
             g.status_at as gateway_status_at, g.backlog as gateway_backlog
           from devices d left join gateways g using (site_id, gateway_id)
           where d.site_id = %(site)s and d.active order by d.device_id""",
        {"site": site},
    )


async def dead_letters(conn: Connection, site: str, *, limit: int) -> list[DeadLetterRow]:
    """Newest first."""
    return await fetch(
        conn,
        DeadLetterRow,
        """select id, received_at, topic, gateway_id as gateway, device_id as device, reason,
             size_bytes,
             substring(payload from 1 for %(preview)s) as payload_preview
           from dead_letters where site_id = %(site)s
           order by received_at desc, id desc limit %(limit)s""",
        {"site": site, "limit": limit, "preview": PREVIEW_BYTES},
    )


_TAG_FILTERS: dict[str, LiteralString] = {
    "location": "location_id = %(location)s",
    "sku": "sku = %(sku)s",
    "present": "location_id is not null",
}


async def tags(
    conn: Connection,
    site: str,
    *,
    location: str | None,
    sku: str | None,
    include_gone: bool,
    limit: int,
) -> list[TagRow]:
    params: Params = {
        "site": site,
        "location": location,
        "sku": sku,
        "limit": limit,
        "present": None if include_gone else True,
    }
    cond = where("site_id = %(site)s", _TAG_FILTERS, params)
    query = sql.SQL(
        "select epc, sku, location_id as location, since from rfid_tags where {cond} "
        "order by location_id nulls last, epc limit %(limit)s"
    ).format(cond=cond)
    return await fetch(conn, TagRow, query, params)


async def misplaced(conn: Connection, site: str, *, limit: int) -> list[MisplacedTag]:
    """Tags of a known product on a location whose planogram names another product.

    Tags that map to no product (unknown EPCs) are not "misplaced": nothing says where they
    belong.
    """
    return await fetch(
        conn,
        MisplacedTag,
        """select t.epc, t.sku, t.location_id as location, t.since, l.sku as expected_sku
           from rfid_tags t join locations l
             on l.site_id = t.site_id and l.location_id = t.location_id
           where t.site_id = %(site)s and l.active and l.sku is not null
             and t.sku is not null and t.sku <> l.sku
           order by t.location_id, t.epc limit %(limit)s""",
        {"site": site, "limit": limit},
    )
