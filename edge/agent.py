"""Wiring of the gateway agent: drivers -> frame queue -> batcher -> spool -> publisher -> broker.

Threads and who owns what:

- driver threads (one per device-bus address) put frames on a bounded queue; a full queue
  blocks them (back-pressure into the device connection);
- the agent loop (the thread that calls ``run_edge``) owns the ``Batcher``: each tick it takes
  up to ``MAX_FRAMES_PER_TICK`` queued frames, closes batches (and idle partial ones), and stores
  all batches of the tick with ONE ``spool.append_many`` (one transaction, one fsync), which
  assigns their seqs in the same transaction; then it wakes the publisher once;
- the publisher's threads drain the spool to the broker (see ``edge.publisher``).

Stop (``stop`` set, e.g. by SIGTERM): every driver is stopped on a helper thread while the agent
loop keeps batching and storing what they still deliver, so no frame a driver already received
is dropped; a driver that has not stopped after ``DRIVER_STOP_TIMEOUT_S`` is given up on (logged;
whatever it still delivers is dropped). Then the queue is drained, partial batches are flushed
to the spool, the publisher gets ``shutdown_grace_s`` to publish, a retained ``offline`` status
goes out and the agent returns. What was not published stays in the spool for the next start.
A kill -9 at any moment loses only frames not yet in the spool (queued frames and open batches);
everything in the spool is published after restart, with the seq it has.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

from edge.batching import Batcher, Draft
from edge.config import EdgeConfig
from edge.drivers import DevBusDriver, DeviceDriver
from edge.publisher import Publisher
from edge.spool import NewBatch, Spool, SqliteSpool
from shelfsense.clock import Clock, SystemClock
from shelfsense.devbus import BATCH_KINDS, Frame
from shelfsense.ids import DeviceId
from shelfsense.wire import StreamKind

log = logging.getLogger(__name__)

TICK_S = 0.1
MAX_FRAMES_PER_TICK = 1000
SINK_RETRY_S = 0.1
DRIVER_STOP_TIMEOUT_S = 10.0  # then shutdown goes on without the driver (it may hang in connect)


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


class Publishing(Protocol):
    """What the agent needs of a publisher (``edge.publisher.Publisher``; fakes in tests)."""

    def start(self) -> None: ...

    def wake(self) -> None: ...

    def stop(self, grace_s: float) -> None: ...


class _Agent:
    def __init__(
        self,
        config: EdgeConfig,
        spool: Spool,
        clock: Clock,
        stop: threading.Event,
        *,
        drivers: Sequence[DeviceDriver] | None = None,
        publisher: Publishing | None = None,
    ) -> None:
        self._config = config
        self._spool = spool
        self._clock = clock
        self._stop = stop
        self._closing = threading.Event()  # set when shutdown gives up on a driver
        self._dropped_at_stop = 0
        self._frames: queue.Queue[Frame] = queue.Queue(config.frame_queue_size)
        batch_ms = {kind: config.batch_ms.for_kind(kind) for kind in BATCH_KINDS}
        self._batcher = Batcher(batch_ms)
        self._dropped = 0
        self._drivers = list(make_drivers(config) if drivers is None else drivers)
        self._publisher = Publisher(config, spool, clock) if publisher is None else publisher

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
                self._tick(TICK_S)
        finally:
            self._shutdown()

    def _sink(self, frame: Frame) -> None:
        """Called on driver threads; blocks while the queue is full (back-pressure).

        Never drops a frame, except once shutdown has given up on a driver that did not stop.
        """
        while not self._closing.is_set():
            try:
                self._frames.put(frame, timeout=SINK_RETRY_S)
                return
            except queue.Full:
                continue
        self._dropped_at_stop += 1  # only the drivers left behind get here; a count for the log

    def _tick(self, timeout_s: float | None) -> None:
        """Batch the queued frames, close idle batches, and store all that closed at once."""
        drafts = self._take(timeout_s)
        drafts += self._batcher.flush_idle(self._clock.now_ms())
        self._store(drafts)

    def _take(self, timeout_s: float | None) -> list[Draft]:
        """Batch up to ``MAX_FRAMES_PER_TICK`` queued frames: wait up to ``timeout_s`` for the
        first (None: don't wait). Returns the batches they closed, in order; stores nothing."""
        drafts: list[Draft] = []
        for _ in range(MAX_FRAMES_PER_TICK):
            try:
                frame = (
                    self._frames.get(timeout=timeout_s) if timeout_s else self._frames.get_nowait()
                )
            except queue.Empty:
                break
            timeout_s = None
            drafts += self._batcher.add(frame, self._clock.now_ms())
            self._log_dropped(frame.device)
        return drafts

    def _store(self, drafts: list[Draft]) -> None:
        """All ``drafts`` in one spool transaction (seq per stream in list order); one wake."""
        if not drafts:
            return
        self._spool.append_many(
            NewBatch(
                self._config.stream_key(draft.device),
                str(self._config.topic(draft.kind, draft.device)),
                draft.payload,
            )
            for draft in drafts
        )
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
        self._stop_drivers()
        while not self._frames.empty():
            self._store(self._take(None))
        self._store(self._batcher.flush_all())
        if self._dropped_at_stop:
            log.warning("dropped %d frames of drivers that did not stop", self._dropped_at_stop)
        self._publisher.stop(self._config.shutdown_grace_s)

    def _stop_drivers(self) -> None:
        """Stop every driver, each on a helper thread (``stop()`` blocks until the driver's
        threads end, and they may be blocked in ``_sink``), while batching and storing the frames
        they still deliver. Bounded: drivers not stopped after ``DRIVER_STOP_TIMEOUT_S`` are
        logged and left behind, and ``_sink`` drops what they deliver from then on."""
        stoppers = [
            (driver.name, threading.Thread(target=_stop_driver, args=(driver,), daemon=True))
            for driver in self._drivers
        ]
        for _, stopper in stoppers:
            stopper.start()
        deadline_s = time.monotonic() + DRIVER_STOP_TIMEOUT_S
        while any(s.is_alive() for _, s in stoppers) and time.monotonic() < deadline_s:
            self._tick(TICK_S)
        hung = [name for name, stopper in stoppers if stopper.is_alive()]
        if hung:
            self._closing.set()
            log.error(
                "drivers not stopped after %.1f s, shutting down without them: %s",
                DRIVER_STOP_TIMEOUT_S,
                ", ".join(hung),
            )


def _stop_driver(driver: DeviceDriver) -> None:
    try:
        driver.stop()
    except Exception:
        log.exception("%s: stop failed", driver.name)
