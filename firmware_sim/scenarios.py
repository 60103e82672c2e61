"""The named scenarios, as data: ``demo``, ``steady`` and ``alerts``.

``demo``: a small grocery: 3 aisles x 4 RFID shelves (one reader per aisle), 2 weight shelves,
a cooler with a probe, a backroom (storage and cooler share a reader), a portal door; 20
products, ~300 tagged items. Shoppers pick and leave through the portal, staff restock from
storage and tidy misplaced items (now and then onto a wrong shelf), deliveries come in.

``steady``: the same store and behaviour with near-perfect devices (read_prob 0.9..0.99, no
cross reads, no fades, quiet scales) for end-to-end tests that must match the truth exactly.

``alerts``: a deterministic script on a smaller store: a shelf picked below ``min_qty``, another
emptied, a weight shelf picked low, a short-life lot delivered (it expires a day later), the
cooler warmed above its range for ~30 min then cooled, then everything restocked. Notes in the
truth log say which alert each step should open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from firmware_sim.actions import Action, Carry, Deliver, Put, Setpoint, Take, TruthKind, note
from firmware_sim.scenario import Activity, Physics, Scenario, Stocking
from shelfsense.ids import gtin_check_digit
from shelfsense.site import SiteFile

_COMPANY = "8690123"  # GS1 company prefix (7 digits) of the simulated brand owner
COOLER = "floor/cooler-1"
STORAGE = "backroom/storage"
DOOR = "door-1"
OUTSIDE = "outside"

# sku, name, unit grams (a weight shelf needs it)
_SHELF_PRODUCTS = [
    ("PASTA-500", "Penne 500 g", 510.0),
    ("RICE-1K", "Rice 1 kg", 1015.0),
    ("TUNA-160", "Tuna can 160 g", 185.0),
    ("OIL-1L", "Olive oil 1 l", 980.0),
    ("SAUCE-400", "Tomato sauce 400 g", 450.0),
    ("COFFEE-250", "Coffee 250 g", 265.0),
    ("TEA-100", "Black tea 100 bags", 230.0),
    ("BISCUIT-200", "Biscuits 200 g", 215.0),
    ("CHOC-100", "Dark chocolate 100 g", 108.0),
    ("SHAMPOO-400", "Shampoo 400 ml", 440.0),
    ("PASTE-75", "Toothpaste 75 ml", 110.0),
    ("DETERG-1K", "Detergent 1 kg", 1050.0),
]
_WEIGHT_PRODUCTS = [("COLA-330", "Cola can 330 ml", 345.0), ("WATER-500", "Water 500 ml", 520.0)]
_COOLER_PRODUCTS = [
    ("MILK-1L", "Milk 1 l", 1040.0),
    ("YOG-500", "Yoghurt 500 g", 520.0),
    ("CHEESE-200", "White cheese 200 g", 210.0),
    ("BUTTER-250", "Butter 250 g", 255.0),
]
_STORAGE_PRODUCTS = [("BATT-AA4", "AA batteries x4", 100.0), ("BULB-9W", "LED bulb 9 W", 60.0)]


def gtin_for(index: int) -> str:
    """A valid GTIN-14 of the simulated brand owner: item reference ``index``."""
    body = f"0{_COMPANY}{index:05d}"
    return body + str(gtin_check_digit(body))


def _product(index: int, sku: str, name: str, grams: float, **extra: Any) -> dict[str, Any]:
    return {"sku": sku, "name": name, "gtin": gtin_for(index + 1), "unit_weight_g": grams, **extra}


def _shelf(loc: str, sku: str | None, min_qty: int = 4, capacity: int = 20) -> dict[str, Any]:
    return {"id": loc, "kind": "shelf", "sku": sku, "min_qty": min_qty, "capacity": capacity}


def _common_locations() -> list[dict[str, Any]]:
    return [
        {"id": COOLER, "kind": "cooler"},
        {"id": STORAGE, "kind": "storage"},
        {"id": DOOR, "kind": "portal"},
        {"id": OUTSIDE, "kind": "outside"},
    ]


def _common_devices(backroom_reader: str) -> list[dict[str, Any]]:
    gw = "gw-1"
    return [
        {"id": backroom_reader, "gateway": gw, "kind": "rfid", "antennas": {1: STORAGE, 2: COOLER}},
        {
            "id": DOOR,
            "gateway": gw,
            "kind": "rfid",
            "antennas": {
                1: {"location": DOOR, "side": "inside"},
                2: {"location": DOOR, "side": "outside"},
            },
        },
        {
            "id": "probe-1",
            "gateway": gw,
            "kind": "env",
            "location": COOLER,
            "temp_c": [0.0, 5.0],
            "excursion_after_s": 600,
        },
    ]


def _aisle_adjacency(shelves: list[str]) -> dict[str, tuple[str, ...]]:
    """Neighbouring shelves of an aisle hear each other; so do the two sides of the door."""
    adj = {
        s: tuple(shelves[j] for j in (i - 1, i + 1) if 0 <= j < len(shelves))
        for i, s in enumerate(shelves)
    }
    adj[f"{DOOR}#inside"] = (f"{DOOR}#outside",)
    adj[f"{DOOR}#outside"] = (f"{DOOR}#inside",)
    return adj


def _grocery(name: str, physics: Physics, description: str) -> Scenario:
    products = _SHELF_PRODUCTS + _WEIGHT_PRODUCTS + _COOLER_PRODUCTS + _STORAGE_PRODUCTS
    locations, devices, stock, adjacency = _common_locations(), _common_devices("reader-4"), [], {}
    for a in range(3):
        shelves = [f"floor/aisle-{a + 1}/shelf-{s + 1}" for s in range(4)]
        skus = [p[0] for p in _SHELF_PRODUCTS[a * 4 : a * 4 + 4]]
        locations += [_shelf(loc, sku) for loc, sku in zip(shelves, skus, strict=True)]
        devices.append(
            {
                "id": f"reader-{a + 1}",
                "gateway": "gw-1",
                "kind": "rfid",
                "antennas": {i + 1: loc for i, loc in enumerate(shelves)},
            }
        )
        stock += [Stocking(loc, sku, 14) for loc, sku in zip(shelves, skus, strict=True)]
        stock += [Stocking(STORAGE, sku, 6) for sku in skus]
        adjacency.update(_aisle_adjacency(shelves))
    for i, (sku, _, _) in enumerate(_WEIGHT_PRODUCTS):
        loc = f"floor/aisle-4/shelf-{i + 1}"
        locations.append(_shelf(loc, sku, min_qty=6, capacity=24))
        devices.append(
            {
                "id": f"scale-{i + 1}",
                "gateway": "gw-1",
                "kind": "weight",
                "location": loc,
                "sku": sku,
                "tare_g": 1200.0 + 150.0 * i,
            }
        )
        stock.append(Stocking(loc, sku, 18))
    stock += [Stocking(COOLER, sku, 10) for sku, _, _ in _COOLER_PRODUCTS]
    stock += [Stocking(STORAGE, sku, 4) for sku, _, _ in _COOLER_PRODUCTS]
    stock += [Stocking(STORAGE, sku, 8) for sku, _, _ in _STORAGE_PRODUCTS]
    site = SiteFile.model_validate(
        {
            "site": "demo-store",
            "name": "Demo Store",
            "timezone": "Europe/Istanbul",
            "products": [_product(i, *p, reorder_point=8) for i, p in enumerate(products)],
            "locations": locations,
            "devices": devices,
        }
    )
    return Scenario(
        name=name,
        description=description,
        site=site,
        stock=tuple(stock),
        physics=physics,
        adjacency=adjacency,
        activity=Activity(),
    )


def demo() -> Scenario:
    return _grocery("demo", Physics(), "small grocery, everyday noise")


def steady() -> Scenario:
    clean = Physics(
        read_prob=(0.9, 0.99),
        cross_read_rate=0.0,
        fades=False,
        scale_noise_g=0.5,
        scale_disturbances=False,
        probe_noise_c=0.02,
    )
    return _grocery("steady", clean, "small grocery, near-perfect devices")


_ALERT_SHELVES = [f"floor/aisle-1/shelf-{s + 1}" for s in range(4)]
_ALERT_SCALE = "floor/aisle-2/shelf-1"
_LOT_SKU = "SALAD-200"


def _alerts_site() -> SiteFile:
    products = [_product(i, *p) for i, p in enumerate(_SHELF_PRODUCTS[:4])]
    products.append(_product(12, *_WEIGHT_PRODUCTS[0]))
    products.append(_product(14, *_COOLER_PRODUCTS[0], shelf_life_days=10))
    products.append(_product(40, _LOT_SKU, "Salad bowl 200 g", 230.0, shelf_life_days=1))
    locations = _common_locations() + [
        _shelf(loc, p["sku"]) for loc, p in zip(_ALERT_SHELVES, products, strict=False)
    ]
    locations.append(_shelf(_ALERT_SCALE, "COLA-330", min_qty=4, capacity=24))
    reader = {
        "id": "reader-1",
        "gateway": "gw-1",
        "kind": "rfid",
        "antennas": {i + 1: loc for i, loc in enumerate(_ALERT_SHELVES)},
    }
    scale = {
        "id": "scale-1",
        "gateway": "gw-1",
        "kind": "weight",
        "location": _ALERT_SCALE,
        "sku": "COLA-330",
        "tare_g": 1200.0,
    }
    devices = [*_common_devices("reader-2"), reader, scale]
    return SiteFile.model_validate(
        {
            "site": "alerts-store",
            "name": "Alerts Store",
            "products": products,
            "locations": locations,
            "devices": devices,
        }
    )


def _exit(ts_s: float, who: str) -> list[Action]:
    ms = int(ts_s * 1000)
    return [
        Carry(ms, who, f"{DOOR}#inside"),
        Carry(ms + 1500, who, f"{DOOR}#outside"),
        Carry(ms + 3000, who, OUTSIDE),
    ]


def _alerts_script() -> tuple[Action, ...]:
    s1, s2 = _ALERT_SHELVES[0], _ALERT_SHELVES[1]
    restock = TruthKind.RESTOCK
    script: list[Action] = [
        Carry(120_000, "driver", OUTSIDE, TruthKind.ENTRY),
        Deliver(120_000, "driver", _LOT_SKU, 6),
        Carry(121_500, "driver", f"{DOOR}#outside", TruthKind.ENTRY),
        Carry(123_000, "driver", f"{DOOR}#inside", TruthKind.ENTRY),
        Carry(124_500, "driver", None, TruthKind.ENTRY),
        Put(150_000, "driver", COOLER, None, None, TruthKind.ENTRY),
        note(150_000, expect="expiry", sku=_LOT_SKU, location=COOLER, qty=6, after_s=86_400),
        Take(300_000, "shopper-1", s1, 5),
        note(300_000, expect="low_stock", location=s1),
        *_exit(420, "shopper-1"),
        Take(600_000, "shopper-2", s2, 6),
        note(600_000, expect="out_of_stock", location=s2),
        *_exit(700, "shopper-2"),
        Setpoint(900_000, COOLER, 12.0),
        note(900_000, expect="temp_excursion", location=COOLER, after_s=600),
        Take(1_200_000, "shopper-3", _ALERT_SCALE, 7),
        note(1_200_000, expect="low_stock", location=_ALERT_SCALE),
        *_exit(1300, "shopper-3"),
        Setpoint(2_400_000, COOLER, 3.0),
        Take(3_000_000, "staff-1", STORAGE, 12, "PASTA-500", restock),
        Take(3_000_000, "staff-1", STORAGE, 12, "RICE-1K", restock),
        Put(3_060_000, "staff-1", s1, None, "PASTA-500", restock),
        Put(3_090_000, "staff-1", s2, None, "RICE-1K", restock),
        Put(3_120_000, "staff-2", _ALERT_SCALE, 14, None, restock),
        note(3_120_000, expect="cleared", locations=[s1, s2, _ALERT_SCALE]),
    ]
    return tuple(script)


def alerts() -> Scenario:
    stock = [
        Stocking(_ALERT_SHELVES[0], "PASTA-500", 8),
        Stocking(_ALERT_SHELVES[1], "RICE-1K", 6),
        Stocking(_ALERT_SHELVES[2], "TUNA-160", 10),
        Stocking(_ALERT_SHELVES[3], "OIL-1L", 10),
        Stocking(_ALERT_SCALE, "COLA-330", 10),
        Stocking(COOLER, "MILK-1L", 8),
        Stocking(STORAGE, "PASTA-500", 12),
        Stocking(STORAGE, "RICE-1K", 12),
    ]
    physics = Physics(
        read_prob=(0.85, 0.99), cross_read_rate=0.0, fades=False, scale_disturbances=False
    )
    return Scenario(
        name="alerts",
        description="deterministic alert timeline",
        site=_alerts_site(),
        stock=tuple(stock),
        physics=physics,
        adjacency=_aisle_adjacency(_ALERT_SHELVES),
        script=_alerts_script(),
        duration_s=3600.0,
    )


SCENARIOS: dict[str, Callable[[], Scenario]] = {"demo": demo, "steady": steady, "alerts": alerts}


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]()
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; one of {', '.join(SCENARIOS)}") from None
