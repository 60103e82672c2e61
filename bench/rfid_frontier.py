"""The departure trade-off of the RFID tracker, from its channel model: latency against false
departures, for each batch length.

    .venv/bin/python bench/rfid_frontier.py [--batch-ms 100,250,500,1000] [--p 0.55,0.6,0.65,0.9]

A departure is decided only when a batch ends: the tracker learns that a tag was silent for its
window `w` at the end of the first batch past it. So

- a departure's latency is `w` plus the wait for that batch end (uniform over one batch `b`),
  less the time between the tag's last read and its leaving (ignored here: at p >= 0.5 it is
  under a round). Its p95 is about `w + 0.95 b`.
- a present tag is falsely departed when one of its silent runs is still silent at a batch end
  `w` or more after its last read: with the run's start uniform against the batch grid, the
  rate of such runs is the mean of `silent_runs_per_h` (`ingest.rfid_window`) over the lengths
  from w to w + b (`declared_runs_per_h`). Each false departure is told again as an arrival
  when the tag is read again: two false movements.

For each batch length and read probability the table prints the default tracker's window and
what it costs, then the longest window whose p95 stays within `--target-s` (3 s) and what that
costs. Channel: the simulator's (10 rounds/s, deep fades 4 per tag-hour of 0.3 s mean at 0.1 of
the read probability), which the tracker's default fade model matches. The bench's "p = 0.6"
tags have p uniform in [0.55, 0.65] and the tracker windows on a lower confidence bound of it.
"""

from __future__ import annotations

import argparse

from ingest.rfid_types import TrackerConfig
from ingest.rfid_window import silent_runs_per_h, window_rounds

ROUNDS_PER_S = 10.0
P95_BATCH_WAIT = 0.95  # share of a batch waited for its end at the 95th percentile (uniform)
_STEPS = 40  # points of the mean over one batch (the rate is smooth: the mean is exact to ~0.1 %)


def declared_runs_per_h(
    w_rounds: float, batch_rounds: float, p: float, rounds_per_s: float, cfg: TrackerConfig
) -> float:
    """Silent runs per tag-hour of a present tag that are still silent at a batch end after at
    least `w_rounds` unread rounds (the departures a window of `w_rounds` decides falsely).

    A run's unread rounds at the batch ends it spans are w, w + 1, ..., w + b - 1 with equal
    chance (b = `batch_rounds`, at least one: a round is the finest the channel tells), so
    this is the mean of the rate over them, here by the midpoint rule over [w - 1/2, w + b - 1/2].
    """
    span = max(batch_rounds, 1.0)
    step = span / _STEPS
    xs = [w_rounds - 0.5 + (i + 0.5) * step for i in range(_STEPS)]
    return sum(_rate(x, p, rounds_per_s, cfg) for x in xs) / _STEPS


def _rate(w: float, p: float, rounds_per_s: float, cfg: TrackerConfig) -> float:
    return silent_runs_per_h(
        w, p, rounds_per_s, cfg.fade_rate_per_h, cfg.fade_mean_ms, cfg.fade_read_factor
    )


def p95_latency_s(w_rounds: float, batch_ms: int, rounds_per_s: float) -> float:
    """About the 95th percentile of departure latency for a window of `w_rounds`."""
    return w_rounds / rounds_per_s + P95_BATCH_WAIT * batch_ms / 1000.0


def false_movements_per_1k_h(
    w_rounds: float, batch_ms: int, p: float, rounds_per_s: float, channel: TrackerConfig
) -> float:
    """False movements per 1,000 tag-hours from silent runs (a departure and its arrival)."""
    batch_rounds = batch_ms * rounds_per_s / 1000.0
    return 2000.0 * declared_runs_per_h(w_rounds, batch_rounds, p, rounds_per_s, channel)


def main(argv: list[str] | None = None) -> list[tuple[int, float, float, float, float, float]]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-ms", default="100,250,500,1000", help="comma-separated")
    ap.add_argument("--p", default="0.55,0.6,0.65,0.9", help="read probabilities, comma-separated")
    ap.add_argument("--target-s", type=float, default=3.0, help="departure p95 target")
    args = ap.parse_args(argv)
    channel, r = TrackerConfig(), ROUNDS_PER_S
    print(
        f"channel: {r:g} rounds/s, deep fades {channel.fade_rate_per_h:g}/tag-h of"
        f" {channel.fade_mean_ms} ms mean at {channel.fade_read_factor:g} x p;"
        f" false = false movements per 1,000 tag-hours from silent runs"
    )
    print(
        f"{'batch':>6} {'p':>5} | {'default w':>9} {'p95':>5} {'false':>6} |"
        f" {f'w for p95 {args.target_s:g} s':>15} {'false':>6}"
    )
    rows = []
    for batch_ms in (int(x) for x in args.batch_ms.split(",")):
        for p in (float(x) for x in args.p.split(",")):
            w = window_rounds(p, r, channel)
            w_target = (args.target_s - P95_BATCH_WAIT * batch_ms / 1000.0) * r
            row = (
                batch_ms,
                p,
                p95_latency_s(w, batch_ms, r),
                false_movements_per_1k_h(w, batch_ms, p, r, channel),
                w_target / r,
                false_movements_per_1k_h(w_target, batch_ms, p, r, channel),
            )
            rows.append(row)
            print(
                f"{batch_ms:>4}ms {p:>5.2f} | {w / r:>8.2f}s {row[2]:>4.2f}s {row[3]:>6.2f} |"
                f" {row[4]:>14.2f}s {row[5]:>6.2f}"
            )
    return rows


if __name__ == "__main__":
    main()
