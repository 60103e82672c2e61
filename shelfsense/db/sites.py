"""Write a validated site file to the database, creating or updating the site in place.

Rows the file no longer lists are marked inactive (products, locations, devices), never
deleted: movements and history still refer to them. Antenna maps are replaced whole.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg

from shelfsense.site import EnvDevice, PortalAntenna, RfidDevice, SiteFile, WeightDevice


def apply_site(conn: psycopg.Connection[Any], site: SiteFile) -> None:
    """Upsert everything in one transaction."""
    with conn.transaction():
        conn.execute(
            """insert into sites (site_id, name, timezone, config, updated_at)
               values (%s, %s, %s, %s, now())
               on conflict (site_id) do update set name = excluded.name,
                 timezone = excluded.timezone, config = excluded.config, updated_at = now()""",
            (site.site, site.name, site.timezone, json.dumps(site.model_dump(mode="json"))),
        )
        _apply_products(conn, site)
        _apply_locations(conn, site)
        _apply_devices(conn, site)


def _apply_products(conn: psycopg.Connection[Any], site: SiteFile) -> None:
    conn.execute("update products set active = false where site_id = %s", (site.site,))
    for p in site.products:
        conn.execute(
            """insert into products (site_id, sku, name, gtin, unit_weight_g, reorder_point,
                 shelf_life_days, expiry_lead_days, active)
               values (%s, %s, %s, %s, %s, %s, %s, %s, true)
               on conflict (site_id, sku) do update set name = excluded.name,
                 gtin = excluded.gtin, unit_weight_g = excluded.unit_weight_g,
                 reorder_point = excluded.reorder_point, shelf_life_days = excluded.shelf_life_days,
                 expiry_lead_days = excluded.expiry_lead_days, active = true""",
            (
                site.site,
                p.sku,
                p.name,
                p.gtin,
                p.unit_weight_g,
                p.reorder_point,
                p.shelf_life_days,
                p.expiry_lead_days,
            ),
        )


def _env_ranges(site: SiteFile) -> dict[str, EnvDevice]:
    return {d.location: d for d in site.devices if isinstance(d, EnvDevice) and d.temp_c}


def _apply_locations(conn: psycopg.Connection[Any], site: SiteFile) -> None:
    conn.execute("update locations set active = false where site_id = %s", (site.site,))
    ranges = _env_ranges(site)
    for loc in site.locations:
        probe = ranges.get(loc.id)
        lo, hi = probe.temp_c if probe and probe.temp_c else (None, None)
        conn.execute(
            """insert into locations (site_id, location_id, kind, name, sku, min_qty, capacity,
                 temp_min_c, temp_max_c, excursion_after_s, active)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, true)
               on conflict (site_id, location_id) do update set kind = excluded.kind,
                 name = excluded.name, sku = excluded.sku, min_qty = excluded.min_qty,
                 capacity = excluded.capacity, temp_min_c = excluded.temp_min_c,
                 temp_max_c = excluded.temp_max_c, excursion_after_s = excluded.excursion_after_s,
                 active = true""",
            (
                site.site,
                loc.id,
                loc.kind,
                loc.name,
                loc.sku,
                loc.min_qty,
                loc.capacity,
                lo,
                hi,
                probe.excursion_after_s if probe else None,
            ),
        )


def _apply_devices(conn: psycopg.Connection[Any], site: SiteFile) -> None:
    conn.execute("update devices set active = false where site_id = %s", (site.site,))
    for d in site.devices:
        location = sku = tare = None
        if isinstance(d, WeightDevice):
            location, sku, tare = d.location, d.sku, d.tare_g
        elif isinstance(d, EnvDevice):
            location = d.location
        conn.execute(
            """insert into devices (site_id, device_id, gateway_id, kind, location_id, sku,
                 tare_g, active)
               values (%s, %s, %s, %s, %s, %s, %s, true)
               on conflict (site_id, device_id) do update set gateway_id = excluded.gateway_id,
                 kind = excluded.kind, location_id = excluded.location_id, sku = excluded.sku,
                 tare_g = excluded.tare_g, active = true""",
            (site.site, d.id, d.gateway, d.kind, location, sku, tare),
        )
        conn.execute(
            "insert into gateways (site_id, gateway_id) values (%s, %s) on conflict do nothing",
            (site.site, d.gateway),
        )
        conn.execute(
            "delete from device_antennas where site_id = %s and device_id = %s", (site.site, d.id)
        )
        if isinstance(d, RfidDevice):
            for port, target in sorted(d.antennas.items()):
                loc = target.location if isinstance(target, PortalAntenna) else target
                side = target.side if isinstance(target, PortalAntenna) else None
                conn.execute(
                    """insert into device_antennas (site_id, device_id, port, location_id, side)
                       values (%s, %s, %s, %s, %s)""",
                    (site.site, d.id, port, loc, side),
                )
