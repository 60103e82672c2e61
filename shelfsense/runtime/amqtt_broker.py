"""An in-process MQTT 3.1.1 broker (amqtt) for machines without Mosquitto.

`shelfsense demo` falls back to it when no `mosquitto` binary exists, so the demo needs nothing
but Python. The broker runs its own asyncio loop in a daemon thread and listens on 127.0.0.1.
It keeps nothing on disk: a restart forgets sessions, queued and retained messages, so tests of
broker restarts use `MosquittoBroker`. It speaks MQTT 3.1.1 only (clients must not ask for v5).
"""

from __future__ import annotations

import asyncio
import errno
import importlib.util
import threading
from types import TracebackType
from typing import Any, Self

from shelfsense.runtime.errors import ServiceNotInstalled, ServiceStartError
from shelfsense.runtime.ports import LOOPBACK, free_port

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 15.0
START_ATTEMPTS = 3


def broker_config(port: int) -> dict[str, Any]:
    """amqtt's config: one TCP listener on loopback, anonymous clients, no $SYS or packet logs."""
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{LOOPBACK}:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }


class _BrokerThread(threading.Thread):
    """Runs one amqtt Broker until `request_stop()`; `error` is set when it failed to start."""

    def __init__(self, port: int) -> None:
        super().__init__(name=f"amqtt-{port}", daemon=True)
        self.port = port
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    def run(self) -> None:
        asyncio.run(self._serve())

    def request_stop(self) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopping.set)

    async def _serve(self) -> None:
        try:
            from amqtt.broker import Broker

            broker = Broker(broker_config(self.port), loop=asyncio.get_running_loop())
            await broker.start()
        except BaseException as exc:  # reported to the starting thread
            self.error = exc
            self.ready.set()
            return
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self.ready.set()
        await self._stopping.wait()
        await broker.shutdown()


class AmqttBroker:
    """The surface of `MosquittoBroker` (`start`, `stop`, `restart`, `url`) without a binary."""

    host = LOOPBACK

    def __init__(self, *, port: int | None = None) -> None:
        self._port = port
        self._port_fixed = port is not None
        self._thread: _BrokerThread | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise ServiceStartError("the broker has no port before its first start()")
        return self._port

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        if self.is_running:
            return self
        _require_amqtt()
        attempts = 1 if self._port_fixed else START_ATTEMPTS
        for attempt in range(1, attempts + 1):
            error = self._try_start()
            if error is None:
                self._port_fixed = True
                return self
            if attempt == attempts or not _address_in_use(error):
                raise ServiceStartError(f"amqtt broker did not start on {self.url}: {error}")
            self._port = None
        raise AssertionError("unreachable")

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        thread.request_stop()
        thread.join(STOP_TIMEOUT_S)

    def kill(self) -> None:
        """Same as `stop()`: an in-process broker cannot crash apart from its host."""
        self.stop()

    def restart(self) -> Self:
        self.stop()
        return self.start()

    def _try_start(self) -> BaseException | None:
        if self._port is None:
            self._port = free_port()
        thread = _BrokerThread(self._port)
        thread.start()
        if not thread.ready.wait(START_TIMEOUT_S):
            thread.request_stop()
            return TimeoutError(f"no answer within {START_TIMEOUT_S} s")
        if thread.error is None:
            self._thread = thread
        return thread.error

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _require_amqtt() -> None:
    if importlib.util.find_spec("amqtt") is None:
        raise ServiceNotInstalled("the amqtt package is missing: pip install amqtt")


def _address_in_use(error: BaseException) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE:
            return True
        cause = cause.__cause__
    return False
