"""The agent loop without network: fake drivers in, a counting MemorySpool out, a fake publisher.

One tick's batches are stored with ONE ``append_many`` (one transaction, one fsync); a shutdown
stores every frame the drivers queued or still deliver while they stop, and drops none.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from pathlib import Path

import pytest

import edge.agent
from edge.agent import TICK_S, _Agent
from edge.config import EdgeConfig
from edge.drivers import FrameSink
from edge.spool import MakePayload, MemorySpool, NewBatch, SpooledBatch
from shelfsense.clock import ManualClock
from shelfsense.devbus import Frame, decode_frame, encode_frame
from shelfsense.wire import StreamKind

T = 1_763_719_200_000  # a whole second
BATCH_MS = 250
READERS = ("reader-1", "reader-2", "reader-3")
EPC = "3034257BF7194E4000001A85"
JOIN_S = 20.0


def rfid(device: str, k: int, length_ms: int = BATCH_MS) -> Frame:
    """The k-th frame of a device: ``[T + k * 250, + length_ms)``, one read."""
    t0 = T + k * BATCH_MS
    reads = [{"epc": EPC, "ant": 1, "ts": t0, "rssi": -50.0}]
    body = {"t0": t0, "t1": t0 + length_ms, "ants": [1], "reads": reads}
    return decode_frame(encode_frame(device, StreamKind.RFID, body))


def config(tmp_path: Path, queue_size: int = 10_000) -> EdgeConfig:
    return EdgeConfig.model_validate(
        {
            "site": "demo",
            "gateway": "gw-1",
            "mqtt_url": "mqtt://127.0.0.1:1",
            "spool_path": str(tmp_path / "unused.spool.sqlite"),
            "batch_ms": {"rfid": BATCH_MS},
            "frame_queue_size": queue_size,
            "shutdown_grace_s": 0,
            "devices": [{"id": d, "kind": "rfid", "address": "127.0.0.1:1"} for d in READERS],
        }
    )


class CountingSpool(MemorySpool):
    """Counts the spool calls; ``append`` delegates to ``append_many``, so per-frame appends
    would show as many ``append_many`` calls of one item each."""

    def __init__(self) -> None:
        super().__init__()
        self.appends = 0
        self.append_many_sizes: list[int] = []

    def append(self, stream_key: str, topic: str, make_payload: MakePayload) -> SpooledBatch:
        self.appends += 1
        return super().append(stream_key, topic, make_payload)

    def append_many(self, items: Iterable[NewBatch]) -> list[SpooledBatch]:
        stored = super().append_many(items)
        self.append_many_sizes.append(len(stored))
        return stored

    def spans(self, device: str) -> list[tuple[int, int, int]]:
        """(seq, t0, t1) of the device's stored batches, in store order."""
        found = [b for b in self.pending(limit=10**9) if b.stream_key == f"demo/gw-1/{device}"]
        return [(b.seq, json.loads(b.payload)["t0"], json.loads(b.payload)["t1"]) for b in found]


class FakePublisher:
    def __init__(self, spool: MemorySpool) -> None:
        self._spool = spool
        self.wakes = 0
        self.started = False
        self.backlog_at_stop: int | None = None

    def start(self) -> None:
        self.started = True

    def wake(self) -> None:
        self.wakes += 1

    def stop(self, grace_s: float) -> None:
        self.backlog_at_stop = self._spool.backlog()


class FakeDriver:
    """Delivers ``before`` frames as soon as it starts (blocking in the sink like a real driver),
    then ``while_stopping`` frames once ``stop()`` was called; ``stop()`` returns when done."""

    def __init__(self, before: list[Frame], while_stopping: list[Frame]) -> None:
        self.name = f"fake {before[0].device if before else 'driver'}"
        self._before, self._while_stopping = before, while_stopping
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, sink: FrameSink) -> None:
        self._thread = threading.Thread(target=self._run, args=(sink,), daemon=True)
        self._thread.start()

    def _run(self, sink: FrameSink) -> None:
        for frame in self._before:
            sink(frame)
        self._stopping.wait()
        for frame in self._while_stopping:
            sink(frame)

    def stop(self) -> None:
        self._stopping.set()
        assert self._thread is not None
        self._thread.join()


class HungDriver:
    name = "hung driver"

    def __init__(self) -> None:
        self.release = threading.Event()

    def start(self, sink: FrameSink) -> None:
        pass

    def stop(self) -> None:
        self.release.wait()


def test_one_tick_of_many_frames_is_stored_with_one_append_many(tmp_path: Path) -> None:
    spool = CountingSpool()
    publisher = FakePublisher(spool)
    agent = _Agent(
        config(tmp_path), spool, ManualClock(T), threading.Event(), drivers=[], publisher=publisher
    )
    frames = [rfid(device, k) for k in range(100) for device in READERS]
    for frame in frames:
        agent._sink(frame)
    agent._tick(TICK_S)
    assert spool.appends == 0
    assert spool.append_many_sizes == [300], "every frame closed a batch; all in one call"
    assert publisher.wakes == 1
    for device in READERS:
        assert spool.spans(device) == [
            (k, T + k * BATCH_MS, T + (k + 1) * BATCH_MS) for k in range(100)
        ]


def test_idle_flushes_go_in_the_same_append_many_as_the_ticks_frames(tmp_path: Path) -> None:
    spool = CountingSpool()
    clock = ManualClock(T)
    agent = _Agent(
        config(tmp_path),
        spool,
        clock,
        threading.Event(),
        drivers=[],
        publisher=FakePublisher(spool),
    )
    agent._sink(rfid("reader-1", 0, length_ms=100))  # a partial batch: stays open
    agent._tick(TICK_S)
    assert spool.append_many_sizes == []
    clock.advance(BATCH_MS)  # reader-1 now idle for a whole batch length
    agent._sink(rfid("reader-2", 0))
    agent._sink(rfid("reader-2", 1))
    agent._tick(TICK_S)
    assert spool.append_many_sizes == [3]
    assert spool.spans("reader-1") == [(0, T, T + 100)]


def test_at_most_max_frames_per_tick_are_taken_in_one_tick(tmp_path: Path) -> None:
    spool = CountingSpool()
    agent = _Agent(
        config(tmp_path),
        spool,
        ManualClock(T),
        threading.Event(),
        drivers=[],
        publisher=FakePublisher(spool),
    )
    extra = 5
    for k in range(edge.agent.MAX_FRAMES_PER_TICK + extra):
        agent._sink(rfid("reader-1", k))
    agent._tick(TICK_S)
    agent._tick(TICK_S)
    assert spool.append_many_sizes == [edge.agent.MAX_FRAMES_PER_TICK, extra]


def test_shutdown_stores_every_frame_queued_or_delivered_while_the_drivers_stop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="edge")
    queue_size = 8
    spool = CountingSpool()
    publisher = FakePublisher(spool)
    # each driver has far more frames than the queue holds, and more come while it stops
    drivers = [
        FakeDriver(
            before=[rfid(device, k) for k in range(60)],
            while_stopping=[rfid(device, k) for k in range(60, 80)],
        )
        for device in READERS
    ]
    stop = threading.Event()
    agent = _Agent(
        config(tmp_path, queue_size),
        spool,
        ManualClock(T),
        stop,
        drivers=drivers,
        publisher=publisher,
    )
    for k in range(queue_size):  # the queue is full before the drivers even start
        agent._sink(rfid("reader-1", -queue_size + k))
    stop.set()  # the loop never runs: everything is left to the shutdown
    runner = threading.Thread(target=agent.run, daemon=True)
    runner.start()
    runner.join(JOIN_S)
    assert not runner.is_alive(), "the agent did not stop"

    assert spool.spans("reader-1") == [
        (seq, T + k * BATCH_MS, T + (k + 1) * BATCH_MS)
        for seq, k in enumerate(range(-queue_size, 80))
    ]
    for device in READERS[1:]:
        assert spool.spans(device) == [
            (k, T + k * BATCH_MS, T + (k + 1) * BATCH_MS) for k in range(80)
        ]
    assert publisher.backlog_at_stop == 80 * len(READERS) + queue_size, "stored before publishing"
    assert spool.appends == 0
    problems = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert problems == []


def test_a_driver_that_never_stops_does_not_hang_the_shutdown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(edge.agent, "DRIVER_STOP_TIMEOUT_S", 0.3)
    spool = CountingSpool()
    publisher = FakePublisher(spool)
    hung = HungDriver()
    good = FakeDriver(before=[rfid("reader-2", 0)], while_stopping=[rfid("reader-2", 1)])
    stop = threading.Event()
    agent = _Agent(
        config(tmp_path), spool, ManualClock(T), stop, drivers=[hung, good], publisher=publisher
    )
    stop.set()
    runner = threading.Thread(target=agent.run, daemon=True)
    runner.start()
    runner.join(JOIN_S)
    try:
        assert not runner.is_alive(), "a hung driver hung the shutdown"
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [
            "drivers not stopped after 0.3 s, shutting down without them: hung driver"
        ]
        assert [seq for seq, _, _ in spool.spans("reader-2")] == [0, 1]
        assert publisher.backlog_at_stop == 2
    finally:
        hung.release.set()
