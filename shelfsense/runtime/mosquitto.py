"""A private Mosquitto broker on a loopback port, for tests and `shelfsense demo`.

The broker owns one directory: its config file, its log and its persistence file live there, so
a graceful `stop()` followed by `start()` keeps retained messages, persistent sessions and the
QoS 1 messages queued for them. `kill()` (SIGKILL) loses whatever arrived since the last save.
The port is picked once and kept: a restart listens on the same port, so clients reconnect.

Limits written into the config (see `render_config`): up to `MAX_INFLIGHT_MESSAGES` unacknowledged
QoS 1 messages towards each subscriber, `MAX_QUEUED_MESSAGES` queued per session, packets up to
`MAX_PACKET_BYTES` (the contract allows 256 KiB payloads).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from shelfsense.runtime.errors import ServiceNotInstalled, ServiceStartError, read_log_tail
from shelfsense.runtime.ports import LOOPBACK, free_port, port_accepts, wait_for_port

MOSQUITTO_PATHS = (Path("/usr/sbin/mosquitto"), Path("/usr/local/sbin/mosquitto"))
MAX_PACKET_BYTES = 1024 * 1024
MAX_INFLIGHT_MESSAGES = 1000
MAX_QUEUED_MESSAGES = 1_000_000
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 15.0
START_ATTEMPTS = 3
ADDRESS_IN_USE = "Address already in use"


def find_mosquitto() -> Path | None:
    """The mosquitto binary on PATH, else in /usr/sbin (Debian), else None."""
    found = shutil.which("mosquitto")
    if found:
        return Path(found)
    return next((path for path in MOSQUITTO_PATHS if os.access(path, os.X_OK)), None)


def require_mosquitto() -> Path:
    path = find_mosquitto()
    if path is None:
        raise ServiceNotInstalled(
            "mosquitto is not installed (not on PATH, not in /usr/sbin): "
            "run `make install` as root, or `apt-get install mosquitto`"
        )
    return path


def render_config(
    *,
    port: int,
    directory: Path,
    run_as: str | None = None,
    autosave_interval_s: int | None = None,
    extra_lines: Sequence[str] = (),
) -> str:
    """The broker's config text: loopback listener, anonymous access, persistence in `directory`.

    `run_as` writes `user NAME`; as root it must be `root`, or mosquitto switches to the
    `mosquitto` user, which cannot write into our directory.
    """
    lines = [
        f"listener {port} {LOOPBACK}",
        "allow_anonymous true",
        "persistence true",
        f"persistence_location {directory}/",
        "persistence_file mosquitto.db",
        f"max_queued_messages {MAX_QUEUED_MESSAGES}",
        f"max_inflight_messages {MAX_INFLIGHT_MESSAGES}",
        f"max_packet_size {MAX_PACKET_BYTES}",
        "set_tcp_nodelay true",
        f"log_dest file {directory / 'mosquitto.log'}",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
    ]
    if run_as is not None:
        lines.append(f"user {run_as}")
    if autosave_interval_s is not None:
        lines.append(f"autosave_interval {autosave_interval_s}")
    return "\n".join([*lines, *extra_lines]) + "\n"


class MosquittoBroker:
    """A mosquitto process listening on 127.0.0.1:`port`, configured and logged in `directory`.

    Use as a context manager, or call `start()` and `stop()`. `url` is `mqtt://127.0.0.1:PORT`.
    """

    host = LOOPBACK

    def __init__(
        self,
        directory: Path,
        *,
        port: int | None = None,
        binary: Path | None = None,
        autosave_interval_s: int | None = None,
        extra_config: Sequence[str] = (),
    ) -> None:
        self.directory = Path(directory)
        self._port = port
        self._port_fixed = port is not None
        self._binary = binary
        self._autosave_interval_s = autosave_interval_s
        self._extra_config = tuple(extra_config)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise ServiceStartError("the broker has no port before its first start()")
        return self._port

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.directory / "mosquitto.conf"

    @property
    def log_path(self) -> Path:
        return self.directory / "mosquitto.log"

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Start the broker (no-op when running) and wait until its port accepts connections."""
        if self.is_running:
            return self
        binary = self._binary or require_mosquitto()
        if not os.access(binary, os.X_OK):
            raise ServiceNotInstalled(f"mosquitto binary {binary} is not an executable file")
        self.directory.mkdir(parents=True, exist_ok=True)
        attempts = 1 if self._port_fixed else START_ATTEMPTS
        for attempt in range(1, attempts + 1):
            failure = self._try_start(binary)
            if failure is None:
                self._port_fixed = True
                return self
            if attempt == attempts or ADDRESS_IN_USE not in failure:
                raise ServiceStartError(f"mosquitto did not start on {self.url}", failure)
            self._port = None
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Graceful stop: SIGTERM (mosquitto saves its persistence file), then wait."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._process = None

    def kill(self) -> None:
        """Crash the broker (SIGKILL): nothing is saved since the last autosave."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        self._process = None

    def restart(self) -> Self:
        """Graceful stop, then start again on the same port."""
        self.stop()
        return self.start()

    def _try_start(self, binary: Path) -> str | None:
        """Start once on the current port; None on success, else why it failed (the log tail)."""
        if self._port is None:
            self._port = free_port()
        if port_accepts(self.host, self._port):
            return f"{self.host}:{self._port}: {ADDRESS_IN_USE} (another process listens there)"
        self.config_path.write_text(self._config_text(), encoding="utf-8")
        with self.log_path.open("ab") as log:
            process = subprocess.Popen(
                [str(binary), "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
                start_new_session=True,
            )
        self._process = process
        if wait_for_port(self.host, self._port, START_TIMEOUT_S, lambda: process.poll() is None):
            return None
        self.kill()
        return read_log_tail(self.log_path)

    def _config_text(self) -> str:
        return render_config(
            port=self.port,
            directory=self.directory,
            run_as="root" if os.geteuid() == 0 else None,
            autosave_interval_s=self._autosave_interval_s,
            extra_lines=self._extra_config,
        )

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
