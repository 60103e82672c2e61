"""Wiring of the gateway agent: drivers -> frame queue -> batcher -> spool -> publisher -> broker.

Threads and who owns what:

- driver threads (one per device-bus address) put frames on a bounded queue; a full queue
  blocks them (back-pressure into the device connection);
- the agent loop (the thread that calls ``run_edge``) owns the ``Batcher``: it takes frames,
  closes batches, and appends each batch to the spool, which assigns its seq in the same
  transaction that stores it; then it wakes the publisher;
- the publisher's threads drain the spool to the broker (see ``edge.publisher``).

Stop (``stop`` set, e.g. by SIGTERM): drivers stop, the frames already queued are batched,
partial batches are flushed to the spool, the publisher gets ``shutdown_grace_s`` to publish,
then a retained ``offline`` status goes out and the agent returns. What was not published stays
in the spool for the next start. A kill -9 at any moment loses only frames not yet in the spool
(the open batches); everything in the spool is published after restart, with the seq it has.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import defaultdict

from edge.batching import Batcher, Draft
from edge.config import EdgeConfig
from edge.drivers import DevBusDriver, DeviceDriver
from edge.publisher import Publisher
from edge.spool import SqliteSpool
from shelfsense.clock import Clock, SystemClock
from shelfsense.devbus import BATCH_KINDS, Frame
from shelfsense.ids import DeviceId
from shelfsense.wire import StreamKind

log = logging.getLogger(__name__)

TICK_S = 0.1
MAX_FRAMES_PER_TICK = 1000
SINK_RETRY_S = 0.1


def run_edge(config: EdgeConfig, *, stop: threading.Event, clock: Clock | None = None) -> None:
    """Run until ``stop`` is set; returns after the clean shutdown described above.

    Raises ``edge.errors.SpoolError`` (``SpoolLocked`` when another agent uses the spool).
    """
    spool = SqliteSpool(config.spool_path)
    try:
        agent = _Agent(config, spool, clock or SystemClock(), stop)
        agent.run()
    finally:
        spool.close()


def make_drivers(config: EdgeConfig) -> list[DeviceDriver]:
    """One device-bus driver per address, each keeping only the devices configured on it."""
    by_address: dict[tuple[str, int], dict[DeviceId, StreamKind]] = defaultdict(dict)
    for device in config.devices:
        by_address[device.host_port][DeviceId(device.id)] = device.stream_kind
    return [DevBusDriver(host, port, devices) for (host, port), devices in by_address.items()]


class _Agent:
    def __init__(
        self, config: EdgeConfig, spool: SqliteSpool, clock: Clock, stop: threading.Event
    ) -> None:
        self._config = config
        self._spool = spool
        self._clock = clock
        self._stop = stop
        self._closing = threading.Event()
        self._frames: queue.Queue[Frame] = queue.Queue(config.frame_queue_size)
        batch_ms = {kind: config.batch_ms.for_kind(kind) for kind in BATCH_KINDS}
        self._batcher = Batcher(batch_ms)
        self._dropped = 0
        self._drivers = make_drivers(config)
        self._publisher = Publisher(config, spool, clock)

    def run(self) -> None:
        log.info(
            "edge %s/%s: %d devices",
            self._config.site,
            self._config.gateway,
            len(self._config.devices),
        )
        self._publisher.start()
        for driver in self._drivers:
            driver.start(self._sink)
        try:
            while not self._stop.is_set():
                self._take(TICK_S)
                self._store(self._batcher.flush_idle(self._clock.now_ms()))
        finally:
            self._shutdown()

    def _sink(self, frame: Frame) -> None:
        """Called on driver threads; blocks while the queue is full, unless shutting down."""
        while True:
            try:
                self._frames.put(frame, timeout=SINK_RETRY_S)
                return
            except queue.Full:
                if self._closing.is_set():
                    log.warning("shutting down with a full frame queue; dropped a frame")
                    return

    def _take(self, timeout_s: float | None) -> None:
        """Batch the queued frames: wait up to ``timeout_s`` for the first (None: don't wait)."""
        for _ in range(MAX_FRAMES_PER_TICK):
            try:
                frame = (
                    self._frames.get(timeout=timeout_s) if timeout_s else self._frames.get_nowait()
                )
            except queue.Empty:
                return
            timeout_s = None
            self._store(self._batcher.add(frame, self._clock.now_ms()))
            self._log_dropped(frame.device)

    def _store(self, drafts: list[Draft]) -> None:
        for draft in drafts:
            self._spool.append(
                self._config.stream_key(draft.device),
                str(self._config.topic(draft.kind, draft.device)),
                draft.payload,
            )
        if drafts:
            self._publisher.wake()

    def _log_dropped(self, device: DeviceId) -> None:
        total = sum(self._batcher.dropped_frames.values())
        if total > self._dropped:
            self._dropped = total
            log.warning("%s: dropped a frame overlapping time already batched", device)

    def _shutdown(self) -> None:
        log.info(
            "stopping: flushing batches, then publishing for up to %.1f s",
            self._config.shutdown_grace_s,
        )
        self._closing.set()
        for driver in self._drivers:
            driver.stop()
        while not self._frames.empty():
            self._take(None)
        self._store(self._batcher.flush_all())
        self._publisher.stop(self._config.shutdown_grace_s)
