"""Loopback ports for private services: find a free one, wait until one answers.

Private services listen on 127.0.0.1 only, never on the standard ports (1883, 5432) that a
machine's own broker or database may hold. `free_port()` asks the kernel for an unused port; the
port is released before the service binds it, so a launcher that started on a port from here
retries once with a fresh port if another process took it in between.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

LOOPBACK = "127.0.0.1"
POLL_INTERVAL_S = 0.02


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on `host` that nothing listens on at the moment of the call."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_accepts(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when a TCP connection to (host, port) succeeds now."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def wait_for_port(
    host: str,
    port: int,
    timeout_s: float,
    alive: Callable[[], bool] = lambda: True,
) -> bool:
    """Poll until (host, port) accepts a connection; False on timeout or once `alive()` is False.

    `alive` lets the caller stop waiting as soon as the process that should listen has exited.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive():
            return False
        if port_accepts(host, port):
            return alive()
        time.sleep(POLL_INTERVAL_S)
    return False


def wait_until_closed(host: str, port: int, timeout_s: float) -> bool:
    """Poll until (host, port) refuses connections; False on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not port_accepts(host, port):
            return True
        time.sleep(POLL_INTERVAL_S)
    return False
