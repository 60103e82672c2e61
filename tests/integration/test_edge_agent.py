"""The edge agent against a real Mosquitto: device bus in, contract batches out.

Each test runs a tiny device-bus server (frames as JSON lines), the agent (in a thread, or as a
`shelfsense edge` process where signals matter), and a subscriber that records what the broker
delivers. Frames are whole 1 s windows of event time, so every frame closes one batch.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from edge import EdgeConfig, run_edge
from shelfsense import __version__
from shelfsense.devbus import encode_frame
from shelfsense.runtime import MosquittoBroker
from shelfsense.wire import (
    GatewayState,
    GatewayStatus,
    Message,
    RfidBatch,
    SensorBatch,
    StreamKind,
    WeightBatch,
    decode,
)

T = 1_763_719_200_000
EPC = "3034257BF7194E4000001A85"
WAIT_S = 20.0
REPO = Path(__file__).resolve().parents[2]


class _Closable(Protocol):
    def close(self) -> None: ...


_LIVE: list[_Closable] = []  # closed by the autouse fixture `close_leftovers`, even on failure


@pytest.fixture(autouse=True)
def close_leftovers() -> Iterator[None]:
    yield
    while _LIVE:
        _LIVE.pop().close()


# --- a device-bus server ------------------------------------------------------------------


class DevBus:
    """Accepts gateway connections and writes frames to all of them."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._server.getsockname()[1]}"
        self._clients: list[socket.socket] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            with self._changed:
                self._clients.append(client)
                self._changed.notify_all()

    def send(self, device: str, kind: StreamKind, body: dict[str, Any]) -> None:
        """Write one frame to every connected gateway; waits for one to connect first."""
        with self._changed:
            assert self._changed.wait_for(lambda: self._clients, WAIT_S), "no gateway connected"
            for client in list(self._clients):
                try:
                    client.sendall(encode_frame(device, kind, body))
                except OSError:
                    self._clients.remove(client)

    def drop_clients(self) -> None:
        with self._changed:
            for client in self._clients:
                client.close()
            self._clients.clear()

    def close(self) -> None:
        self.drop_clients()
        self._server.close()


def rfid_frame(second: int, *epcs: str) -> dict[str, Any]:
    t0 = T + second * 1000
    reads = [{"epc": epc, "ant": 1, "ts": t0 + 10, "rssi": -50.0} for epc in epcs]
    return {"t0": t0, "t1": t0 + 1000, "ants": [1, 2], "reads": reads}


def weight_frame(second: int) -> dict[str, Any]:
    return {"t0": T + second * 1000, "t1": T + second * 1000 + 1000, "hz": 10, "g": [2500.0] * 10}


def env_frame(second: int) -> dict[str, Any]:
    t0 = T + second * 1000
    return {"t0": t0, "t1": t0 + 1000, "readings": [{"ts": t0, "temp_c": 4.5}]}


# --- a subscriber -------------------------------------------------------------------------


class Recorder:
    """Subscribes to everything under the prefix and records (topic, payload, retain)."""

    def __init__(self, url: str, prefix: str, client_id: str, *, persistent: bool = False) -> None:
        host, port = url.removeprefix("mqtt://").split(":")
        self.prefix = prefix
        self.messages: list[tuple[str, bytes, bool]] = []
        self._changed = threading.Condition()
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=not persistent,
        )
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(1, 1)
        self._subscribed = threading.Event()
        self._client.on_subscribe = lambda *args: self._subscribed.set()
        self._client.connect(host, int(port))
        self._client.loop_start()
        _LIVE.append(self)
        assert self._subscribed.wait(WAIT_S), "subscriber did not subscribe"

    def _on_connect(self, client: mqtt.Client, *args: Any) -> None:
        client.subscribe(f"{self.prefix}/v1/#", qos=1)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._changed:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))
            self._changed.notify_all()

    def wait_for(self, what: str, predicate: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
        with self._changed:
            if not self._changed.wait_for(predicate, timeout_s):
                raise AssertionError(f"timed out waiting for {what}; got {self.summary()}")

    def batches(self, kind: StreamKind, device: str) -> list[Any]:
        """Decoded batches of one stream in arrival order (duplicates included)."""
        topic = f"{self.prefix}/v1/demo/gw-1/{kind}/{device}"
        with self._changed:
            found = [payload for t, payload, _ in self.messages if t == topic]
        return [_decoded(topic, payload, self.prefix) for payload in found]

    def seqs(self, kind: StreamKind, device: str) -> list[int]:
        return [b.seq for b in self.batches(kind, device)]

    def statuses(self) -> list[tuple[bytes, bool]]:
        topic = f"{self.prefix}/v1/demo/gw-1/status"
        with self._changed:
            return [(payload, retain) for t, payload, retain in self.messages if t == topic]

    def summary(self) -> str:
        with self._changed:
            return ", ".join(f"{t.rsplit('/', 2)[-2:]}:{p[:60]!r}" for t, p, _ in self.messages)

    def close(self) -> None:
        if self in _LIVE:
            _LIVE.remove(self)
            self._client.disconnect()
            self._client.loop_stop()


def _decoded(topic: str, payload: bytes, prefix: str) -> Any:
    message = decode(topic, payload, prefix=prefix)
    assert isinstance(message, Message), message
    return message.payload


def retained_status(url: str, prefix: str, client_id: str) -> GatewayStatus:
    """What a newcomer learns about the gateway: the retained status."""
    recorder = Recorder(url, prefix, client_id)
    try:
        recorder.wait_for("the retained status", lambda: bool(recorder.statuses()))
        payload, retain = recorder.statuses()[0]
        assert retain
        status = _decoded(f"{prefix}/v1/demo/gw-1/status", payload, prefix)
        assert isinstance(status, GatewayStatus)
        return status
    finally:
        recorder.close()


def unique_seqs_in_arrival_order(seqs: list[int]) -> list[int]:
    seen: set[int] = set()
    return [s for s in seqs if not (s in seen or seen.add(s))]  # type: ignore[func-returns-value]


# --- the agent ----------------------------------------------------------------------------


def edge_config(tmp_path: Path, url: str, prefix: str, bus: DevBus, **extra: Any) -> dict[str, Any]:
    return {
        "site": "demo",
        "gateway": "gw-1",
        "mqtt_url": url,
        "mqtt_prefix": prefix,
        "client_id": f"{prefix}-edge",
        "spool_path": str(tmp_path / "edge.spool.sqlite"),
        "batch_ms": {"rfid": 1000, "weight": 1000, "env": 1000},
        "status_interval_s": 0.5,
        "devices": [
            {"id": "reader-1", "kind": "rfid", "address": bus.address},
            {"id": "scale-1", "kind": "weight", "address": bus.address},
            {"id": "probe-1", "kind": "env", "address": bus.address},
        ],
        **extra,
    }


class AgentThread:
    def __init__(self, raw_config: dict[str, Any]) -> None:
        self.stop = threading.Event()
        self.error: BaseException | None = None
        config = EdgeConfig.model_validate(raw_config)
        self._thread = threading.Thread(target=self._run, args=(config,), daemon=True)
        self._thread.start()
        _LIVE.append(self)

    def _run(self, config: EdgeConfig) -> None:
        try:
            run_edge(config, stop=self.stop)
        except BaseException as exc:
            self.error = exc

    def close(self) -> None:
        if self in _LIVE:
            _LIVE.remove(self)
        self.stop.set()
        self._thread.join(WAIT_S)
        assert not self._thread.is_alive(), "the agent did not stop"
        assert self.error is None, self.error


@pytest.fixture
def bus() -> Iterator[DevBus]:
    server = DevBus()
    yield server
    server.close()


@pytest.fixture
def prefix(unique_name: str) -> str:
    return unique_name.replace("_", "-")


def spool_backlog(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM batches").fetchone()[0])


def wait_until(what: str, predicate: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# --- stories ------------------------------------------------------------------------------


@pytest.mark.parametrize("mqtt_version", ["3.1.1", "5"])
def test_frames_become_contract_batches_in_seq_order_with_a_retained_status(
    mqtt_url: str, bus: DevBus, prefix: str, tmp_path: Path, mqtt_version: str
) -> None:
    recorder = Recorder(mqtt_url, prefix, f"{prefix}-rec")
    agent = AgentThread(edge_config(tmp_path, mqtt_url, prefix, bus, mqtt_version=mqtt_version))
    for second in range(5):
        bus.send("reader-1", StreamKind.RFID, rfid_frame(second, *([EPC] if second % 2 else [])))
        bus.send("scale-1", StreamKind.WEIGHT, weight_frame(second))
        bus.send("probe-1", StreamKind.ENV, env_frame(second))
        bus.send("stranger", StreamKind.RFID, rfid_frame(second))  # not ours: ignored
    streams = [
        (StreamKind.RFID, "reader-1"),
        (StreamKind.WEIGHT, "scale-1"),
        (StreamKind.ENV, "probe-1"),
    ]
    recorder.wait_for("15 batches", lambda: all(len(recorder.seqs(*s)) >= 5 for s in streams))

    status = retained_status(mqtt_url, prefix, f"{prefix}-newcomer")
    assert (status.state, status.sw) == (GatewayState.ONLINE, __version__)
    assert status.backlog is not None and status.ts is not None
    agent.close()

    for kind, device in streams:
        batches = recorder.batches(kind, device)
        assert [b.seq for b in batches] == [0, 1, 2, 3, 4]
        assert [(b.t0, b.t1) for b in batches] == [
            (T + i * 1000, T + i * 1000 + 1000) for i in range(5)
        ]
    rfid = recorder.batches(StreamKind.RFID, "reader-1")
    assert all(isinstance(b, RfidBatch) and b.ants == [1, 2] for b in rfid)
    assert [len(b.columns()) for b in rfid] == [0, 1, 0, 1, 0]  # empty batches are sent too
    assert all(isinstance(b, WeightBatch) for b in recorder.batches(StreamKind.WEIGHT, "scale-1"))
    assert all(isinstance(b, SensorBatch) for b in recorder.batches(StreamKind.ENV, "probe-1"))
    assert not [t for t, _, _ in recorder.messages if "stranger" in t]
    final = retained_status(mqtt_url, prefix, f"{prefix}-late")
    assert final.state == GatewayState.OFFLINE and final.ts is not None
    assert spool_backlog(tmp_path / "edge.spool.sqlite") == 0
    recorder.close()


@pytest.mark.parametrize("max_inflight", [1000, 1])
def test_a_broker_outage_spools_and_replays_everything_in_order(
    fresh_mqtt_broker: MosquittoBroker, bus: DevBus, prefix: str, tmp_path: Path, max_inflight: int
) -> None:
    broker = fresh_mqtt_broker
    recorder = Recorder(broker.url, prefix, f"{prefix}-rec", persistent=True)
    agent = AgentThread(edge_config(tmp_path, broker.url, prefix, bus, max_inflight=max_inflight))
    seqs: Callable[[], list[int]] = lambda: recorder.seqs(StreamKind.RFID, "reader-1")  # noqa: E731
    for second in range(3):
        bus.send("reader-1", StreamKind.RFID, rfid_frame(second, EPC))
    recorder.wait_for("3 batches before the outage", lambda: len(seqs()) >= 3)

    broker.stop()
    for second in range(3, 23):
        bus.send("reader-1", StreamKind.RFID, rfid_frame(second, EPC))
    spool = tmp_path / "edge.spool.sqlite"
    wait_until("20 batches in the spool", lambda: spool_backlog(spool) >= 20)

    broker.start()
    recorder.wait_for("all 23 batches", lambda: set(seqs()) >= set(range(23)))
    assert unique_seqs_in_arrival_order(seqs()) == list(range(23))
    wait_until("an empty spool", lambda: spool_backlog(spool) == 0)
    batches = {b.seq: b for b in recorder.batches(StreamKind.RFID, "reader-1")}
    assert [batches[s].t0 for s in range(23)] == [T + s * 1000 for s in range(23)]
    agent.close()
    recorder.close()


def test_seq_continues_after_the_agent_restarts(
    mqtt_url: str, bus: DevBus, prefix: str, tmp_path: Path
) -> None:
    recorder = Recorder(mqtt_url, prefix, f"{prefix}-rec")

    def published() -> int:
        return len(set(recorder.seqs(StreamKind.WEIGHT, "scale-1")))

    for first_second in (0, 3):
        agent = AgentThread(edge_config(tmp_path, mqtt_url, prefix, bus))
        for second in range(first_second, first_second + 3):
            bus.send("scale-1", StreamKind.WEIGHT, weight_frame(second))
        recorder.wait_for(f"{first_second + 3} batches", lambda: published() >= first_second + 3)  # noqa: B023
        agent.close()
        bus.drop_clients()
    seqs = recorder.seqs(StreamKind.WEIGHT, "scale-1")
    assert unique_seqs_in_arrival_order(seqs) == [0, 1, 2, 3, 4, 5]
    recorder.close()


# --- the `shelfsense edge` process --------------------------------------------------------


class EdgeProcess:
    def __init__(self, tmp_path: Path, raw_config: dict[str, Any], name: str) -> None:
        config_path = tmp_path / "gateway.yaml"
        config_path.write_text(yaml.safe_dump(raw_config), encoding="utf-8")
        self.log_path = tmp_path / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHELFSENSE_")}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "shelfsense.cli",
                    "edge",
                    "--config",
                    str(config_path),
                    "--log-level",
                    "DEBUG",
                ],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _LIVE.append(self)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    def wait(self) -> int:
        try:
            return self.process.wait(WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"edge did not exit:\n{self.log()}") from None


def _is_online(recorder: Recorder) -> bool:
    return any(json.loads(p).get("state") == "online" for p, _ in recorder.statuses())


def test_kill_9_fires_the_last_will_and_a_restart_loses_no_spooled_batch(
    mqtt_url: str, bus: DevBus, prefix: str, tmp_path: Path
) -> None:
    recorder = Recorder(mqtt_url, prefix, f"{prefix}-rec")
    seqs: Callable[[], list[int]] = lambda: recorder.seqs(StreamKind.RFID, "reader-1")  # noqa: E731
    raw = edge_config(tmp_path, mqtt_url, prefix, bus)
    edge = EdgeProcess(tmp_path, raw, "first")
    recorder.wait_for("online status", lambda: _is_online(recorder))
    for second in range(10):
        bus.send("reader-1", StreamKind.RFID, rfid_frame(second, EPC))
    recorder.wait_for("a first batch", lambda: len(seqs()) >= 1)

    edge.process.kill()
    edge.process.wait()
    recorder.wait_for(
        "the last will", lambda: recorder.statuses()[-1][0] == b'{"v":1,"state":"offline"}'
    )
    bus.drop_clients()

    edge = EdgeProcess(tmp_path, raw, "second")
    for second in range(10, 13):
        bus.send("reader-1", StreamKind.RFID, rfid_frame(second, EPC))

    def complete() -> bool:
        got = {b.seq: b.t0 for b in recorder.batches(StreamKind.RFID, "reader-1")}
        after_restart = {T + 10_000, T + 11_000, T + 12_000}
        return set(got) == set(range(len(got))) and after_restart <= set(got.values())

    recorder.wait_for("gap-free seqs after the restart", complete)
    starts = {b.seq: b.t0 for b in recorder.batches(StreamKind.RFID, "reader-1")}
    assert sorted(starts.values()) == [starts[s] for s in sorted(starts)], "seq follows time"
    edge.process.send_signal(signal.SIGTERM)
    assert edge.wait() == 0, edge.log()
    recorder.close()


def test_sigterm_flushes_publishes_and_leaves_a_retained_offline_status(
    mqtt_url: str, bus: DevBus, prefix: str, tmp_path: Path
) -> None:
    recorder = Recorder(mqtt_url, prefix, f"{prefix}-rec")
    edge = EdgeProcess(tmp_path, edge_config(tmp_path, mqtt_url, prefix, bus), "edge")
    recorder.wait_for("online status", lambda: _is_online(recorder))
    bus.send("scale-1", StreamKind.WEIGHT, weight_frame(0))
    partial = {"t0": T + 1000, "t1": T + 1300, "hz": 10, "g": [1.0, 2.0, 3.0]}
    bus.send("scale-1", StreamKind.WEIGHT, partial)  # an open batch, flushed on shutdown
    recorder.wait_for(
        "the first batch", lambda: len(recorder.seqs(StreamKind.WEIGHT, "scale-1")) >= 1
    )

    edge.process.send_signal(signal.SIGTERM)
    assert edge.wait() == 0, edge.log()

    batches = recorder.batches(StreamKind.WEIGHT, "scale-1")
    assert [(b.seq, b.t0, b.t1) for b in batches] == [(0, T, T + 1000), (1, T + 1000, T + 1300)]
    status = retained_status(mqtt_url, prefix, f"{prefix}-late")
    assert status.state == GatewayState.OFFLINE and status.ts is not None, "a clean offline"
    assert status.backlog == 0
    recorder.close()


def test_a_malformed_bus_line_is_skipped(
    mqtt_url: str, bus: DevBus, prefix: str, tmp_path: Path
) -> None:
    recorder = Recorder(mqtt_url, prefix, f"{prefix}-rec")
    agent = AgentThread(edge_config(tmp_path, mqtt_url, prefix, bus))
    bus.send("reader-1", StreamKind.RFID, rfid_frame(0))
    bus.send("reader-1", StreamKind.RFID, {"t0": "not a time"})
    bus.send("reader-1", StreamKind.RFID, rfid_frame(1))
    recorder.wait_for("2 batches", lambda: len(recorder.seqs(StreamKind.RFID, "reader-1")) >= 2)
    agent.close()
    assert recorder.seqs(StreamKind.RFID, "reader-1") == [0, 1]
    recorder.close()


def test_sigterm_during_a_broker_outage_exits_promptly_and_keeps_the_spool(
    fresh_mqtt_broker: MosquittoBroker, bus: DevBus, prefix: str, tmp_path: Path
) -> None:
    broker = fresh_mqtt_broker
    recorder = Recorder(broker.url, prefix, f"{prefix}-rec")
    edge = EdgeProcess(tmp_path, edge_config(tmp_path, broker.url, prefix, bus), "edge")
    recorder.wait_for("online status", lambda: _is_online(recorder))
    recorder.close()
    broker.stop()
    for second in range(4):
        bus.send("probe-1", StreamKind.ENV, env_frame(second))
    spool = tmp_path / "edge.spool.sqlite"
    wait_until("4 batches in the spool", lambda: spool_backlog(spool) == 4)

    started = time.monotonic()
    edge.process.send_signal(signal.SIGTERM)
    assert edge.wait() == 0, edge.log()
    assert time.monotonic() - started < 5.0
    assert spool_backlog(spool) == 4, "unpublished batches stay for the next start"


def test_a_batch_leaves_the_spool_only_when_the_broker_acknowledges_it(
    fresh_mqtt_broker: MosquittoBroker, bus: DevBus, prefix: str, tmp_path: Path
) -> None:
    broker = fresh_mqtt_broker
    recorder = Recorder(broker.url, prefix, f"{prefix}-rec", persistent=True)
    AgentThread(edge_config(tmp_path, broker.url, prefix, bus))
    bus.send("reader-1", StreamKind.RFID, rfid_frame(0))
    recorder.wait_for("a first batch", lambda: len(recorder.seqs(StreamKind.RFID, "reader-1")) == 1)
    spool = tmp_path / "edge.spool.sqlite"
    wait_until("the first PUBACK", lambda: spool_backlog(spool) == 0)

    assert broker._process is not None
    hung = broker._process.pid  # a hung broker: the connection stays up, no PUBACK comes back
    os.kill(hung, signal.SIGSTOP)
    try:
        for second in range(1, 6):
            bus.send("reader-1", StreamKind.RFID, rfid_frame(second))
        wait_until("5 batches spooled", lambda: spool_backlog(spool) == 5)
        time.sleep(1.0)  # the publishes went out; were they taken for delivered?
        assert spool_backlog(spool) == 5
    finally:
        os.kill(hung, signal.SIGCONT)
    recorder.wait_for(
        "all 6", lambda: set(recorder.seqs(StreamKind.RFID, "reader-1")) == set(range(6))
    )
    wait_until("an empty spool", lambda: spool_backlog(spool) == 0)
