"""PURE coverage bookkeeping: which antennas observed which interval, as observed-round clocks.

A device's batches normally tile time. `advance` applies one batch's [t0, t1) and `ants` to the
clocks of the locations those antennas watch and returns the rounds that were added (0 for a
late batch that lies entirely before the device's frontier: its reads still count, its coverage
does not, so replays can never invent misses). A location whose antenna starts observing after
not observing (first batch, a gap between t0 and the previous t1, an antenna back in `ants`)
*resumes*: misses before `resume_clock` no longer count, so each of its tags needs a full window
of fresh misses before it can depart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ingest.rfid_state import Device, Loc
from ingest.rfid_types import AntennaSpec, RfidConfigError, TrackerConfig

_LEARN_SPAN_MS = 1000  # rounds/s is learned over at least this much contiguous batch time


def build(
    antennas: Sequence[AntennaSpec], cfg: TrackerConfig
) -> tuple[dict[str, Device], dict[str, Loc]]:
    """Devices and locations from the antenna list (duplicate ports and mixed portals rejected)."""
    devices: dict[str, Device] = {}
    locs: dict[str, Loc] = {}
    for spec in antennas:
        dev = devices.setdefault(spec.device, Device(spec.device, cfg.rounds_per_s))
        if spec.port in dev.ports:
            raise RfidConfigError(f"antenna {spec.device}:{spec.port} listed twice")
        loc = locs.setdefault(spec.location, Loc(spec.location, is_portal=spec.side is not None))
        if loc.is_portal != (spec.side is not None):
            raise RfidConfigError(f"location {spec.location!r} mixes portal and shelf antennas")
        dev.ports[spec.port] = (spec, loc)
        loc.antennas.append((spec.device, spec.port))
    return devices, locs


def learn_rounds(dev: Device, t0_ms: int, t1_ms: int, n: Sequence[int], cfg: TrackerConfig) -> None:
    """Estimate rounds/s as the largest n per second seen (a p~1 tag is read every round).

    Short batches are summed while they tile time until they cover a second: the largest n of a
    250 ms batch is 2 or 3 rounds at 10 rounds/s, and 3 per 250 ms would read as 12/s."""
    if cfg.rounds_per_s is not None:
        return
    learn = dev.learn
    if learn[0] != t0_ms:
        learn[1] = learn[2] = 0
    learn[0] = t1_ms
    learn[1] += max(n, default=0)
    learn[2] += t1_ms - t0_ms
    if learn[2] < _LEARN_SPAN_MS:
        return
    rate = learn[1] * 1000.0 / learn[2]
    learn[1] = learn[2] = 0
    if rate > dev.rounds_per_s:
        dev.rounds_per_s = min(rate, 1000.0)


def advance(
    dev: Device, t0_ms: int, t1_ms: int, ants: Iterable[int], cfg: TrackerConfig
) -> tuple[float, list[Loc]]:
    """Apply one batch's coverage: the new rounds per antenna (0 if late) and the shelf locations
    they observed. Portal clocks advance here; shelf clocks are committed by the caller after the
    reads (`Loc.clock += rounds * degradation`), once per observing antenna."""
    frontier = dev.frontier_ms
    if frontier is not None and t1_ms <= frontier:
        return 0.0, []
    contiguous = frontier is not None and t0_ms <= frontier + cfg.gap_tolerance_ms
    start_ms = max(t0_ms, frontier) if frontier is not None and contiguous else t0_ms
    rounds = (t1_ms - start_ms) * dev.rounds_per_s / 1000.0
    observed = frozenset(p for p in ants if p in dev.ports)
    before = dev.last_ants if contiguous else frozenset()
    for port, (_, loc) in dev.ports.items():
        if port in observed:
            loc.live_ports.add((dev.device, port))
        else:
            loc.live_ports.discard((dev.device, port))
    shelves: list[Loc] = []
    for port in sorted(observed):
        loc = dev.ports[port][1]
        if port not in before:
            loc.resume_clock = loc.clock
            loc.resume_ms = start_ms
            loc.gap_from_ms = loc.seen_until_ms
        loc.seen_until_ms = max(loc.seen_until_ms, t1_ms)
        if loc.is_portal:
            loc.clock += rounds
        else:
            shelves.append(loc)
    dev.frontier_ms = t1_ms
    dev.span_ms = t1_ms - t0_ms
    dev.last_ants = observed
    dev.dark = len(observed) < len(dev.ports)
    dev.offline = False
    return rounds, shelves


def unobservable(
    devices: Mapping[str, Device], locs: Mapping[str, Loc], now_ms: int, cfg: TrackerConfig
) -> frozenset[str]:
    """Locations none of whose antennas is observing at `now_ms`."""
    live = {
        (d.device, p) for d in devices.values() for p in d.observing(now_ms, cfg.device_silence_ms)
    }
    return frozenset(k for k, loc in locs.items() if not any(a in live for a in loc.antennas))
