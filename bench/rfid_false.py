"""Catalogue of the RFID tracker's false movements: each one, with what truly happened around it.

    .venv/bin/python bench/rfid_false.py --seeds 35-52 [--configs 0.3/10/on,0.6/0/on] [--quick]
        [--tracker fade_rate_per_h=0 ...]

The sweep (`bench/rfid_sweep.py`) counts false movements; this prints them, one block each, so a
failure kind can be named before it is fixed: the movement (kind, shelves, time and when it was
emitted, confidence, evidence), `spurious` or `real, mis-told` (see bench/rfid_scoring.py), the
tag's true movements within 10 minutes, the tag's base read probability at its readers, and the
seconds each shelf involved was unobservable within 10 minutes (as runs). Times are seconds of
store time since the run's start. Same runs as the sweep (shelfsense alone, same seeds).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rfid_accuracy import FULL, QUICK
from rfid_run import WARMUP_MS, StoreSize, add_tracker_option, tracked_run, tracker_from_args
from rfid_scenario import World
from rfid_scoring import INVENTED_SPAN_MS, score
from rfid_sweep import Config, parse_configs, parse_seeds

from firmware_sim.devices.rfid_reader import ReaderDevice
from ingest.rfid import TagMovement, TrackerConfig


def catalogue(
    size: StoreSize,
    config: Config,
    seed: int,
    rps: float,
    batch_ms: int,
    cfg: TrackerConfig | None = None,
) -> str:
    """The false movements of one store run, one text block each ('' when there are none)."""
    run = tracked_run(size, config, seed, rps, batch_ms, cfg)
    world, readers = run.w, run.readers
    found = score(world, run.emitted[0], WARMUP_MS, run.dark).false
    emitted_at = {id(m): at for m, at in run.emitted[0]}
    head = f"== {label(config)} seed {seed}: "
    return "\n".join(
        head + _block(m, spurious, emitted_at.get(id(m), 0), world, readers, run.dark)
        for m, spurious in found
    )


def _block(
    m: TagMovement,
    spurious: bool,
    emitted_ms: int,
    world: World,
    readers: Mapping[str, ReaderDevice],
    dark: Mapping[str, set[int]],
) -> str:
    t0 = world.start_ms

    def s(ms: int) -> str:
        return f"{(ms - t0) / 1000:.1f}"

    verdict = "spurious" if spurious else "real, mis-told"
    lines = [
        f"{m.kind.value} {m.from_location} -> {m.to_location} at {s(m.ts_ms)} (emitted"
        f" {s(emitted_ms)}), conf {m.confidence:.3f} [{verdict}]",
        f"   epc {m.epc}  evidence {dict(m.evidence)}",
    ]
    near = [t for t in world.truth if t.epc == m.epc and abs(t.ts_ms - m.ts_ms) <= INVENTED_SPAN_MS]
    lines += [
        f"   truth {t.kind} {t.from_location} -> {t.to_location} at {s(t.ts_ms)}" for t in near
    ]
    probs = [
        f"{dev} p={r.read_probability(m.epc):.2f}"
        for dev, r in sorted(readers.items())
        if r.knows(m.epc)
    ]
    lines.append(f"   read prob {', '.join(probs) or '-'}")
    keys = {k for k in (m.from_location, m.to_location) if k}
    keys |= {k for t in near for k in (t.from_location, t.to_location) if k}
    lo, hi = (m.ts_ms - INVENTED_SPAN_MS) // 1000, (m.ts_ms + INVENTED_SPAN_MS) // 1000
    for key in sorted(keys):
        secs = sorted(k for k in dark.get(key, ()) if lo <= k <= hi)
        if secs:
            runs = ", ".join(f"{s(a * 1000)}-{s(b * 1000 + 1000)}" for a, b in _runs(secs))
            lines.append(f"   dark {key}: {runs}")
    return "\n".join(lines)


def _runs(secs: Iterable[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for k in secs:
        if out and k == out[-1][1] + 1:
            out[-1] = (out[-1][0], k)
        else:
            out.append((k, k))
    return out


def label(config: Config) -> str:
    p, cross, outage = config
    return f"{p:.1f} / {int(100 * cross)}% / {'on' if outage else 'off'}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="35-52", help="a seed or a range, e.g. 35-52")
    ap.add_argument("--configs", help="p/cross%%/on|off, comma-separated (default: all 18)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds-per-s", type=float, default=10.0)
    ap.add_argument("--batch-ms", type=int, default=500)
    add_tracker_option(ap)
    args = ap.parse_args()
    cfg = tracker_from_args(ap, args.tracker)
    size = QUICK if args.quick else FULL
    jobs = [(c, s) for c in parse_configs(args.configs) for s in parse_seeds(args.seeds)]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = [
            pool.submit(catalogue, size, c, s, args.rounds_per_s, args.batch_ms, cfg)
            for c, s in jobs
        ]
        total = 0
        for f in futures:
            text = f.result()
            if text:
                total += text.count("\n== ") + 1
                print(text, flush=True)
    print(f"{total} false movements in {len(jobs)} runs")


if __name__ == "__main__":
    main()
