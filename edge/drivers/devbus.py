"""Driver for the device bus: a TCP client that reads JSON-line frames (``shelfsense.devbus``).

One driver per bus address. It keeps only the frames of its configured devices (a bus may carry
other gateways' devices too) and drops, with a warning, a frame whose kind is not the kind the
device is configured as. A malformed line is logged and skipped; it never ends the connection.
On any connection error it reconnects with exponential backoff (``backoff_min_s`` doubling up to
``backoff_max_s``, reset once a connection has delivered a frame). A line longer than
``MAX_LINE_BYTES`` ends the connection (the stream has lost its framing).
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Mapping

from edge.drivers.base import FrameSink
from shelfsense.devbus import FrameError, decode_frame
from shelfsense.ids import DeviceId
from shelfsense.wire import StreamKind

log = logging.getLogger(__name__)

MAX_LINE_BYTES = 16 * 1024 * 1024
RECV_BYTES = 64 * 1024
POLL_S = 0.25  # how often a blocked read looks at the stop flag
CONNECT_TIMEOUT_S = 5.0


class _LineTooLong(OSError):
    pass


class DevBusDriver:
    def __init__(
        self,
        host: str,
        port: int,
        devices: Mapping[DeviceId, StreamKind],
        *,
        backoff_min_s: float = 0.2,
        backoff_max_s: float = 5.0,
    ) -> None:
        self._host, self._port = host, port
        self._devices = dict(devices)
        self._backoff_min_s, self._backoff_max_s = backoff_min_s, backoff_max_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.skipped_lines = 0

    @property
    def name(self) -> str:
        return f"devbus {self._host}:{self._port}"

    def start(self, sink: FrameSink) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(sink,), name=f"edge-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self, sink: FrameSink) -> None:
        delay_s = self._backoff_min_s
        while not self._stop.is_set():
            try:
                delivered = self._session(sink)
            except OSError as exc:
                log.warning("%s: %s; reconnecting in %.1f s", self.name, exc, delay_s)
                delivered = False
            if delivered:
                delay_s = self._backoff_min_s
            self._stop.wait(delay_s)
            delay_s = min(delay_s * 2, self._backoff_max_s)

    def _session(self, sink: FrameSink) -> bool:
        """One connection, until it closes or ``stop()``. True when it delivered any frame."""
        delivered = False
        with socket.create_connection((self._host, self._port), CONNECT_TIMEOUT_S) as sock:
            sock.settimeout(POLL_S)
            log.info("%s: connected", self.name)
            buffer = b""
            while not self._stop.is_set():
                try:
                    chunk = sock.recv(RECV_BYTES)
                except TimeoutError:
                    continue
                if not chunk:
                    log.warning("%s: the bus closed the connection", self.name)
                    return delivered
                *lines, buffer = (buffer + chunk).split(b"\n")
                if len(buffer) > MAX_LINE_BYTES:
                    raise _LineTooLong(f"a line longer than {MAX_LINE_BYTES} bytes")
                for line in lines:
                    delivered |= self._deliver(line, sink)
        return delivered

    def _deliver(self, line: bytes, sink: FrameSink) -> bool:
        if not line.strip():
            return False
        try:
            frame = decode_frame(line)
        except FrameError as exc:
            self.skipped_lines += 1
            log.warning("%s: skipped a line: %s", self.name, exc)
            return False
        kind = self._devices.get(frame.device)
        if kind is None:
            return False
        if kind != frame.kind:
            self.skipped_lines += 1
            log.warning(
                "%s: %s sent a %s frame; it is a %s", self.name, frame.device, frame.kind, kind
            )
            return False
        sink(frame)
        return True
