"""End to end on real parts: firmware_sim → edge → Mosquitto → ingest → PostgreSQL → API.

A simulated store with near-perfect readers runs 20 minutes of store time as fast as the
chain can take it. The stock the API reports, as of each of the simulator's checkpoints, must
equal the simulator's ground truth, also when the broker goes away for a while mid-run (the
edge's spool holds what it could not publish and replays it).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from support.services import apply_site_file_path, start_cli, terminate, wait_for
from support.truth import api_stock, checkpoints, differences
from support.wire import T0_MS

from shelfsense.runtime import MqttBroker, free_port
from shelfsense.tokens import create_token

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STORE_S = 1200
START_MS = T0_MS
SETTLE_S = 90  # the last checkpoints may hold departures not yet confirmable
FIRST_READ_S = 30  # stock is known from the first reads on; the opening checkpoint precedes them


def _quiet(url: str, seen: list[int]) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute("select count(*) from batch_ledger").fetchone()
    seen.append(int(row[0]) if row else 0)
    return len(seen) > 40 and seen[-1] == seen[-40] and seen[-1] > 0


def _reconnected(edge_log: Path) -> bool:
    """The edge is on the broker again after the outage (a SIGTERM while it is still away would
    leave the outage's batches in its spool until its next start)."""
    return edge_log.read_text().count("edge.publisher: connected;") >= 2


def _ledger(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("select count(*) from batch_ledger").fetchone()
    return int(row[0]) if row else 0


@pytest.mark.parametrize("broker_outage", [False, True], ids=["steady", "broker-outage"])
def test_api_stock_equals_the_simulators_truth(
    database_url: str, fresh_mqtt_broker: MqttBroker, tmp_path: Path, broker_outage: bool
) -> None:
    mqtt_url = fresh_mqtt_broker.start().url
    env = {
        "SHELFSENSE_DATABASE_URL": database_url,
        "SHELFSENSE_MQTT_URL": mqtt_url,
        "SHELFSENSE_MQTT_PREFIX": "e2e" + tmp_path.name[-8:].replace("-", ""),
    }
    site, gateway, truth = tmp_path / "site.yaml", tmp_path / "gw.yaml", tmp_path / "truth.jsonl"
    sim = start_cli(
        "sim",
        "--scenario",
        "steady",
        "--seed",
        "3",
        "--speed",
        "0",
        "--duration-s",
        str(STORE_S),
        "--start-ms",
        str(START_MS),
        "--listen",
        f"127.0.0.1:{free_port()}",
        "--site-out",
        str(site),
        "--gateway-out",
        str(gateway),
        "--truth",
        str(truth),
        "--wait-for-clients",
        "1",
        env=env,
        log_path=tmp_path / "sim.log",
    )
    wait_for(
        lambda: "device bus listening" in (tmp_path / "sim.log").read_text(),
        timeout_s=60,
        what="the simulator",
    )
    apply_site_file_path(database_url, site)
    ingest = start_cli(
        "ingest", "--client-id", "e2e-truth", env=env, log_path=tmp_path / "ingest.log"
    )
    wait_for(
        lambda: "ingest running" in (tmp_path / "ingest.log").read_text(),
        timeout_s=60,
        what="ingest",
    )
    edge = start_cli("edge", "--config", str(gateway), env=env, log_path=tmp_path / "edge.log")
    port = free_port()
    api = start_cli("api", "--port", str(port), env=env, log_path=tmp_path / "api.log")
    try:
        if broker_outage:  # the broker goes away for a while mid-run, then comes back
            wait_for(lambda: _ledger(database_url) > 300, timeout_s=120, what="a running store")
            fresh_mqtt_broker.stop()
            time.sleep(5)  # real outage time: the edge spools, ingest reconnects in vain
            fresh_mqtt_broker.start()
        assert sim.wait(600) == 0, (tmp_path / "sim.log").read_text()[-2000:]
        if broker_outage:  # the gateway comes back and drains its spool before it is stopped
            wait_for(lambda: _reconnected(tmp_path / "edge.log"), timeout_s=120, what="the edge")
            drained: list[int] = []
            wait_for(lambda: _quiet(database_url, drained), timeout_s=300, what="the spool")
        assert terminate(edge) == 0  # flushes the last partial batches
        seen: list[int] = []
        wait_for(lambda: _quiet(database_url, seen), timeout_s=300, what="ingest to catch up")
        with psycopg.connect(database_url) as conn:
            token = create_token(conn, role="viewer", name="e2e")
        marks = [
            c
            for c in checkpoints(truth)
            if START_MS + FIRST_READ_S * 1000 <= c.ts_ms <= START_MS + (STORE_S - SETTLE_S) * 1000
        ]
        assert len(marks) >= 5
        wrong = {}
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ) as client:
            wait_for(lambda: client.get("/health").status_code == 200, what="the API")
            for mark in marks:
                at = dt.datetime.fromtimestamp(mark.ts_ms / 1000, tz=dt.UTC).isoformat()
                rows = client.get("/sites/demo-store/stock", params={"at": at}).json()
                diff = differences(mark.stock, api_stock(rows))
                if diff:
                    wrong[at] = diff
        assert not wrong, f"{len(wrong)} of {len(marks)} checkpoints differ: {wrong}"
    finally:
        for proc in (api, ingest, edge, sim):
            if proc.poll() is None:
                terminate(proc)
