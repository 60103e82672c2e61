"""Who does what when: turns a scenario's activity and script into timed actions. PURE.

The planner keeps a heap of future actions. ``due(t1_ms, store)`` first lets every behaviour
whose next decision falls before ``t1_ms`` look at the store (read-only) and schedule what its
people will do, then pops every action with ``ts_ms < t1_ms`` in time order. Behaviours:

- shoppers arrive as a Poisson process, stop at 1..4 homes taking 1..2 items each, now and then
  leave an item on a wrong shelf, then walk out through the portal (inside side, outside side,
  outside: 1.5 s apart);
- a restock round refills every home below 3/4 of its start quantity from storage;
- a tidy round takes misplaced items back home, now and then onto a wrong shelf instead;
- a delivery carries new items of the scarcest stored product in through the portal to storage.

Quantities are resolved by the store when an action applies, so plans never overdraw.
"""

from __future__ import annotations

import heapq
import itertools

import numpy as np

from firmware_sim.actions import Action, Carry, Deliver, Put, Take, TruthKind
from firmware_sim.scenario import Activity, Scenario
from firmware_sim.store import SimStore

_WALK_MS = 1500  # between the portal's zones


class Planner:
    def __init__(self, scenario: Scenario, *, seed: int, start_ms: int) -> None:
        self._sc = scenario
        self._rng = np.random.default_rng(seed)
        self._heap: list[tuple[int, int, Action]] = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self._homes = scenario.homes()
        self._shelves = sorted({loc for loc, _ in self._homes})
        self._next: dict[str, float] = {}
        for action in scenario.script:
            self._push(action.at(start_ms))
        act = scenario.activity
        if act is not None:
            self._next = {
                "shopper": start_ms + self._gap_ms(act.shoppers_per_h),
                "restock": start_ms + act.restock_every_s * 1000,
                "tidy": start_ms + act.tidy_every_s * 1000,
                "delivery": start_ms + act.delivery_every_s * 1000,
            }

    def due(self, t1_ms: int, store: SimStore) -> list[Action]:
        """Actions with ``ts_ms < t1_ms``, in time order (ties in scheduling order)."""
        self._decide(t1_ms, store)
        out: list[Action] = []
        while self._heap and self._heap[0][0] < t1_ms:
            out.append(heapq.heappop(self._heap)[2])
        return out

    def _push(self, action: Action) -> None:
        heapq.heappush(self._heap, (action.ts_ms, next(self._seq), action))

    def _gap_ms(self, rate_per_h: float) -> float:
        return float(self._rng.exponential(3_600_000.0 / rate_per_h)) if rate_per_h > 0 else 1e18

    def _decide(self, t1_ms: int, store: SimStore) -> None:
        act = self._sc.activity
        if act is None:
            return
        while (name := min(self._next, key=self._next.__getitem__)) and self._next[name] < t1_ms:
            ts_ms = int(self._next[name])
            match name:
                case "shopper":
                    self._shopper(ts_ms, act)
                    self._next[name] += self._gap_ms(act.shoppers_per_h)
                case "restock":
                    self._restock(ts_ms, store, act)
                    self._next[name] += act.restock_every_s * 1000
                case "tidy":
                    self._tidy(ts_ms, store, act)
                    self._next[name] += act.tidy_every_s * 1000
                case _:
                    self._delivery(ts_ms, store, act)
                    self._next[name] += act.delivery_every_s * 1000

    def _uniform_ms(self, lo_s: float, hi_s: float) -> int:
        return int(self._rng.uniform(lo_s, hi_s) * 1000)

    def _int(self, bounds: tuple[int, int]) -> int:
        return int(self._rng.integers(bounds[0], bounds[1] + 1))

    def _shopper(self, ts_ms: int, act: Activity) -> None:
        who = f"shopper-{next(self._ids)}"
        for _ in range(self._int(act.stops_per_shopper)):
            ts_ms += self._uniform_ms(15, 60)
            home = self._shelves[int(self._rng.integers(len(self._shelves)))]
            self._push(Take(ts_ms, who, home, self._int(act.items_per_stop)))
            if self._rng.random() < act.misplace_prob:
                ts_ms += self._uniform_ms(5, 20)
                self._push(Put(ts_ms, who, self._other_shelf(home), 1, kind=TruthKind.MISPLACE))
        self._walk_out(ts_ms + self._uniform_ms(30, 120), who)

    def _walk_out(self, ts_ms: int, who: str) -> None:
        portal = self._sc.portal()
        self._push(Carry(ts_ms, who, f"{portal}#inside"))
        self._push(Carry(ts_ms + _WALK_MS, who, f"{portal}#outside"))
        self._push(Carry(ts_ms + 2 * _WALK_MS, who, self._sc.outside()))

    def _other_shelf(self, home: str) -> str:
        others = [s for s in self._shelves if s != home]
        return others[int(self._rng.integers(len(others)))] if others else home

    def _restock(self, ts_ms: int, store: SimStore, act: Activity) -> None:
        storage = self._sc.storage()
        for (home, sku), start_qty in self._homes.items():
            have = store.count_at(home, sku)
            if have >= act.restock_below * start_qty:
                continue
            who = f"staff-{next(self._ids)}"
            if not store.is_weight_shelf(home):
                self._push(Take(ts_ms, who, storage, start_qty - have, sku, TruthKind.RESTOCK))
            ts_ms += self._uniform_ms(20, 60)
            self._push(Put(ts_ms, who, home, start_qty - have, sku, TruthKind.RESTOCK))

    def _tidy(self, ts_ms: int, store: SimStore, act: Activity) -> None:
        home_of = {sku: loc for loc, sku in self._homes}
        for shelf in self._shelves:
            if store.is_weight_shelf(shelf):
                continue
            for epc in store.epcs_at(shelf):
                sku = store.items[epc].sku
                if (shelf, sku) in self._homes or sku not in home_of:
                    continue
                who = f"staff-{next(self._ids)}"
                self._push(Take(ts_ms, who, shelf, 1, sku, TruthKind.MOVE))
                ts_ms += self._uniform_ms(10, 30)
                wrong = self._rng.random() < act.tidy_wrong_prob
                kind = TruthKind.MISPLACE if wrong else TruthKind.MOVE
                target = self._other_shelf(shelf) if wrong else home_of[sku]
                self._push(Put(ts_ms, who, target, None, sku, kind))

    def _delivery(self, ts_ms: int, store: SimStore, act: Activity) -> None:
        storage, portal, who = self._sc.storage(), self._sc.portal(), f"driver-{next(self._ids)}"
        skus = sorted({sku for s in self._sc.stock if s.location == storage for sku in [s.sku]})
        if not skus:
            return
        sku = min(skus, key=lambda s: (store.count_at(storage, s), s))
        self._push(Carry(ts_ms, who, self._sc.outside(), TruthKind.ENTRY))
        self._push(Deliver(ts_ms, who, sku, act.delivery_qty))
        for i, spot in enumerate((f"{portal}#outside", f"{portal}#inside", None), start=1):
            self._push(Carry(ts_ms + i * _WALK_MS, who, spot, TruthKind.ENTRY))
        self._push(Put(ts_ms + self._uniform_ms(30, 90), who, storage, None, None, TruthKind.ENTRY))
