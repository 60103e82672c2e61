"""``shelfsense sim``: run a simulated store and serve its devices on the device bus.

    shelfsense sim --scenario demo --seed 7 --speed 60 --duration-s 3600 \\
        --listen 127.0.0.1:0 --truth truth.jsonl --site-out site.yaml --gateway-out gw-1.yaml \\
        --wait-for-clients 1

Prints the device-bus address once it listens (and the files are written), then a summary.
SIGTERM or Ctrl-C ends the run after the current step with a final checkpoint in the truth log.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from firmware_sim.runner import SimConfig, SimResult, run_sim
from firmware_sim.scenarios import SCENARIOS
from shelfsense.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="demo")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="store seconds per wall second; 0 = as fast as possible",
    )
    parser.add_argument("--duration-s", type=float, help="store seconds (default: the scenario's)")
    parser.add_argument("--start-ms", type=int, help="event time of the start (default: now)")
    parser.add_argument(
        "--listen",
        default="127.0.0.1:0",
        help="device bus HOST:PORT; port 0 picks a free port (printed)",
    )
    parser.add_argument("--truth", type=Path, help="ground-truth JSONL output")
    parser.add_argument("--site-out", type=Path, help="write the scenario's site file here")
    parser.add_argument("--gateway-out", type=Path, help="write the edge gateway file here")
    parser.add_argument(
        "--wait-for-clients",
        type=int,
        default=0,
        metavar="N",
        help="start the clock once N device-bus clients are connected",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        config = SimConfig(
            scenario=args.scenario,
            seed=args.seed,
            speed=args.speed,
            duration_s=args.duration_s,
            start_ms=args.start_ms,
            listen=args.listen,
            truth_path=args.truth,
            site_out=args.site_out,
            gateway_out=args.gateway_out,
            wait_for_clients=args.wait_for_clients,
        )
    except ValueError as exc:
        print(f"shelfsense sim: {exc}")
        return 2
    stop = threading.Event()
    with _stop_on_signals(stop):
        result = run_sim(config, stop=stop, on_ready=_announce)
    _summary(result)
    return 0


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` while the run lasts (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _announce(address: str | None) -> None:
    if address is not None:
        print(f"device bus listening on {address}", flush=True)


def _summary(r: SimResult) -> None:
    store_s = (r.end_ms - r.start_ms) / 1000
    state = "done" if r.completed else "stopped"
    print(
        f"{state}: scenario {r.scenario} seed {r.seed}: {store_s:.0f} s of store time in "
        f"{r.wall_s:.1f} s, {r.frames} frames, {r.truth_records} truth records, "
        f"{sum(r.final_stock.values())} items in stock",
        flush=True,
    )
