"""Spool -> broker: QoS 1 publishes, bounded in flight, deleted once acknowledged. Only paho here.

Threads: paho's network thread (callbacks only queue events) and the pump thread, which owns the
in-flight accounting: it reads the spool from a cursor, publishes while fewer than
``max_inflight`` batches are un-acknowledged, and turns PUBACKs into ``spool.ack_many``. A batch
leaves the spool only after its PUBACK, so a crash at any point re-publishes, never loses.

Reconnects. paho keeps every un-acknowledged QoS 1 message of this process and, on CONNACK,
re-sends them all in publish order (DUP set) before reading anything else from the socket. The
pump therefore holds back new publishes after a (re)connect until the first PUBACK arrives: by
then paho has queued every re-send, so the broker sees the backlog oldest first, then new
batches. After a process restart the cursor starts at 0: every batch still in the spool is
published again, oldest first. Duplicates are fine (ingest de-duplicates by (stream, seq)).

Status. The last will is ``wire.offline_will()``, retained QoS 1 on the status topic. On every
connect an ``online`` status (with ``backlog``) is published, retained, and again every
``status_interval_s``; a clean ``stop`` publishes a retained ``offline`` status and disconnects
(a clean DISCONNECT makes the broker drop the will).

paho refuses new QoS 1 publishes once its 65,535 packet ids are all in flight; our own bound,
``max_inflight`` plus ``STATUS_SLOTS``, keeps well below that.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from edge.config import EdgeConfig
from edge.spool import Spool, SpooledBatch
from shelfsense import __version__
from shelfsense.clock import Clock
from shelfsense.wire import GatewayState, GatewayStatus, StreamKind, encode, offline_will

log = logging.getLogger(__name__)

STATUS_SLOTS = 2  # status messages in flight beside the batches
PUMP_TICK_S = 0.2
KEEPALIVE_S = 30
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 30
OFFLINE_ACK_TIMEOUT_S = 2.0
DRAIN_POLL_S = 0.05


class Publisher:
    """Drains ``spool`` to the broker of ``config``. ``start()`` once, ``stop()`` once."""

    def __init__(self, config: EdgeConfig, spool: Spool, clock: Clock) -> None:
        self._config = config
        self._spool = spool
        self._clock = clock
        self._status_topic = str(config.topic(StreamKind.STATUS))
        self._acks: queue.SimpleQueue[tuple[int, bool]] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._ready = threading.Event()  # connected, and paho's re-sends are queued
        self._fresh = False  # a status is due because the link just came up
        self._awaiting_first_ack = False
        # owned by the pump thread (by stop() once the pump has ended):
        self._in_flight: dict[int, SpooledBatch | None] = {}  # mid -> batch (None: a status)
        self._batches_in_flight = 0
        self._cursor = 0
        self._retry: list[SpooledBatch] = []
        self._next_status_s = 0.0
        self._client = self._make_client()
        self._pump = threading.Thread(target=self._run, name="edge-publisher", daemon=True)

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    def start(self) -> None:
        url = self._config.broker
        log.info("connecting to %s as %s", url, self._config.client_id)
        if self._config.mqtt_version == "5":
            self._client.connect_async(url.host, url.port, KEEPALIVE_S, clean_start=True)
        else:
            self._client.connect_async(url.host, url.port, KEEPALIVE_S)
        self._client.loop_start()
        self._pump.start()

    def wake(self) -> None:
        """New batches are in the spool."""
        self._wake.set()

    def stop(self, grace_s: float) -> None:
        """Publish what the grace period allows, then a retained offline status; disconnect."""
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and self._ready.is_set() and self._spool.backlog():
            self._wake.set()
            time.sleep(DRAIN_POLL_S)
        self._halt.set()
        self._wake.set()
        self._pump.join()
        if self._ready.is_set():
            info = self._publish_status(GatewayState.OFFLINE)
            info.wait_for_publish(OFFLINE_ACK_TIMEOUT_S)
        self._client.disconnect()
        self._client.loop_stop()
        self._settle_acks()
        log.info("publisher stopped; %d batches stay in the spool", self._spool.backlog())

    # --- paho ------------------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        config, url = self._config, self._config.broker
        v5 = config.mqtt_version == "5"
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=config.client_id,
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            clean_session=None if v5 else True,
        )
        client.will_set(self._status_topic, offline_will(), qos=1, retain=True)
        client.max_inflight_messages_set(min(config.max_inflight + STATUS_SLOTS, 65_535))
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        if url.tls:
            ca_file = str(config.tls_ca_file) if config.tls_ca_file else None
            client.tls_set(ca_certs=ca_file)
        if url.username:
            client.username_pw_set(url.username, url.password)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        return client

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        log.info("connected; backlog %d", self._spool.backlog())
        self._awaiting_first_ack = True
        self._publish_status(GatewayState.ONLINE)  # its PUBACK opens the gate (see module doc)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        self._ready.clear()
        self._awaiting_first_ack = False
        if not self._halt.is_set():
            log.warning("disconnected from the broker (%s); spooling", reason)

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, props: Any
    ) -> None:
        self._acks.put((mid, not reason.is_failure))
        if self._awaiting_first_ack:
            self._awaiting_first_ack = False
            self._fresh = True
            self._ready.set()
        self._wake.set()

    def _publish_status(self, state: GatewayState) -> mqtt.MQTTMessageInfo:
        status = GatewayStatus(
            v=1, state=state, ts=self._clock.now_ms(), sw=__version__, backlog=self._spool.backlog()
        )
        return self._client.publish(self._status_topic, encode(status), qos=1, retain=True)

    # --- the pump --------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._halt.is_set():
            self._wake.wait(PUMP_TICK_S)
            self._wake.clear()
            try:
                self._step()
            except Exception:
                log.exception("publisher step failed; retrying")
                time.sleep(PUMP_TICK_S)

    def _step(self) -> None:
        self._settle_acks()
        if not self._ready.is_set():
            return
        self._maybe_status()
        self._fill()

    def _settle_acks(self) -> None:
        done: list[int] = []
        while True:
            try:
                mid, ok = self._acks.get_nowait()
            except queue.Empty:
                break
            batch = self._in_flight.pop(mid, None)
            if batch is None:
                continue
            self._batches_in_flight -= 1
            if ok:
                done.append(batch.id)
            else:
                log.warning("broker refused batch %s seq %d; will retry", batch.topic, batch.seq)
                self._retry.append(batch)
        self._spool.ack_many(done)

    def _maybe_status(self) -> None:
        now_s = time.monotonic()
        status_in_flight = any(b is None for b in self._in_flight.values())
        if self._fresh or (now_s >= self._next_status_s and not status_in_flight):
            self._fresh = False
            self._next_status_s = now_s + self._config.status_interval_s
            info = self._publish_status(GatewayState.ONLINE)
            if info.rc != MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
                self._in_flight[info.mid] = None

    def _fill(self) -> None:
        room = self._config.max_inflight - self._batches_in_flight
        while self._retry and room > 0:
            if not self._send(self._retry[0]):
                return
            self._retry.pop(0)
            room -= 1
        if room <= 0:
            return
        for batch in self._spool.pending(after_id=self._cursor, limit=room):
            if not self._send(batch):
                return
            self._cursor = batch.id

    def _send(self, batch: SpooledBatch) -> bool:
        info = self._client.publish(batch.topic, batch.payload, qos=1)
        if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
            log.warning("paho has no free packet id; holding batch %d", batch.id)
            return False
        self._in_flight[info.mid] = batch
        self._batches_in_flight += 1
        return True
