"""The device-bus server: every connected client gets every frame, as JSON lines over TCP.

``DeviceBus.send(line)`` hands one encoded frame (``shelfsense.devbus.encode_frame``) to every
client connected at that moment. Each client has a bounded queue drained by its own writer
thread; when a client's queue is full, ``send`` waits (backpressure reaches the simulation
loop, which then runs slower than asked): frames are never dropped for a connected client. A
client that disconnects or fails is forgotten. Frames sent while no client is connected go
nowhere (use ``wait_for_clients`` first). Clients send nothing; anything they send is ignored.

Threads: one acceptor, one writer per client. ``send`` is called from one thread (the loop).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

_POLL_S = 0.1
_CLOSE = b""  # queue sentinel: the writer stops


@dataclass(eq=False)
class _Client:
    sock: socket.socket
    peer: str
    queue: queue.Queue[bytes]
    alive: threading.Event = field(default_factory=threading.Event)


class DeviceBus:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, queue_frames: int = 1024) -> None:
        self._server = socket.create_server((host, port), reuse_port=False)
        self._server.settimeout(_POLL_S)
        self.host, self.port = self._server.getsockname()[:2]
        self._queue_frames = queue_frames
        self._clients: list[_Client] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._closed = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, name="devbus-accept", daemon=True)
        self._acceptor.start()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def client_count(self) -> int:
        with self._lock:
            return sum(c.alive.is_set() for c in self._clients)

    def wait_for_clients(self, count: int, stop: threading.Event) -> bool:
        """Block until ``count`` clients are connected; False if ``stop`` was set first."""
        with self._changed:
            while not stop.is_set() and self._live() < count:
                self._changed.wait(_POLL_S)
        return not stop.is_set()

    def send(self, line: bytes, stop: threading.Event | None = None) -> None:
        """Queue one line for every connected client, waiting while a queue is full."""
        with self._lock:
            clients = [c for c in self._clients if c.alive.is_set()]
        for client in clients:
            while client.alive.is_set() and not (stop is not None and stop.is_set()):
                try:
                    client.queue.put(line, timeout=_POLL_S)
                    break
                except queue.Full:
                    continue

    def flush(self, stop: threading.Event) -> bool:
        """Wait until every client has written all it was given; False if ``stop`` came first."""
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            while client.alive.is_set() and client.queue.unfinished_tasks:
                if stop.wait(0.01):
                    return False
        return True

    def close(self) -> None:
        self._closed.set()
        self._acceptor.join()
        self._server.close()
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            client.alive.clear()
            with contextlib.suppress(queue.Full):
                client.queue.put_nowait(_CLOSE)
            with contextlib.suppress(OSError):
                client.sock.shutdown(socket.SHUT_RDWR)  # wakes a writer blocked in sendall

    def __enter__(self) -> DeviceBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _live(self) -> int:
        return sum(c.alive.is_set() for c in self._clients)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                sock, addr = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            client = _Client(sock, f"{addr[0]}:{addr[1]}", queue.Queue(self._queue_frames))
            client.alive.set()
            threading.Thread(
                target=self._write, args=(client,), daemon=True, name=f"devbus-{client.peer}"
            ).start()
            with self._changed:
                self._clients.append(client)
                self._changed.notify_all()
            log.info("device-bus client %s connected", client.peer)

    def _write(self, client: _Client) -> None:
        try:
            while client.alive.is_set():
                chunk = [client.queue.get()]
                while len(chunk) < 256 and not client.queue.empty():
                    chunk.append(client.queue.get_nowait())
                if not client.alive.is_set():
                    return
                client.sock.sendall(b"".join(chunk))
                for _ in chunk:
                    client.queue.task_done()
        except OSError as exc:
            log.info("device-bus client %s gone: %s", client.peer, exc)
        finally:
            client.alive.clear()
            self._drop(client)

    def _drop(self, client: _Client) -> None:
        with self._changed:
            if client in self._clients:
                self._clients.remove(client)
            self._changed.notify_all()
        client.sock.close()
