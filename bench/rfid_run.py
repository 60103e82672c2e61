"""Drive simulated readers over a scenario's timeline and feed trackers the same batches.

Shared by the accuracy runs (`bench/rfid_accuracy.py`) and the static-shelf soak
(`bench/rfid_soak.py`). Per store second: the portal's first half-second batch, one 1 s batch per
shelf reader, the portal's second half, then `expire` at the second's end. Outage runs add one
gateway outage of `reader-1` (`GATEWAY_OUTAGE_MS`): `device_offline` at its start, its batches
held and replayed in order (20 % of neighbouring pairs swapped) when the gateway is back.
A tag taken or put down during a batch is read only in the rounds it is there (`Run.stays`):
reads stop the moment it leaves, not at the batch's end or its start.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from rfid_scenario import INSIDE_KEY, OUTSIDE_KEY, PORTAL, World, build_world

from firmware_sim.devices.rfid_reader import ReaderDevice, ReaderFrame, Stay
from ingest.rfid import AntennaSpec, PortalSide, TagMovement, TagTracker, TrackerConfig

WARMUP_MS = 120_000
GATEWAY_OUTAGE_MS = (900_000, 180_000)  # (start after t0, length) in outage-on runs


def tracker_config(options: Sequence[str] = ()) -> TrackerConfig:
    """shelfsense's tracker configuration with KEY=VALUE overrides (the benches' `--tracker`
    option, e.g. `fade_rate_per_h=0`): KEY a `TrackerConfig` field, VALUE parsed as its
    default's type (`none` for an optional one). Raises ValueError on an unknown or bad one."""
    fields = {f.name: f.default for f in dataclasses.fields(TrackerConfig)}
    changes: dict[str, Any] = {}  # float, int or None, as the field
    for option in options:
        key, sep, text = option.partition("=")
        if not sep or key not in fields:
            known = ", ".join(sorted(fields))
            raise ValueError(f"tracker option {option!r}: expected KEY=VALUE, KEY one of {known}")
        try:
            changes[key] = (
                None if text == "none" else int(text) if type(fields[key]) is int else float(text)
            )
        except ValueError:
            kind = "an integer" if type(fields[key]) is int else "a number"
            raise ValueError(f"tracker option {option!r}: {text!r} is not {kind}") from None
    return dataclasses.replace(TrackerConfig(), **changes)


def add_tracker_option(ap: argparse.ArgumentParser, note: str = "") -> None:
    """The benches' `--tracker KEY=VALUE` option (repeatable; see `tracker_config`)."""
    ap.add_argument(
        "--tracker", action="append", default=[], metavar="KEY=VALUE",
        help=f"override a TrackerConfig field (repeatable), e.g. fade_rate_per_h=0{note}",
    )  # fmt: skip


def tracker_from_args(ap: argparse.ArgumentParser, options: list[str]) -> TrackerConfig:
    """`tracker_config(options)`, a bad option ending the program with its message."""
    try:
        return tracker_config(options)
    except ValueError as e:
        ap.error(str(e))


@dataclass(frozen=True, slots=True)
class StoreSize:
    """The simulated store of a run: aisles x shelves x items per shelf, for `duration_s`."""

    aisles: int
    shelves: int
    items: int
    duration_s: int


def store_world(size: StoreSize, seed: int) -> World:
    """The simulated store of `size`, its story drawn from `seed`."""
    return build_world(
        seed=seed,
        aisles=size.aisles,
        shelves_per_aisle=size.shelves,
        items_per_shelf=size.items,
        duration_s=size.duration_s,
    )


class Tracker(Protocol):
    def observe(
        self, device: str, t0_ms: int, t1_ms: int, ants: list[int], epc: list[str],
        ant: list[int], rssi: list[float], ts: list[int], n: list[int],
    ) -> list[TagMovement]: ...  # fmt: skip
    def device_offline(self, device: str, ts_ms: int) -> None: ...
    def expire(self, now_ms: int) -> list[TagMovement]: ...


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
        batch_ms: int = 1000,
    ) -> None:
        if batch_ms <= 0 or (1000 % batch_ms and batch_ms % 1000):
            raise ValueError("batch_ms must divide 1000 or be a multiple of it")
        self.batch_ms = batch_ms
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

    def apply_changes(self, before_ms: int) -> None:
        """Where every tag is as time `before_ms` begins (the changes before it applied)."""
        ch = self.w.changes
        while self.next_change < len(ch) and ch[self.next_change][0] < before_ms:
            _, epc, key = ch[self.next_change]
            self.next_change += 1
            old = self.where.get(epc)
            if old is not None:
                self.at[self.dev_of_key[old]].pop(epc, None)
            if key is not None:
                self.at[self.dev_of_key[key]][epc] = key
            self.where[epc] = key

    def stays(self, dev: str, t0: int, t1: int) -> tuple[dict[str, str], list[Stay]]:
        """`dev`'s tags during [t0, t1): those there all through it, and the stays of those put
        down or taken away during it (a tag stops being read the moment it is taken, not at the
        batch's end)."""
        ch, dev_of_key = self.w.changes, self.dev_of_key
        moving: dict[str, tuple[str | None, float]] = {}
        stays: list[Stay] = []
        i = self.next_change
        while i < len(ch) and ch[i][0] < t1:
            ts, epc, key = ch[i]
            i += 1
            old, since = moving.get(epc, (self.where.get(epc), float(t0)))
            if old is not None and dev_of_key[old] == dev and since < ts:
                stays.append(Stay(epc, old, since, float(ts)))
            moving[epc] = (key, float(ts))
        for epc, (key, since) in moving.items():
            if key is not None and dev_of_key[key] == dev:
                stays.append(Stay(epc, key, since, float(t1)))
        at = self.at[dev]
        if any(e in at for e in moving):
            at = {e: k for e, k in at.items() if e not in moving}
        return at, stays

    def step(self, dev: str, t0: int, t1: int, now: int) -> None:
        self.apply_changes(t0)
        whole, stays = self.stays(dev, t0, t1)
        frame = self.readers[dev].frame(t0, t1, whole, stays)
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
                self.emit(lambda tr: _offline(tr, dev, t0), now)
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

    def tick(self, now: int) -> None:
        for i, tr in enumerate(self.trackers):
            self.emitted[i].extend((m, now) for m in tr.expire(now))

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
        """Shelf readers send a batch every `batch_ms`, the portal reader every 500 ms (or
        `batch_ms` if shorter); the event-time watermark follows every shelf batch."""
        w, step = self.w, self.batch_ms
        portal_ms = min(500, step)
        shelf_devs = [d for d in w.readers if d != PORTAL]
        for t in range(w.start_ms, w.end_ms, step):
            end = t + step
            for pt in range(t, end - portal_ms, portal_ms):
                self.step(PORTAL, pt, pt + portal_ms, pt + portal_ms)
            for dev in shelf_devs:
                self.step(dev, t, end, end)
            self.step(PORTAL, end - portal_ms, end, end)
            self.tick(end)


def _offline(tracker: Tracker, device: str, ts_ms: int) -> list[TagMovement]:
    tracker.device_offline(device, ts_ms)
    return []


def tracked_run(
    size: StoreSize,
    config: tuple[float, float, bool],
    seed: int,
    rps: float,
    batch_ms: int,
    cfg: TrackerConfig | None = None,
) -> Run:
    """One store run (read probability, cross-read rate, outages) of shelfsense's tracker alone
    (`cfg`: its configuration, default `TrackerConfig()`), as the sweep and the catalogue run it."""
    p, cross, outage = config
    world = store_world(size, seed)
    readers = make_readers(world, p, cross, outage, seed, rps)
    tracker = TagTracker(cfg or TrackerConfig(), antenna_specs(world))
    run = Run(world, readers, [tracker], outage, seed, batch_ms)
    run.run()
    return run
