"""False-movement sweep for the RFID accuracy bench: the store runs again over many seeds.

    .venv/bin/python bench/rfid_sweep.py --seeds 323-358 [--configs 0.6/10/off,0.6/30/on]
        [--tracker fade_rate_per_h=0 ...] [--quick]

One store run has ~110 tag-hours, where a single false movement reads as ~9 per 1,000: the
accuracy table cannot tell "< 1 per 1,000 tag-hours" from noise in any one configuration. The
sweep runs shelfsense's tracker alone (no baselines) over `seeds` more worlds of every
configuration (read probability x cross-read rate x outage, as in the table) and pools each
configuration's tag-hours, false movements (unmatched: `false`) and those that never happened
(`spur`, see bench/rfid_scoring.py), with a one-sided 95 % Poisson upper bound. Each row also
has the departure latency p95 of its runs (departures whose shelf stayed observable; median and
largest over the runs), so a tracker setting's two costs are read side by side (`--tracker`:
KEY=VALUE overrides of `TrackerConfig`). Runs are spread over the machine's cores (each is
deterministic: same seeds, same numbers).
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rfid_run import WARMUP_MS, StoreSize, add_tracker_option, tracked_run, tracker_from_args
from rfid_scoring import score, tag_hours
from rfid_soak import poisson_upper_95

from ingest.rfid import TrackerConfig

Config = tuple[float, float, bool]  # read probability, cross-read rate, outages
CONFIGS: list[Config] = list(itertools.product((0.3, 0.6, 0.9), (0.0, 0.1, 0.3), (False, True)))


@dataclass(frozen=True, slots=True)
class SweepRow:
    config: Config
    runs: int
    tag_hours: float
    false_moves: int
    spurious: int
    lat_p95_s: tuple[float, ...] = ()  # each run's departure p95 (observable shelves), if any

    def per_1k_h(self, events: int) -> float:
        return 1000.0 * events / self.tag_hours if self.tag_hours else 0.0

    @property
    def spurious_upper_95_per_1k_h(self) -> float:
        return 1000.0 * float(poisson_upper_95(self.spurious)) / self.tag_hours

    def lat_p95_text(self) -> str:
        """'median / largest' of the runs' departure p95 (s), '-' without departures."""
        if not self.lat_p95_s:
            return "-"
        return f"{statistics.median(self.lat_p95_s):.2f} / {max(self.lat_p95_s):.2f}"


RunResult = tuple[float, int, int, float]  # tag-hours, false, spurious, departure p95 (nan: none)


def one_run(
    size: StoreSize,
    config: Config,
    seed: int,
    rps: float,
    batch_ms: int,
    cfg: TrackerConfig | None = None,
) -> RunResult:
    """(tag-hours, false movements, spurious movements, departure p95 s) of one store run,
    shelfsense only (`cfg`: its configuration, default `TrackerConfig()`)."""
    run = tracked_run(size, config, seed, rps, batch_ms, cfg)
    world = run.w
    s = score(world, run.emitted[0], WARMUP_MS, run.dark)
    lat = s.lat_p95_clear_s
    return tag_hours(world, world.start_ms + WARMUP_MS), s.n_false, s.n_spurious, lat


def sweep(
    size: StoreSize,
    seeds: list[int],
    rps: float,
    batch_ms: int,
    workers: int | None = None,
    configs: list[Config] | None = None,
    cfg: TrackerConfig | None = None,
) -> list[SweepRow]:
    """Every configuration (default `CONFIGS`) over every seed; rows in that order."""
    configs = CONFIGS if configs is None else configs
    jobs = [(c, s) for c in configs for s in seeds]
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        futures = [pool.submit(one_run, size, c, s, rps, batch_ms, cfg) for c, s in jobs]
        results = [f.result() for f in futures]
    rows: list[SweepRow] = []
    for i, config in enumerate(configs):
        mine = results[i * len(seeds) : (i + 1) * len(seeds)]
        rows.append(
            SweepRow(
                config,
                len(mine),
                sum(r[0] for r in mine),
                sum(r[1] for r in mine),
                sum(r[2] for r in mine),
                tuple(r[3] for r in mine if not math.isnan(r[3])),
            )
        )
    return rows


def print_sweep(
    size: StoreSize,
    seeds: list[int],
    rps: float,
    batch_ms: int,
    configs: list[Config] | None = None,
    cfg: TrackerConfig | None = None,
) -> list[SweepRow]:
    rows = sweep(size, seeds, rps, batch_ms, configs=configs, cfg=cfg)
    print(
        f"false-movement sweep: shelfsense alone, seeds {seeds[0]}..{seeds[-1]} of every"
        " configuration (store runs as above)"
    )
    print(
        f"{'p / cross / out':<21} {'runs':>4} {'tag-h':>7} {'false':>5} {'spur':>5}"
        f" {'false/kh':>8} {'spur/kh':>7} {'spur95':>6}  {'dep p95 med / max':>17}"
    )
    for r in rows:
        p, cross, outage = r.config
        label = f"{p:.1f} / {int(100 * cross):>2}% / {'on' if outage else 'off'}"
        print(
            f"{label:<21} {r.runs:>4} {r.tag_hours:>7,.0f} {r.false_moves:>5} {r.spurious:>5}"
            f" {r.per_1k_h(r.false_moves):>8.2f} {r.per_1k_h(r.spurious):>7.2f}"
            f" {r.spurious_upper_95_per_1k_h:>6.2f}  {r.lat_p95_text():>17}"
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


def parse_configs(text: str | None) -> list[Config]:
    """'p/cross%/on|off,...' (e.g. '0.6/10/off,0.3/30/on'); None or '': all of `CONFIGS`."""
    if not text:
        return list(CONFIGS)
    out: list[Config] = []
    for item in text.split(","):
        p, cross, outage = item.split("/")
        out.append((float(p), int(cross) / 100.0, outage == "on"))
    return out


def parse_seeds(text: str) -> list[int]:
    """'35' or '35-52'."""
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def main(argv: list[str] | None = None) -> list[SweepRow]:
    # the store sizes live with the accuracy table (imported here: it imports this module)
    from rfid_accuracy import BATCH_MS, FULL, QUICK

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", required=True, help="a seed or a range, e.g. 323-358")
    ap.add_argument("--configs", help="p/cross%%/on|off, comma-separated (default: all 18)")
    ap.add_argument("--quick", action="store_true", help="the small store of --quick tables")
    ap.add_argument("--rounds-per-s", type=float, default=10.0)
    ap.add_argument("--batch-ms", type=int, default=BATCH_MS)
    add_tracker_option(ap)
    args = ap.parse_args(argv)
    cfg = tracker_from_args(ap, args.tracker)
    if args.tracker:
        print("tracker: " + ", ".join(args.tracker))
    size = QUICK if args.quick else FULL
    return print_sweep(
        size, parse_seeds(args.seeds), args.rounds_per_s, args.batch_ms,
        parse_configs(args.configs), cfg,
    )  # fmt: skip


if __name__ == "__main__":
    main()
