"""The simulation loop: event time in steps, paced against the wall clock, frames out, truth down.

    result = run_sim(SimConfig(scenario="demo", speed=60, truth_path=Path("truth.jsonl")),
                     stop=threading.Event())

``speed`` is store seconds per wall second (60: an hour in a minute); ``speed=0`` runs as fast
as the devices and the bus clients allow. The loop is the one owner of the store and devices:
each step applies the actions due, encodes every device frame that ends with the step and sends
it to the device bus (or to ``sink``), and appends the step's truth records to the JSONL log.
A slow bus client slows the loop down (backpressure); nothing is dropped. Setting ``stop`` ends
the run after the current step, with a final checkpoint: the truth log is always complete for
the time that was simulated.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from firmware_sim.bus import DeviceBus
from firmware_sim.scenarios import get_scenario
from firmware_sim.simulation import Simulation, StepResult
from firmware_sim.sitegen import write_files
from firmware_sim.truth import TruthLog
from shelfsense.devbus import encode_frame

log = logging.getLogger(__name__)

FrameSink = Callable[[bytes], None]


@dataclass(frozen=True, slots=True)
class SimConfig:
    scenario: str = "demo"
    seed: int = 0
    speed: float = 1.0  # store seconds per wall second; 0 = as fast as possible
    duration_s: float | None = None  # store seconds; None = the scenario's own
    start_ms: int | None = None  # event time of the start; None = the wall clock, whole second
    listen: str | None = "127.0.0.1:0"  # device bus HOST:PORT (port 0: any free); None: no bus
    truth_path: Path | None = None
    site_out: Path | None = None
    gateway_out: Path | None = None
    wait_for_clients: int = 0  # the clock starts once this many bus clients are connected
    queue_frames: int = 1024  # per bus client, before backpressure

    def __post_init__(self) -> None:
        if self.speed < 0:
            raise ValueError("speed must be >= 0 (0 = as fast as possible)")
        if self.duration_s is not None and self.duration_s <= 0:
            raise ValueError("duration_s must be > 0")
        if self.gateway_out is not None and self.listen is None:
            raise ValueError("a gateway file needs the device bus (listen)")


@dataclass(frozen=True, slots=True)
class SimResult:
    scenario: str
    seed: int
    start_ms: int
    end_ms: int  # event time reached
    frames: int
    truth_records: int
    final_stock: dict[str, int]
    wall_s: float
    address: str | None  # the device bus, when there was one
    completed: bool  # False when ``stop`` ended the run early


def parse_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"listen address {listen!r} must be HOST:PORT")
    return host or "127.0.0.1", int(port)


def run_sim(
    config: SimConfig,
    *,
    stop: threading.Event,
    sink: FrameSink | None = None,
    on_ready: Callable[[str | None], None] | None = None,
) -> SimResult:
    """Run one scenario to its end (or until ``stop``); ``on_ready`` gets the bus address
    once the bus listens and the site and gateway files are written."""
    scenario = get_scenario(config.scenario)
    start_ms = config.start_ms if config.start_ms is not None else time.time_ns() // 10**9 * 1000
    sim = Simulation(scenario, seed=config.seed, start_ms=start_ms)
    duration_s = config.duration_s if config.duration_s is not None else scenario.duration_s
    steps = max(1, round(duration_s * 1000 / scenario.step_ms))
    bus = _open_bus(config)
    try:
        address = bus.address if bus is not None else None
        write_files(
            scenario, address or "", site_out=config.site_out, gateway_out=config.gateway_out
        )
        if on_ready is not None:
            on_ready(address)
        if bus is not None and config.wait_for_clients:
            bus.wait_for_clients(config.wait_for_clients, stop)
        send = sink or _bus_sink(bus, stop)
        with TruthLog(config.truth_path) as truth:
            stats = _loop(sim, steps, config, stop, send, truth)
        if bus is not None:
            bus.flush(stop)
        return SimResult(
            config.scenario,
            config.seed,
            start_ms,
            sim.now_ms,
            stats.frames,
            truth.count,
            sim.store.stock(),
            stats.wall_s,
            address,
            stats.completed,
        )
    finally:
        if bus is not None:
            bus.close()


def _open_bus(config: SimConfig) -> DeviceBus | None:
    if config.listen is None:
        return None
    host, port = parse_listen(config.listen)
    return DeviceBus(host, port, queue_frames=config.queue_frames)


def _bus_sink(bus: DeviceBus | None, stop: threading.Event) -> FrameSink:
    def send(line: bytes) -> None:
        if bus is not None:
            bus.send(line, stop)

    return send


@dataclass(frozen=True, slots=True)
class _LoopStats:
    frames: int
    wall_s: float
    completed: bool


def _loop(
    sim: Simulation,
    steps: int,
    config: SimConfig,
    stop: threading.Event,
    send: Callable[[bytes], None],
    truth: TruthLog,
) -> _LoopStats:
    truth.write(sim.begin())
    wall0 = time.monotonic()
    frames = done = 0
    while done < steps and not stop.is_set():
        step = sim.step()
        frames += _send(step, send)
        truth.write(step.records)
        done += 1
        if config.speed > 0:
            _pace(wall0, (step.t1_ms - sim.start_ms) / 1000.0 / config.speed, stop)
    truth.write(sim.finish())
    wall_s = time.monotonic() - wall0
    log.info(
        "simulated %d s of store time in %.1f s (%d frames)",
        (sim.now_ms - sim.start_ms) // 1000,
        wall_s,
        frames,
    )
    return _LoopStats(frames, wall_s, done == steps)


def _send(step: StepResult, send: Callable[[bytes], None]) -> int:
    for frame in step.frames:
        send(encode_frame(frame.device, frame.kind, frame.body))
    return len(step.frames)


def _pace(wall0: float, due_s: float, stop: threading.Event) -> None:
    """Sleep until ``due_s`` wall seconds after ``wall0`` (woken early by ``stop``)."""
    ahead_s = wall0 + due_s - time.monotonic()
    if ahead_s > 0:
        stop.wait(ahead_s)
