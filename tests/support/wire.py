"""Build contract payloads and publish them to a real broker."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from shelfsense.epc import encode_sgtin96
from shelfsense.settings import MqttUrl

DAY_MS = 86_400_000
# 10:00 UTC yesterday: recent enough that no retention policy drops the test's raw rows,
# fixed for the day so that every test of a run sees the same clock.
T0_MS = (int(time.time() * 1000) // DAY_MS - 1) * DAY_MS + 10 * 3_600_000
TUNA_GTIN = "08690000000012"


def epc(serial: int, gtin: str = TUNA_GTIN) -> str:
    return encode_sgtin96(gtin, serial)


def rfid(
    seq: int,
    t0: int,
    *,
    ants: Sequence[int] = (1, 2),
    dur_ms: int = 1000,
    reads: Iterable[tuple[str, int]] = (),
    n: int = 4,
    rssi: float = -50.0,
) -> bytes:
    rows = [{"epc": e, "ant": a, "rssi": rssi, "ts": t0 + dur_ms // 2, "n": n} for e, a in reads]
    body = {"v": 1, "seq": seq, "t0": t0, "t1": t0 + dur_ms, "ants": list(ants), "reads": rows}
    return json.dumps(body).encode()


def weight(seq: int, t0: int, grams: Sequence[float], hz: float = 10.0) -> bytes:
    dur_ms = round(len(grams) * 1000 / hz)
    body = {"v": 1, "seq": seq, "t0": t0, "t1": t0 + dur_ms, "hz": hz, "g": list(grams)}
    return json.dumps(body).encode()


def status(state: str, ts: int | None = None) -> bytes:
    body: dict[str, Any] = {"v": 1, "state": state}
    if ts is not None:
        body["ts"] = ts
    return json.dumps(body).encode()


def publish(
    url: str,
    messages: Iterable[tuple[str, bytes]],
    *,
    retain: bool = False,
    timeout_s: float = 30.0,
) -> None:
    """Publish at QoS 1 and return once the broker has acknowledged every message."""
    parsed = MqttUrl.parse(url)
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    connected = threading.Event()
    client.on_connect = lambda *a: connected.set()
    client.connect(parsed.host, parsed.port)
    client.loop_start()
    try:
        assert connected.wait(timeout_s), "broker did not accept the connection"
        infos = [client.publish(t, p, qos=1, retain=retain) for t, p in messages]
        for info in infos:
            info.wait_for_publish(timeout_s)
            assert info.is_published(), "broker did not acknowledge a publish"
    finally:
        client.disconnect()
        client.loop_stop()
