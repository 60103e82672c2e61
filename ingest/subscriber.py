"""The broker seam of ingest: the only paho import here.

A persistent MQTT session (MQTT 5 ``clean_start=False`` with a session expiry, or 3.1.1
``clean_session=False``) with manual acknowledgement: a message is acknowledged only after the
database transaction that applied it has committed, so a crash before that makes the broker
deliver it again (and the ledger drops what had committed). ``receive_maximum`` bounds how
many unacknowledged messages the broker sends us; the hand-off queue is larger than that, so
paho's network thread never blocks on it.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from shelfsense.settings import MqttUrl

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Received:
    topic: str
    payload: bytes
    mid: int
    qos: int
    arrival_ms: int


class Source(Protocol):
    """What the service needs from a broker; ``MemorySource`` is the fake."""

    def start(self) -> None: ...
    def wait_ready(self, timeout_s: float) -> bool: ...
    def take(self, max_messages: int, wait_s: float) -> list[Received]: ...
    def ack(self, messages: list[Received]) -> None: ...
    def stop(self) -> None: ...


class MqttSource:
    def __init__(
        self,
        url: MqttUrl,
        *,
        client_id: str,
        topic_filters: list[str],
        receive_maximum: int = 1000,
        session_expiry_s: int = 7 * 86400,
        mqtt5: bool = True,
    ) -> None:
        self._url = url
        self._filters = topic_filters
        self._queue: queue.Queue[Received] = queue.Queue(maxsize=receive_maximum * 4 + 1000)
        self._connected = threading.Event()
        self.subscribed = threading.Event()
        self._mqtt5 = mqtt5
        self._receive_maximum = receive_maximum
        self._session_expiry_s = session_expiry_s
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5 if mqtt5 else mqtt.MQTTv311,
            clean_session=None if mqtt5 else False,
            manual_ack=True,
        )
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = lambda *args: self.subscribed.set()
        if url.username:
            self._client.username_pw_set(url.username, url.password)
        if url.tls:
            self._client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)

    def start(self) -> None:
        props = None
        if self._mqtt5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = self._session_expiry_s
            props.ReceiveMaximum = self._receive_maximum
        self._client.connect_async(
            self._url.host,
            self._url.port,
            keepalive=30,
            clean_start=False if self._mqtt5 else mqtt.MQTT_CLEAN_START_FIRST_ONLY,
            properties=props,
        )
        self._client.loop_start()

    def wait_ready(self, timeout_s: float) -> bool:
        """True once the first subscription was acknowledged by the broker."""
        return self.subscribed.wait(timeout_s)

    def take(self, max_messages: int, wait_s: float) -> list[Received]:
        try:
            first = self._queue.get(timeout=wait_s)
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < max_messages:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def ack(self, messages: list[Received]) -> None:
        for m in messages:
            if m.qos > 0:
                self._client.ack(m.mid, m.qos)

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        log.info("connected to %s (session present: %s)", self._url, flags.session_present)
        client.subscribe([(f, 1) for f in self._filters])
        self._connected.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self._connected.clear()
        log.warning("disconnected from broker: %s", reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self._queue.put(
            Received(msg.topic, bytes(msg.payload), msg.mid, msg.qos, time.time_ns() // 1_000_000)
        )


class MemorySource:
    """An in-memory broker stand-in: ``publish`` queues, ``take`` hands out, acks recorded."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Received] = queue.Queue()
        self.acked: list[int] = []
        self._mid = 0

    def publish(self, topic: str, payload: bytes, arrival_ms: int = 0) -> None:
        self._mid += 1
        self._queue.put(Received(topic, payload, self._mid, 1, arrival_ms))

    def start(self) -> None:
        return None

    def wait_ready(self, timeout_s: float) -> bool:
        return True

    def take(self, max_messages: int, wait_s: float) -> list[Received]:
        out: list[Received] = []
        while len(out) < max_messages:
            try:
                out.append(self._queue.get(timeout=wait_s if not out else 0))
            except queue.Empty:
                break
        return out

    def ack(self, messages: list[Received]) -> None:
        self.acked.extend(m.mid for m in messages)

    def stop(self) -> None:
        return None
