"""Static-shelf soak for the RFID accuracy bench: many tags that never move, for hours.

Every movement the tracker emits after the warm-up (their first arrivals) is false, so the false
movement rate per 1,000 tag-hours is measured with enough tag-hours to tell "< 1" apart from
noise (the bench's store runs have ~100 tag-hours, where one false movement is ~10 per 1,000).
Same reader model, same channel impairments (occlusions, tag fades, cross-reads) and the same
outages as the accuracy runs (reader outages, antenna failures, one gateway outage replayed late),
fed through `TagTracker.observe` exactly as in the store runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rfid_run import WARMUP_MS, Run, Tracker, antenna_specs, make_readers
from rfid_scenario import INSIDE_KEY, OUTSIDE_KEY, PORTAL, World

from ingest.rfid import TagMovement, TagTracker, TrackerConfig


@dataclass(frozen=True, slots=True)
class SoakSize:
    readers: int
    antennas: int  # per reader, in a row (neighbours cross-read)
    tags: int  # per antenna
    hours: float


SOAK_FULL = SoakSize(readers=4, antennas=6, tags=20, hours=3.0)
SOAK_QUICK = SoakSize(readers=2, antennas=4, tags=15, hours=0.5)


@dataclass(frozen=True, slots=True)
class SoakResult:
    p: float
    cross: float
    outage: bool
    tag_hours: float
    false_moves: int
    examples: list[TagMovement]

    @property
    def per_1k_h(self) -> float:
        return 1000.0 * self.false_moves / self.tag_hours

    @property
    def upper_95_per_1k_h(self) -> float:
        """One-sided 95 % Poisson upper bound of the rate (3.0 events when none was seen)."""
        return 1000.0 * poisson_upper_95(self.false_moves) / self.tag_hours


def static_world(size: SoakSize) -> World:
    start = 1_763_719_200_000
    readers: dict[str, dict[int, str]] = {PORTAL: {1: INSIDE_KEY, 2: OUTSIDE_KEY}}
    adjacency: dict[str, list[str]] = {INSIDE_KEY: [OUTSIDE_KEY], OUTSIDE_KEY: [INSIDE_KEY]}
    shelves: list[str] = []
    for r in range(size.readers):
        row = [f"soak/aisle-{r + 1}/shelf-{a + 1}" for a in range(size.antennas)]
        readers[f"reader-{r + 1}"] = {i + 1: s for i, s in enumerate(row)}
        for i, s in enumerate(row):
            adjacency[s] = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
        shelves += row
    end = start + int(size.hours * 3_600_000)
    planogram = {s: f"SKU-{i:03d}" for i, s in enumerate(shelves)}
    world = World(start, end, shelves, planogram, adjacency, readers)
    for k, shelf in enumerate(shelves):
        for i in range(size.tags):
            epc = f"3034{k:010X}{i:010X}"
            world.sku_of[epc] = planogram[shelf]
            world.changes.append((start, epc, shelf))
    return world


def soak(
    size: SoakSize,
    p: float,
    cross: float,
    outage: bool,
    seed: int,
    rps: float,
    batch_ms: int = 1000,
    cfg: TrackerConfig | None = None,
) -> SoakResult:
    world = static_world(size)
    tracker: Tracker = TagTracker(cfg or TrackerConfig(), antenna_specs(world))
    readers = make_readers(world, p, cross, outage, seed, rps)
    run = Run(world, readers, [tracker], outage, seed, batch_ms)
    run.run()
    since = world.start_ms + WARMUP_MS
    false = [m for m, _ in run.emitted[0] if m.ts_ms >= since]
    n_tags = len(world.shelves) * size.tags
    tag_hours = n_tags * (world.end_ms - since) / 3_600_000
    return SoakResult(p, cross, outage, tag_hours, len(false), false[:3])


def poisson_upper_95(k: int) -> float:
    """Smallest mu with P(X <= k | mu) <= 0.05 (bisection)."""
    lo, hi = 0.0, 10.0 + 3.0 * k
    for _ in range(60):
        mu = (lo + hi) / 2
        cdf = sum(math.exp(-mu + i * math.log(mu) - math.lgamma(i + 1)) for i in range(k + 1))
        lo, hi = (mu, hi) if cdf > 0.05 else (lo, mu)
    return hi
