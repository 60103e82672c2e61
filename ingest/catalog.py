"""What ingest needs to know about a site, loaded from the database (``load_catalogs``).

``SiteCatalog`` is a frozen value: devices with their gateway, kind and antennas, products
by GTIN, and the locations that hold stock with their low-stock thresholds. A new catalog is
loaded when a site file is applied again (``sites.updated_at`` changes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg

from shelfsense.domain import DeviceKind, LocationKind

STOCK_LOCATION_KINDS = frozenset({LocationKind.SHELF, LocationKind.STORAGE, LocationKind.COOLER})


@dataclass(frozen=True, slots=True)
class Antenna:
    port: int
    location: str
    side: str | None


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    device_id: str
    gateway_id: str
    kind: DeviceKind
    location: str | None = None
    sku: str | None = None
    tare_g: float | None = None
    antennas: tuple[Antenna, ...] = ()


@dataclass(frozen=True, slots=True)
class LocationInfo:
    location_id: str
    kind: LocationKind
    sku: str | None
    min_qty: int | None


@dataclass(frozen=True, slots=True)
class ProductInfo:
    sku: str
    gtin: str | None
    unit_weight_g: float | None


@dataclass(frozen=True, slots=True)
class SiteCatalog:
    site_id: str
    version: str
    devices: Mapping[str, DeviceInfo] = field(default_factory=dict)
    locations: Mapping[str, LocationInfo] = field(default_factory=dict)
    products: Mapping[str, ProductInfo] = field(default_factory=dict)
    sku_by_gtin: Mapping[str, str] = field(default_factory=dict)
    # (sku, location) cells a weight shelf counts (see ingest.ownership), derived once
    scale_cells: frozenset[tuple[str, str]] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        cells = frozenset(
            (d.sku, d.location)
            for d in self.devices.values()
            if d.kind == DeviceKind.WEIGHT and d.sku is not None and d.location is not None
        )
        object.__setattr__(self, "scale_cells", cells)

    def holds_stock(self, location: str | None) -> bool:
        info = self.locations.get(location) if location else None
        return info is not None and info.kind in STOCK_LOCATION_KINDS

    def min_qty(self, location: str) -> int | None:
        info = self.locations.get(location)
        return info.min_qty if info else None

    def gateway_devices(self, gateway: str) -> list[DeviceInfo]:
        return [d for d in self.devices.values() if d.gateway_id == gateway]

    def observed_locations(self) -> set[str]:
        """Locations some device watches (their stock can be known)."""
        found: set[str] = set()
        for device in self.devices.values():
            if device.kind == DeviceKind.RFID:
                found.update(a.location for a in device.antennas)
            elif device.kind == DeviceKind.WEIGHT and device.location:
                found.add(device.location)
        return {loc for loc in found if self.holds_stock(loc)}


def catalog_versions(conn: psycopg.Connection[Any]) -> dict[str, str]:
    rows = conn.execute("select site_id, updated_at::text from sites").fetchall()
    return {str(site): str(version) for site, version in rows}


def load_catalogs(conn: psycopg.Connection[Any]) -> dict[str, SiteCatalog]:
    return {site: _load_site(conn, site, v) for site, v in catalog_versions(conn).items()}


def _load_site(conn: psycopg.Connection[Any], site: str, version: str) -> SiteCatalog:
    antennas: dict[str, list[Antenna]] = {}
    for device_id, port, loc, side in conn.execute(
        "select device_id, port, location_id, side from device_antennas where site_id = %s"
        " order by device_id, port",
        (site,),
    ):
        antennas.setdefault(str(device_id), []).append(Antenna(int(port), str(loc), side))
    devices = {
        str(r[0]): DeviceInfo(
            str(r[0]),
            str(r[1]),
            DeviceKind(str(r[2])),
            r[3],
            r[4],
            r[5],
            tuple(antennas.get(str(r[0]), ())),
        )
        for r in conn.execute(
            "select device_id, gateway_id, kind, location_id, sku, tare_g from devices"
            " where site_id = %s and active",
            (site,),
        )
    }
    locations = {
        str(r[0]): LocationInfo(str(r[0]), LocationKind(str(r[1])), r[2], r[3])
        for r in conn.execute(
            "select location_id, kind, sku, min_qty from locations where site_id = %s and active",
            (site,),
        )
    }
    products = {
        str(r[0]): ProductInfo(str(r[0]), r[1], r[2])
        for r in conn.execute(
            "select sku, gtin, unit_weight_g from products where site_id = %s and active", (site,)
        )
    }
    by_gtin = {p.gtin: p.sku for p in products.values() if p.gtin}
    return SiteCatalog(site, version, devices, locations, products, by_gtin)
