"""Store scenario with ground truth for the RFID accuracy bench (seeded, pure).

Layout: `aisles` readers, one per aisle, each with one antenna per shelf; shelves in an aisle are
adjacent to their neighbours (cross-reads). One portal `door-1` with an inside and an outside
antenna on its own reader. Each shelf's planogram holds one SKU.

Story (Poisson processes over store time): customers pick items (depart), carry them for
30-240 s and leave through the portal (exit), or put them back on a random shelf, often the wrong
one (arrive). Staff move items between shelves (move), half of them to a neighbour. Restocks bring
3-6 items to a shelf, half of them through the portal first (entry, then arrive 20-60 s later).
Portal traversals run at walking speed: 0.8-1.6 s in each antenna's field.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

PORTAL = "door-1"
INSIDE_KEY = f"{PORTAL}#inside"
OUTSIDE_KEY = f"{PORTAL}#outside"


@dataclass(frozen=True, slots=True)
class Truth:
    """A ground-truth movement (same vocabulary as the tracker's movements)."""

    epc: str
    kind: str
    ts_ms: int
    from_location: str | None
    to_location: str | None


@dataclass(slots=True)
class World:
    start_ms: int
    end_ms: int
    shelves: list[str]
    planogram: dict[str, str]  # shelf -> sku
    adjacency: dict[str, list[str]]
    readers: dict[str, dict[int, str]]  # device -> port -> location key
    sku_of: dict[str, str] = field(default_factory=dict)
    changes: list[tuple[int, str, str | None]] = field(default_factory=list)  # (ms, epc, key)
    truth: list[Truth] = field(default_factory=list)


def build_world(
    *, seed: int, aisles: int, shelves_per_aisle: int, items_per_shelf: int, duration_s: int
) -> World:
    start = 1_763_719_200_000
    shelves = [
        f"floor/aisle-{a + 1}/shelf-{s + 1}"
        for a in range(aisles)
        for s in range(shelves_per_aisle)
    ]
    adjacency: dict[str, list[str]] = {INSIDE_KEY: [OUTSIDE_KEY], OUTSIDE_KEY: [INSIDE_KEY]}
    readers: dict[str, dict[int, str]] = {"door-1": {1: INSIDE_KEY, 2: OUTSIDE_KEY}}
    for a in range(aisles):
        row = shelves[a * shelves_per_aisle : (a + 1) * shelves_per_aisle]
        readers[f"reader-{a + 1}"] = {i + 1: s for i, s in enumerate(row)}
        for i, s in enumerate(row):
            adjacency[s] = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
    planogram = {s: f"SKU-{i:03d}" for i, s in enumerate(shelves)}
    world = World(start, start + duration_s * 1000, shelves, planogram, adjacency, readers)
    _Story(world, random.Random(seed), items_per_shelf).run()
    world.changes.sort(key=lambda c: c[0])
    world.truth.sort(key=lambda m: m.ts_ms)
    return world


class _Story:
    def __init__(self, world: World, rng: random.Random, items_per_shelf: int) -> None:
        self.w, self.rng = world, rng
        self.pos: dict[str, str | None] = {}
        self.busy: set[str] = set()
        self.heap: list[tuple[int, int, str, tuple[object, ...]]] = []
        self.seq = 0
        self.next_epc = 0
        for shelf in world.shelves:
            for _ in range(items_per_shelf):
                self.place(self.new_item(world.planogram[shelf]), world.start_ms, shelf, "arrive")
        n_items = len(world.shelves) * items_per_shelf
        picks_per_h = 1.5 * n_items
        self.poisson("pick", picks_per_h)
        self.poisson("restock", picks_per_h * 0.9 / 4.5)
        self.poisson("staff_move", max(6.0, 0.05 * n_items))

    def new_item(self, sku: str) -> str:
        self.next_epc += 1
        epc = f"30340000000000{self.next_epc:010X}"
        self.w.sku_of[epc] = sku
        return epc

    def poisson(self, kind: str, per_h: float) -> None:
        t = self.w.start_ms + 60_000
        while True:
            t += int(self.rng.expovariate(per_h / 3_600_000))
            if t >= self.w.end_ms:
                return
            self.push(t, kind)

    def push(self, t: int, kind: str, *args: object) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, args))

    def place(
        self, epc: str, t: int, key: str | None, kind: str | None, frm: str | None = None
    ) -> None:
        old = self.pos.get(epc)
        self.pos[epc] = key
        self.w.changes.append((t, epc, key))
        if kind is None:
            return
        to = key if kind in ("arrive", "move", "entry") else None
        src = frm if frm is not None else (old if kind in ("depart", "move") else None)
        self.w.truth.append(Truth(epc, kind, t, src, PORTAL if kind == "entry" else to))

    def run(self) -> None:
        while self.heap:
            t, _, kind, args = heapq.heappop(self.heap)
            if t < self.w.end_ms:
                getattr(self, f"on_{kind}")(t, *args)

    def on_shelf(self) -> list[str]:
        return [e for e, k in self.pos.items() if k in self.w.planogram and e not in self.busy]

    def on_pick(self, t: int) -> None:
        items = self.on_shelf()
        if not items:
            return
        epc = self.rng.choice(items)
        self.busy.add(epc)
        self.place(epc, t, None, "depart")
        carry = self.rng.randint(30_000, 240_000)
        if self.rng.random() < 0.85:
            self.push(t + carry, "traverse", epc, True)
        else:
            shelf = self.rng.choice(self.w.shelves)
            self.push(t + carry, "put", epc, shelf)

    def on_put(self, t: int, epc: str, shelf: str) -> None:
        self.busy.discard(epc)
        self.place(epc, t, shelf, "arrive")

    def on_traverse(self, t: int, epc: str, leaving: bool) -> None:
        first, second = (INSIDE_KEY, OUTSIDE_KEY) if leaving else (OUTSIDE_KEY, INSIDE_KEY)
        mid = t + self.rng.randint(800, 1600)
        self.place(epc, t, first, None)
        self.place(epc, mid, second, "exit" if leaving else "entry", PORTAL if leaving else None)
        self.place(epc, mid + self.rng.randint(800, 1600), None, None)

    def on_restock(self, t: int) -> None:
        shelf = self.rng.choice(self.w.shelves)
        via_portal = self.rng.random() < 0.5
        for _ in range(self.rng.randint(3, 6)):
            epc = self.new_item(self.w.planogram[shelf])
            self.busy.add(epc)
            if via_portal:
                self.on_traverse(t, epc, False)
                self.push(t + self.rng.randint(20_000, 60_000), "put", epc, shelf)
            else:
                self.push(t + self.rng.randint(0, 20_000), "put", epc, shelf)

    def on_staff_move(self, t: int) -> None:
        items = self.on_shelf()
        if not items:
            return
        epc = self.rng.choice(items)
        here = self.pos[epc]
        assert here is not None
        near = self.w.adjacency[here]
        choices = (
            near if near and self.rng.random() < 0.5 else [s for s in self.w.shelves if s != here]
        )
        self.place(epc, t, self.rng.choice(choices), "move")
