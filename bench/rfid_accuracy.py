"""RFID accuracy bench: shelfsense's TagTracker vs fixed 1 s / 10 s windows on the same traces.

    .venv/bin/python bench/rfid_accuracy.py [--quick] [--rounds-per-s 4] [--seed 7]

One table over read probability {0.3, 0.6, 0.9} (per-tag p ~ U(p-0.05, p+0.05) per round) x
cross-read rate {0, 10 %, 30 %} x outage {off, on}: precision, recall, F1, stock accuracy,
false movements per 1,000 tag-hours, departure latency p50/p95 (s of store time), invented
departures near outages, for all three trackers. Then the tracker's speed (reads/s, one core)
and memory per live tag. Scoring rules: see bench/rfid_scoring.py. Outage "on": reader outages
(2/h, mean 60 s), antenna failures (2/h per antenna, mean 45 s) and one 3-minute gateway outage
whose batches arrive late, replayed after the gateway is back, partly out of order.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rfid_scenario import INSIDE_KEY, OUTSIDE_KEY, PORTAL, World, build_world
from rfid_scoring import Score, score

from firmware_sim.devices.rfid_reader import ReaderDevice, ReaderFrame
from ingest.rfid import AntennaSpec, PortalSide, TagMovement, TagTracker, TrackerConfig
from ingest.rfid_baselines import FixedWindowTracker

WARMUP_MS = 120_000
GATEWAY_OUTAGE_MS = (900_000, 180_000)  # (start after t0, length) in outage-on runs


class Tracker(Protocol):
    def observe(
        self, device: str, t0_ms: int, t1_ms: int, ants: list[int], epc: list[str],
        ant: list[int], rssi: list[float], ts: list[int], n: list[int],
    ) -> list[TagMovement]: ...  # fmt: skip
    def device_offline(self, device: str, ts_ms: int) -> None: ...
    def expire(self, now_ms: int) -> list[TagMovement]: ...


@dataclass(frozen=True, slots=True)
class Size:
    aisles: int
    shelves: int
    items: int
    duration_s: int


FULL = Size(aisles=3, shelves=6, items=15, duration_s=1800)
QUICK = Size(aisles=2, shelves=4, items=12, duration_s=600)
NAMES = ("shelfsense", "fixed-1s", "fixed-10s")


def antenna_specs(world: World) -> list[AntennaSpec]:
    specs = []
    for dev, ports in world.readers.items():
        for port, key in ports.items():
            if key == INSIDE_KEY:
                specs.append(AntennaSpec(dev, port, PORTAL, PortalSide.INSIDE))
            elif key == OUTSIDE_KEY:
                specs.append(AntennaSpec(dev, port, PORTAL, PortalSide.OUTSIDE))
            else:
                specs.append(AntennaSpec(dev, port, key))
    return specs


def make_readers(
    world: World, p: float, cross: float, outage: bool, seed: int, rps: float
) -> dict[str, ReaderDevice]:
    readers = {}
    for i, (dev, ports) in enumerate(sorted(world.readers.items())):
        portal = dev == PORTAL
        readers[dev] = ReaderDevice(
            device_id=dev,
            antennas=ports,
            seed=seed * 1000 + i,
            rounds_per_s=2 * rps if portal else rps,
            read_prob=(max(0.05, p - 0.05), min(1.0, p + 0.05)),
            cross_read_rate=max(cross, 0.2) if portal else cross,
            adjacency=world.adjacency,
            outage_rate_per_h=2.0 if outage and not portal else 0.0,
            antenna_fail_rate_per_h=2.0 if outage and not portal else 0.0,
        )
    return readers


class Run:
    """Drives readers over the world's timeline and feeds every tracker the same batches."""

    def __init__(
        self,
        world: World,
        readers: dict[str, ReaderDevice],
        trackers: list[Tracker],
        outage: bool,
        seed: int,
    ) -> None:
        self.w, self.readers, self.trackers = world, readers, trackers
        self.emitted: list[list[tuple[TagMovement, int]]] = [[] for _ in trackers]
        self.dev_of_key = {k: d for d, ports in world.readers.items() for k in ports.values()}
        self.at: dict[str, dict[str, str]] = {d: {} for d in world.readers}
        self.where: dict[str, str | None] = {}
        self.next_change = 0
        self.dark: dict[str, set[int]] = {}
        self.frames: list[tuple[str, ReaderFrame]] = []
        self.rng = random.Random(seed)
        gw0, gw_len = GATEWAY_OUTAGE_MS
        self.gateway = (world.start_ms + gw0, world.start_ms + gw0 + gw_len) if outage else None
        self.gw_dev = "reader-1"
        self.queue: list[ReaderFrame] = []

    def apply_changes(self, until_ms: int) -> None:
        ch = self.w.changes
        while self.next_change < len(ch) and ch[self.next_change][0] <= until_ms:
            _, epc, key = ch[self.next_change]
            self.next_change += 1
            old = self.where.get(epc)
            if old is not None:
                self.at[self.dev_of_key[old]].pop(epc, None)
            if key is not None:
                self.at[self.dev_of_key[key]][epc] = key
            self.where[epc] = key

    def step(self, dev: str, t0: int, t1: int, now: int) -> None:
        self.apply_changes((t0 + t1) // 2)
        frame = self.readers[dev].frame(t0, t1, self.at[dev])
        self.note_dark(dev, t0, t1, frame)
        if frame is None:
            return
        self.frames.append((dev, frame))
        if (
            dev == self.gw_dev
            and self.gateway is not None
            and self.gateway[0] <= t0 < self.gateway[1]
        ):
            if not self.queue:
                self.emit(lambda tr: (tr.device_offline(dev, t0), [])[1], now)
            self.queue.append(frame)
            return
        if self.queue and dev == self.gw_dev:
            self.replay(dev, now)
        self.deliver(dev, frame, now)

    def replay(self, dev: str, now: int) -> None:
        q = self.queue
        for i in range(0, len(q) - 1, 2):
            if self.rng.random() < 0.2:
                q[i], q[i + 1] = q[i + 1], q[i]
        for frame in q:
            self.deliver(dev, frame, now)
        self.queue = []

    def deliver(self, dev: str, f: ReaderFrame, now: int) -> None:
        self.emit(
            lambda tr: tr.observe(dev, f.t0_ms, f.t1_ms, f.ants, f.epc, f.ant, f.rssi, f.ts, f.n),
            now,
        )

    def emit(self, call: Callable[[Tracker], list[TagMovement]], now: int) -> None:
        for i, tr in enumerate(self.trackers):
            self.emitted[i].extend((m, now) for m in call(tr))

    def note_dark(self, dev: str, t0: int, t1: int, frame: ReaderFrame | None) -> None:
        ports = self.w.readers[dev]
        live = set(frame.ants) if frame is not None else set()
        gw = (
            self.gateway is not None
            and dev == self.gw_dev
            and self.gateway[0] <= t0 < self.gateway[1] + 20_000
        )
        for port, key in ports.items():
            if port not in live or gw:
                self.dark.setdefault(key, set()).update(range(t0 // 1000, t1 // 1000 + 1))

    def run(self) -> None:
        w = self.w
        shelf_devs = [d for d in w.readers if d != PORTAL]
        for t in range(w.start_ms, w.end_ms, 1000):
            self.step(PORTAL, t, t + 500, t + 500)
            for dev in shelf_devs:
                self.step(dev, t, t + 1000, t + 1000)
            self.step(PORTAL, t + 500, t + 1000, t + 1000)
            self.emit(lambda tr, now=t + 1000: tr.expire(now), t + 1000)


def run_config(
    size: Size, p: float, cross: float, outage: bool, seed: int, rps: float
) -> tuple[list[Score], Run]:
    world = build_world(
        seed=seed,
        aisles=size.aisles,
        shelves_per_aisle=size.shelves,
        items_per_shelf=size.items,
        duration_s=size.duration_s,
    )
    specs = antenna_specs(world)
    trackers: list[Tracker] = [
        TagTracker(TrackerConfig(), specs),
        FixedWindowTracker(1000, specs),
        FixedWindowTracker(10_000, specs),
    ]
    run = Run(world, make_readers(world, p, cross, outage, seed, rps), trackers, outage, seed)
    run.run()
    return [score(world, em, WARMUP_MS, run.dark) for em in run.emitted], run


def reads_per_second(
    frames: list[tuple[str, ReaderFrame]], specs: list[AntennaSpec], repeat: int = 3
) -> float:
    best = 0.0
    rows = sum(len(f.epc) for _, f in frames)
    for _ in range(repeat):
        tracker = TagTracker(TrackerConfig(), specs)
        t = time.process_time()
        for dev, f in frames:
            tracker.observe(dev, f.t0_ms, f.t1_ms, f.ants, f.epc, f.ant, f.rssi, f.ts, f.n)
        best = max(best, rows / max(time.process_time() - t, 1e-9))
    return best


def memory_per_tag(n_tags: int) -> tuple[float, int]:
    """Bytes per confirmed tag (tracemalloc) with `n_tags` tags on 100 shelves."""
    specs = [AntennaSpec("r", i + 1, f"s/{i}") for i in range(100)]
    gc.collect()
    tracemalloc.start()
    tracker = TagTracker(TrackerConfig(rounds_per_s=4.0), specs)
    base = tracemalloc.get_traced_memory()[0]
    t0 = 1_763_719_200_000
    per = n_tags // 100
    for k in range(5):
        for port in range(1, 101):
            epcs = [f"3034{port:04X}{i:016X}" for i in range(per)]
            tracker.observe(
                "r",
                t0 + k * 1000,
                t0 + (k + 1) * 1000,
                [port],
                epcs,
                [port] * per,
                [-50.0] * per,
                [t0 + k * 1000 + 500] * per,
                [4] * per,
            )
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    live = len(tracker.present())
    return used / max(live, 1), live


def fmt_row(label: str, name: str, s: Score) -> str:
    return (
        f"{label:<16} {name:<10} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f}"
        f" {100 * s.stock_acc:7.2f} {s.false_per_1k_h:8.1f} {s.lat_p50_s:6.1f} {s.lat_p95_s:6.1f}"
        f" {s.invented:5d} {s.n_true:6d} {s.n_pred:6d}"
    )


HEADER = (
    f"{'p / cross / out':<16} {'tracker':<10} {'prec':>6} {'recall':>6} {'F1':>6} {'stock%':>7}"
    f" {'false/kh':>8} {'dep50':>6} {'dep95':>6} {'invnt':>5} {'true':>6} {'emit':>6}"
)


def main(argv: list[str] | None = None) -> dict[tuple[float, float, bool], list[Score]]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small store, 15 min store time")
    ap.add_argument(
        "--rounds-per-s", type=float, default=4.0, help="inventory rounds/s per antenna"
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-perf", action="store_true", help="skip the speed and memory measurements")
    args = ap.parse_args(argv)
    size = QUICK if args.quick else FULL
    started = time.perf_counter()
    print(
        f"store: {size.aisles} aisles x {size.shelves} shelves x {size.items} items,"
        f" {size.duration_s} s store time, {args.rounds_per_s:g} rounds/s per antenna"
        f" (portal {2 * args.rounds_per_s:g}), seed {args.seed}"
    )
    print(HEADER)
    results: dict[tuple[float, float, bool], list[Score]] = {}
    sample: Run | None = None
    for p in (0.3, 0.6, 0.9):
        for cross in (0.0, 0.1, 0.3):
            for outage in (False, True):
                scores, run = run_config(size, p, cross, outage, args.seed, args.rounds_per_s)
                results[(p, cross, outage)] = scores
                if (p, cross, outage) == (0.6, 0.1, False):
                    sample = run
                label = f"{p:.1f} / {int(100 * cross):>2}% / {'on' if outage else 'off'}"
                for name, s in zip(NAMES, scores, strict=True):
                    print(fmt_row(label, name, s), flush=True)
    print(f"accuracy runs: {time.perf_counter() - started:.0f} s")
    if not args.no_perf and sample is not None:
        specs = antenna_specs(sample.w)
        rps = reads_per_second(sample.frames, specs)
        rows = sum(len(f.epc) for _, f in sample.frames)
        print(
            f"speed: {rps:,.0f} reads/s on one core"
            f" (TagTracker.observe over {rows:,} read rows, p=0.6, 10% cross)"
        )
        per_tag, live = memory_per_tag(20_000 if args.quick else 200_000)
        print(
            f"memory: {per_tag:,.0f} bytes per live tag ({live:,} tags)"
            f" -> {per_tag * 1e6 / 2**30:.2f} GiB per million"
        )
    return results


if __name__ == "__main__":
    main()
