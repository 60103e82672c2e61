"""A local HTTP server that records what arrives, standing in for ntfy, webhooks and push services.

    with CaptureServer() as capture:
        capture.fail_next(2)                  # the next two requests get 500
        capture.answer("/push/gone", 410)     # this path always answers 410
        ...
        hits = capture.wait_for(1, path="/")  # the requests so far on that path (polls)

Every request is kept with its arrival time (``time.monotonic()`` and wall ``time.time()``).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


@dataclass(frozen=True, slots=True)
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the server answered
    at_wall_s: float

    def json(self) -> Any:
        return json.loads(self.body)


class CaptureServer:
    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self._lock = threading.Condition()
        self._failures = 0
        self._fixed: dict[str, int] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, count: int) -> None:
        with self._lock:
            self._failures += count

    def answer(self, path: str, status: int) -> None:
        with self._lock:
            self._fixed[path] = status

    def _status_for(self, path: str) -> int:
        with self._lock:
            if path in self._fixed:
                return self._fixed[path]
            if self._failures:
                self._failures -= 1
                return 500
            return 200

    def _record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)
            self._lock.notify_all()

    def ok_hits(self, path: str | None = None) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.status == 200 and path in (None, h.path)]

    def wait_for(
        self, count: int, *, path: str | None = None, timeout_s: float = 15.0
    ) -> list[Hit]:
        """The successful hits (on ``path``) once there are at least ``count``."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while True:
                found = [h for h in self.hits if h.status == 200 and path in (None, h.path)]
                if len(found) >= count or time.monotonic() > deadline:
                    return found
                self._lock.wait(0.05)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = capture._status_for(self.path)
                hit = Hit("POST", self.path, dict(self.headers), body, status, time.time())
                capture._record(hit)
                payload = b'{"ok":true}' if status < 300 else b'{"error":"capture says no"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
