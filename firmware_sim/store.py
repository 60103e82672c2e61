"""The simulated store: a PURE model of where every item is, and its ground truth.

Spots. Every tagged item is at exactly one *spot*: a location id of the site (shelf, storage,
cooler, outside), one side of a portal's read zone (``"door-1#inside"``, ``"door-1#outside"``),
or ``None`` while an actor carries it away from every antenna (a basket, a staff cart). Weight
shelves hold untagged units, counted per location. Items never disappear: one that leaves the
store stays at the ``outside`` location.

Actors (shoppers, staff, a delivery driver) take, carry and put items. ``apply(action)`` changes
the state and returns the truth records of what happened, each a JSON-ready dict:

    {"ts", "epc", "sku", "from", "to", "kind"}            one tagged item changed spot
    {"ts", "kind", "sku", "location", "delta", "units"}  a weight shelf's units changed
    {"ts", "kind": "setpoint", "location", "temp_c"}     a cooler's thermostat changed
    {"ts", "kind": "note", ...}                           what the scenario expects to happen

Invariant (the tests check it): replaying the movement and unit records in order from an empty
store gives exactly ``stock()``. Stock counts stock locations only (shelf, storage, cooler).
Which item a hand takes is drawn from one numpy Generator seeded at construction; times are
event-time epoch ms given by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from firmware_sim.actions import (
    Action,
    Carry,
    Deliver,
    Note,
    Put,
    Setpoint,
    Take,
    TruthKind,
)
from shelfsense.domain import LocationKind
from shelfsense.epc import encode_sgtin96
from shelfsense.site import SiteFile, WeightDevice

Record = dict[str, Any]
Spot = str | None
STOCK_KINDS = frozenset({LocationKind.SHELF, LocationKind.STORAGE, LocationKind.COOLER})


class StoreError(ValueError):
    """An action or placement that names something the store does not have."""


@dataclass(frozen=True, slots=True)
class Item:
    epc: str
    sku: str
    serial: int


@dataclass(slots=True)
class Actor:
    spot: Spot = None
    epcs: list[str] = field(default_factory=list)  # carried tagged items, in pick order
    units: dict[str, int] = field(default_factory=dict)  # carried untagged units per sku


def stock_key(sku: str, location: str) -> str:
    """The checkpoint key of one (sku, location) cell: ``"sku|location"``."""
    return f"{sku}|{location}"


class SimStore:
    """Items, spots and weight-shelf units of one site; the one owner is the sim loop."""

    def __init__(self, site: SiteFile, *, seed: int) -> None:
        self.site = site
        self._rng = np.random.default_rng(seed)
        self._kinds = {loc.id: loc.kind for loc in site.locations}
        self._gtins = {p.sku: p.gtin for p in site.products}
        self._weight_sku = {d.location: d.sku for d in site.devices if isinstance(d, WeightDevice)}
        self.items: dict[str, Item] = {}
        self.spot: dict[str, Spot] = {}
        self._at: dict[Spot, dict[str, None]] = {}  # spot -> epcs, insertion-ordered
        self.units: dict[str, int] = dict.fromkeys(self._weight_sku, 0)
        self.actors: dict[str, Actor] = {}
        self.setpoints: dict[str, float] = {}
        self._next_serial: dict[str, int] = {}

    # -- queries ------------------------------------------------------------------------------

    def epcs_at(self, spot: Spot) -> list[str]:
        return list(self._at.get(spot, ()))

    def count_at(self, spot: Spot, sku: str | None = None) -> int:
        """Tagged items at a spot (of one sku), or units for a weight shelf."""
        if spot in self.units:
            return self.units[spot]
        epcs = self._at.get(spot, {})
        return len(epcs) if sku is None else sum(self.items[e].sku == sku for e in epcs)

    def stock_locations(self) -> list[str]:
        return [loc for loc, kind in self._kinds.items() if kind in STOCK_KINDS]

    def is_weight_shelf(self, location: str) -> bool:
        return location in self._weight_sku

    def stock(self) -> dict[str, int]:
        """``{"sku|location": qty}`` over stock locations; cells with zero are left out."""
        out: dict[str, int] = {}
        for spot, epcs in self._at.items():
            if spot is None or self._kinds.get(spot) not in STOCK_KINDS:
                continue
            for epc in epcs:
                key = stock_key(self.items[epc].sku, spot)
                out[key] = out.get(key, 0) + 1
        for location, units in self.units.items():
            if units:
                out[stock_key(self._weight_sku[location], location)] = units
        return dict(sorted(out.items()))

    # -- changes ------------------------------------------------------------------------------

    def place(self, ts_ms: int, location: str, sku: str, qty: int) -> list[Record]:
        """Initial stock: ``qty`` new items (or units on a weight shelf) already at ``location``."""
        self._check_location(location)
        if self.is_weight_shelf(location):
            return [self._change_units(ts_ms, location, qty, TruthKind.PLACE)]
        return [self._new_item(ts_ms, sku, location, TruthKind.PLACE) for _ in range(qty)]

    def apply(self, action: Action) -> list[Record]:
        match action:
            case Take():
                return self._take(action)
            case Put():
                return self._put(action)
            case Carry():
                return self._carry(action)
            case Deliver():
                return self._deliver(action)
            case Setpoint():
                self._check_location(action.location)
                self.setpoints[action.location] = action.temp_c
                return [action.record()]
            case Note():
                return [action.record()]
        raise StoreError(f"unknown action {action!r}")

    def _take(self, a: Take) -> list[Record]:
        self._check_location(a.location)
        actor = self.actors.setdefault(a.actor, Actor())
        if self.is_weight_shelf(a.location):
            qty = min(a.qty, self.units[a.location])
            sku = self._weight_sku[a.location]
            actor.units[sku] = actor.units.get(sku, 0) + qty
            return [self._change_units(a.ts_ms, a.location, -qty, a.kind)] if qty else []
        pool = [e for e in self._at.get(a.location, {}) if a.sku in (None, self.items[e].sku)]
        chosen = self._choose(pool, a.qty)
        actor.epcs.extend(chosen)
        return [self._move(a.ts_ms, epc, actor.spot, a.kind) for epc in chosen]

    def _put(self, a: Put) -> list[Record]:
        self._check_location(a.location)
        actor = self.actors.setdefault(a.actor, Actor())
        if self.is_weight_shelf(a.location):
            sku = self._weight_sku[a.location]
            qty = a.qty if a.qty is not None else actor.units.get(sku, 0)
            actor.units[sku] = max(0, actor.units.get(sku, 0) - qty)  # short: from the backroom
            return [self._change_units(a.ts_ms, a.location, qty, a.kind)] if qty else []
        pool = [e for e in actor.epcs if a.sku in (None, self.items[e].sku)]
        chosen = pool if a.qty is None else pool[: a.qty]
        for epc in chosen:
            actor.epcs.remove(epc)
        return [self._move(a.ts_ms, epc, a.location, a.kind) for epc in chosen]

    def _carry(self, a: Carry) -> list[Record]:
        """The actor walks to ``a.spot`` with what it carries; at an outside location it lets go."""
        if a.spot is not None:
            self._check_location(a.spot.split("#", 1)[0])
        actor = self.actors.setdefault(a.actor, Actor())
        actor.spot = a.spot
        records = [self._move(a.ts_ms, epc, a.spot, a.kind) for epc in actor.epcs]
        if a.spot is not None and self._kinds.get(a.spot) == LocationKind.OUTSIDE:
            actor.epcs.clear()
            actor.units.clear()
        return records

    def _deliver(self, a: Deliver) -> list[Record]:
        """New tagged items appear in the actor's hands (a delivery arriving from outside)."""
        actor = self.actors.setdefault(a.actor, Actor())
        created = [self._new_item(a.ts_ms, a.sku, actor.spot, a.kind) for _ in range(a.qty)]
        actor.epcs.extend(r["epc"] for r in created)
        return created

    # -- helpers ------------------------------------------------------------------------------

    def _choose(self, pool: list[str], qty: int) -> list[str]:
        if qty >= len(pool):
            return pool
        picks = self._rng.choice(len(pool), size=qty, replace=False)
        return [pool[int(i)] for i in sorted(picks)]

    def _new_item(self, ts_ms: int, sku: str, spot: Spot, kind: TruthKind) -> Record:
        gtin = self._gtins.get(sku)
        if gtin is None:
            raise StoreError(f"product {sku!r} has no GTIN: it cannot carry an SGTIN tag")
        serial = self._next_serial.get(sku, 1)
        self._next_serial[sku] = serial + 1
        item = Item(encode_sgtin96(gtin, serial), sku, serial)
        self.items[item.epc] = item
        self.spot[item.epc] = None
        self._at.setdefault(None, {})[item.epc] = None
        return self._move(ts_ms, item.epc, spot, kind)

    def _move(self, ts_ms: int, epc: str, to: Spot, kind: TruthKind) -> Record:
        src = self.spot[epc]
        del self._at[src][epc]
        self._at.setdefault(to, {})[epc] = None
        self.spot[epc] = to
        sku = self.items[epc].sku
        return {"ts": ts_ms, "epc": epc, "sku": sku, "from": src, "to": to, "kind": str(kind)}

    def _change_units(self, ts_ms: int, location: str, delta: int, kind: TruthKind) -> Record:
        self.units[location] += delta
        return {
            "ts": ts_ms,
            "kind": str(kind),
            "sku": self._weight_sku[location],
            "location": location,
            "delta": delta,
            "units": self.units[location],
        }

    def _check_location(self, location: str) -> None:
        if location not in self._kinds:
            raise StoreError(f"location {location!r} is not in site {self.site.site}")


def replay(records: Iterable[Record], stock_locations: Iterable[str]) -> dict[str, int]:
    """Stock rebuilt from movement and unit records alone (checkpoints and notes are skipped).

    ``stock_locations`` are the ids that count as stock (``SimStore.stock_locations()``).
    """
    counted = set(stock_locations)
    cells: dict[str, int] = {}
    where: dict[str, tuple[str, Spot]] = {}
    units: dict[str, int] = {}
    for rec in records:
        if "epc" in rec:
            where[rec["epc"]] = (rec["sku"], rec["to"])
        elif "delta" in rec:
            units[stock_key(rec["sku"], rec["location"])] = rec["units"]
    for sku, spot in where.values():
        if spot in counted:
            key = stock_key(sku, spot)
            cells[key] = cells.get(key, 0) + 1
    cells.update((k, v) for k, v in units.items() if v)
    return dict(sorted(cells.items()))
