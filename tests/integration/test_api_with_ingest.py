"""The real ingest service feeding the API: tags read over MQTT show up on the live stream and
in the REST reads, with event times (the contract's chain from broker to client)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from api_world import SHELF1, auth, connect, events, next_event, served_api
from support.services import apply_site_file, ingest_thread
from support.wire import T0_MS, epc, publish, rfid

from shelfsense.domain import Role
from shelfsense.tokens import create_token

T0_ISO = datetime.fromtimestamp(T0_MS / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

pytestmark = pytest.mark.integration
SITE = "test-store"


def _tuna_arrives(prefix: str, present_s: int = 10) -> list[tuple[str, bytes]]:
    reads = [(epc(serial), 1) for serial in (1, 2, 3)]
    topic = f"{prefix}/v1/{SITE}/gw-1/rfid/reader-1"
    return [(topic, rfid(i, T0_MS + i * 1000, reads=reads)) for i in range(present_s)]


def test_ingest_commits_reach_the_live_stream_and_the_reads(
    database_url: str, mqtt_url: str, unique_name: str
) -> None:
    apply_site_file(database_url)
    with connect(database_url) as conn:
        token = create_token(conn, role=Role.VIEWER, name="e2e")
    with (
        served_api(database_url) as base,
        httpx.Client(base_url=base, headers=auth(token), timeout=15) as client,
        client.stream("GET", f"/api/v1/sites/{SITE}/live") as response,
        ingest_thread(database_url, mqtt_url, prefix=unique_name, client_id=unique_name),
    ):
        stream = events(response)
        assert "connected" in next(stream).comments
        publish(mqtt_url, _tuna_arrives(unique_name))
        arrived: set[str] = set()
        cell: dict[str, object] = {}
        while len(arrived) < 3 or cell.get("qty") != 3:
            event = next_event(stream)
            if event.event == "movement":
                arrived |= {str(m["epc"]) for m in event.rows() if m["kind"] == "arrive"}
            elif event.event == "stock":
                cell = next((r for r in event.rows() if r["location"] == SHELF1), cell)
        assert arrived == {epc(1), epc(2), epc(3)}
        assert (cell["sku"], cell["state"]) == ("TUNA-160", "ok")
        rows = client.get(f"/api/v1/sites/{SITE}/stock").json()
        cells = {(r["sku"], r["location"]): (r["qty"], r["state"]) for r in rows}
        assert cells[("TUNA-160", SHELF1)] == (3, "ok")
        assert all(qty > 0 or state in ("out", "unknown") for qty, state in cells.values()), cells
        moves = client.get(f"/api/v1/sites/{SITE}/movements", params={"since": T0_ISO}).json()
        assert sorted(m["epc"] for m in moves) == sorted(arrived)
        assert all(m["ts"].startswith(T0_ISO[:17]) for m in moves)  # event time, that minute
