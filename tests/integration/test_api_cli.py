"""``shelfsense api`` as a real process: serves on --host/--port, exits 0 on SIGTERM at once, even
with a live SSE stream open (the stream ends, the client sees a clean end of body)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from api_world import SITE, auth, seed_world

from api.cli import GRACE_S
from shelfsense.runtime.ports import free_port, wait_for_port

pytestmark = pytest.mark.integration


def _stream_then_terminate(proc: subprocess.Popen[bytes], port: int, token: str) -> float:
    """Open a live stream, SIGTERM the server; returns seconds until the process exited."""
    assert wait_for_port("127.0.0.1", port, 30, alive=lambda: proc.poll() is None)
    base = f"http://127.0.0.1:{port}/api/v1"
    assert httpx.get(f"{base}/health").json() == {"status": "ok"}
    with httpx.stream("GET", f"{base}/sites/{SITE}/live", headers=auth(token), timeout=30) as r:
        lines = r.iter_lines()
        assert next(lines) == ": connected"
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rest = list(lines)  # ends when the server ends the stream
    assert "event: " not in "\n".join(rest)
    proc.wait(timeout=20)
    return time.monotonic() - started


def test_serves_then_exits_cleanly_on_sigterm(database_url: str) -> None:
    world = seed_world(database_url)
    port = free_port()
    cmd = [sys.executable, "-m", "shelfsense.cli", "api", "--port", str(port)]
    env = os.environ | {"SHELFSENSE_DATABASE_URL": database_url}
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
        try:
            took_s = _stream_then_terminate(proc, port, world.viewer)
        finally:
            if proc.poll() is None:
                proc.kill()
            output = proc.communicate()[0].decode(errors="replace")
    assert proc.returncode == 0, output
    assert took_s < GRACE_S - 1, f"shutdown waited {took_s:.1f} s for the SSE stream"
    assert "Traceback" not in output


def test_without_a_database_it_says_so() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHELFSENSE_")}
    done = subprocess.run(
        [sys.executable, "-m", "shelfsense.cli", "api"], env=env, capture_output=True, timeout=30
    )
    assert done.returncode == 2
    assert b"no database" in done.stderr
