"""End to end on real parts: firmware_sim → edge → Mosquitto → ingest → PostgreSQL → API.

A simulated store with near-perfect readers runs 20 minutes of store time as fast as the
chain can take it. The stock the API reports, as of each of the simulator's checkpoints, must
equal the simulator's ground truth, also when the broker goes away for a while mid-run (the
edge's spool holds what it could not publish and replays it). Cells that a true movement
changes within a second of a checkpoint are left out (a reader dates a departure only to within
its read interval); they are counted, and must stay few.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from support.services import wait_for
from support.store_run import running_store
from support.truth import api_stock, cells_changing_near, checkpoints, differences
from support.wire import T0_MS

from shelfsense.runtime import MqttBroker
from shelfsense.tokens import create_token

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STORE_S = 1200
START_MS = T0_MS
SETTLE_S = 90  # the last checkpoints may hold departures not yet confirmable
FIRST_READ_S = 30  # stock is known from the first reads on; the opening checkpoint precedes them


def _reconnected(edge_log: Path) -> bool:
    """The edge is on the broker again after the outage (a SIGTERM while it is still away would
    leave the outage's batches in its spool until its next start)."""
    return edge_log.read_text().count("edge.publisher: connected;") >= 2


@pytest.mark.parametrize("broker_outage", [False, True], ids=["steady", "broker-outage"])
def test_api_stock_equals_the_simulators_truth(
    database_url: str, fresh_mqtt_broker: MqttBroker, tmp_path: Path, broker_outage: bool
) -> None:
    mqtt_url = fresh_mqtt_broker.start().url
    sim_args = ("--duration-s", str(STORE_S), "--start-ms", str(START_MS))
    with running_store(
        database_url, mqtt_url, tmp_path, scenario="steady", seed=3, sim_args=sim_args
    ) as store:
        if broker_outage:  # the broker goes away for a while mid-run, then comes back
            wait_for(lambda: store.ledger_rows() > 300, timeout_s=120, what="a running store")
            fresh_mqtt_broker.stop()
            time.sleep(5)  # real outage time: the edge spools, ingest reconnects in vain
            fresh_mqtt_broker.start()
            assert store.sim.wait(600) == 0
            # the gateway comes back and drains its spool before it is stopped
            wait_for(lambda: _reconnected(tmp_path / "edge.log"), timeout_s=120, what="the edge")
            store.wait_quiet(what="the spool")
        store.finish()
        with psycopg.connect(database_url) as conn:
            token = create_token(conn, role="viewer", name="e2e")
        marks = [
            c
            for c in checkpoints(store.truth)
            if START_MS + FIRST_READ_S * 1000 <= c.ts_ms <= START_MS + (STORE_S - SETTLE_S) * 1000
        ]
        assert len(marks) >= 5
        wrong = {}
        compared = skipped = 0
        with httpx.Client(
            base_url=f"http://127.0.0.1:{store.api_port}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ) as client:
            wait_for(lambda: client.get("/health").status_code == 200, what="the API")
            for mark in marks:
                # a checkpoint holds the records *before* its ts; `?at=` includes movements at
                # `at` itself (the contract's "as of"): ask for the millisecond before
                at_ms = mark.ts_ms - 1
                at = dt.datetime.fromtimestamp(at_ms / 1000, tz=dt.UTC).isoformat()
                rows = client.get("/sites/demo-store/stock", params={"at": at}).json()
                near = cells_changing_near(store.truth, mark.ts_ms)  # below the reads' resolution
                skipped += len(near)
                compared += len(set(mark.stock) - near)
                diff = {
                    k: v
                    for k, v in differences(mark.stock, api_stock(rows)).items()
                    if k not in near
                }
                if diff:
                    wrong[at] = diff
        assert not wrong, f"{len(wrong)} of {len(marks)} checkpoints differ: {wrong}"
        assert compared > 20 * skipped, (compared, skipped)
