"""False-movement sweep for the RFID accuracy bench: the store runs again over many seeds.

One store run has ~110 tag-hours, where a single false movement reads as ~9 per 1,000: the
accuracy table cannot tell "< 1 per 1,000 tag-hours" from noise in any one configuration. The
sweep runs shelfsense's tracker alone (no baselines) over `seeds` more worlds of every
configuration (read probability x cross-read rate x outage, as in the table) and pools each
configuration's tag-hours, false movements (unmatched: `false`) and those that never happened
(`spur`, see bench/rfid_scoring.py), with a one-sided 95 % Poisson upper bound. Runs are spread
over the machine's cores (each is deterministic: same seeds, same numbers).
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from rfid_run import WARMUP_MS, Run, StoreSize, antenna_specs, make_readers, store_world
from rfid_scoring import score, tag_hours
from rfid_soak import poisson_upper_95

from ingest.rfid import TagTracker, TrackerConfig

Config = tuple[float, float, bool]  # read probability, cross-read rate, outages
CONFIGS: list[Config] = list(itertools.product((0.3, 0.6, 0.9), (0.0, 0.1, 0.3), (False, True)))


@dataclass(frozen=True, slots=True)
class SweepRow:
    config: Config
    runs: int
    tag_hours: float
    false_moves: int
    spurious: int

    def per_1k_h(self, events: int) -> float:
        return 1000.0 * events / self.tag_hours if self.tag_hours else 0.0

    @property
    def spurious_upper_95_per_1k_h(self) -> float:
        return 1000.0 * float(poisson_upper_95(self.spurious)) / self.tag_hours


def one_run(
    size: StoreSize, config: Config, seed: int, rps: float, batch_ms: int
) -> tuple[float, int, int]:
    """(tag-hours, false movements, spurious movements) of one store run, shelfsense only."""
    p, cross, outage = config
    world = store_world(size, seed)
    tracker = TagTracker(TrackerConfig(), antenna_specs(world))
    readers = make_readers(world, p, cross, outage, seed, rps)
    run = Run(world, readers, [tracker], outage, seed, batch_ms)
    run.run()
    s = score(world, run.emitted[0], WARMUP_MS, run.dark)
    return tag_hours(world, world.start_ms + WARMUP_MS), s.n_false, s.n_spurious


def sweep(
    size: StoreSize, seeds: list[int], rps: float, batch_ms: int, workers: int | None = None
) -> list[SweepRow]:
    """Every configuration over every seed; rows in `CONFIGS` order."""
    jobs = [(c, s) for c in CONFIGS for s in seeds]
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        futures = [pool.submit(one_run, size, c, s, rps, batch_ms) for c, s in jobs]
        results = [f.result() for f in futures]
    rows: list[SweepRow] = []
    for i, config in enumerate(CONFIGS):
        mine = results[i * len(seeds) : (i + 1) * len(seeds)]
        rows.append(
            SweepRow(
                config,
                len(mine),
                sum(h for h, _, _ in mine),
                sum(f for _, f, _ in mine),
                sum(s for _, _, s in mine),
            )
        )
    return rows


def print_sweep(size: StoreSize, seeds: list[int], rps: float, batch_ms: int) -> list[SweepRow]:
    rows = sweep(size, seeds, rps, batch_ms)
    print(
        f"false-movement sweep: shelfsense alone, seeds {seeds[0]}..{seeds[-1]} of every"
        " configuration (store runs as above)"
    )
    print(
        f"{'p / cross / out':<21} {'runs':>4} {'tag-h':>7} {'false':>5} {'spur':>5}"
        f" {'false/kh':>8} {'spur/kh':>7} {'spur95':>6}"
    )
    for r in rows:
        p, cross, outage = r.config
        label = f"{p:.1f} / {int(100 * cross):>2}% / {'on' if outage else 'off'}"
        print(
            f"{label:<21} {r.runs:>4} {r.tag_hours:>7,.0f} {r.false_moves:>5} {r.spurious:>5}"
            f" {r.per_1k_h(r.false_moves):>8.2f} {r.per_1k_h(r.spurious):>7.2f}"
            f" {r.spurious_upper_95_per_1k_h:>6.2f}"
        )
    pooled = SweepRow(
        (0.0, 0.0, False),
        sum(r.runs for r in rows),
        sum(r.tag_hours for r in rows),
        sum(r.false_moves for r in rows),
        sum(r.spurious for r in rows),
    )
    print(
        f"{'all':<21} {pooled.runs:>4} {pooled.tag_hours:>7,.0f} {pooled.false_moves:>5}"
        f" {pooled.spurious:>5} {pooled.per_1k_h(pooled.false_moves):>8.2f}"
        f" {pooled.per_1k_h(pooled.spurious):>7.2f} {pooled.spurious_upper_95_per_1k_h:>6.2f}"
    )
    return rows
