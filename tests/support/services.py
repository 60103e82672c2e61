"""Run shelfsense services inside a test: in a thread, or as a real child process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from ingest.config import IngestConfig
from ingest.service import run_ingest
from shelfsense.db.sites import apply_site
from shelfsense.settings import MqttUrl
from shelfsense.site import load_site

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
T = TypeVar("T")


def apply_site_file(database_url: str, name: str = "site_small.yaml") -> None:
    apply_site_file_path(database_url, FIXTURES / name)


def apply_site_file_path(database_url: str, path: Path) -> None:
    site = load_site(path.read_text(), str(path))
    with psycopg.connect(database_url) as conn:
        apply_site(conn, site)


def wait_for(probe: Callable[[], T], *, timeout_s: float = 30.0, what: str = "condition") -> T:
    """Poll ``probe`` until it returns something truthy (real services take real time)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


def scalar(database_url: str, sql: str, *params: object) -> object:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(sql, params).fetchone()
        return row[0] if row else None


@contextmanager
def ingest_thread(
    database_url: str,
    mqtt_url: str,
    *,
    prefix: str = "shelf",
    client_id: str = "test-ingest",
    **overrides: Any,
) -> Iterator[IngestConfig]:
    config = IngestConfig(
        database_url=database_url,
        mqtt=MqttUrl.parse(mqtt_url),
        prefix=prefix,
        client_id=client_id,
        **overrides,
    )
    stop = threading.Event()
    ready = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run_ingest(config, stop=stop, ready=ready)
        except BaseException as exc:  # surfaced to the test below
            errors.append(exc)

    thread = threading.Thread(target=target, name="ingest", daemon=True)
    thread.start()
    try:
        assert ready.wait(60), "ingest did not subscribe within 60 s"
        yield config
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive(), "ingest did not stop within 30 s"
    assert not errors, f"ingest failed: {errors[0]!r}"


def start_cli(*args: str, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """``shelfsense ARGS`` as a child process (its own process group), output to ``log_path``."""
    with log_path.open("ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "shelfsense.cli", *args],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def kill9(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def terminate(proc: subprocess.Popen[bytes], timeout_s: float = 20.0) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout_s)
