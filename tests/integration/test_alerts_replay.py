"""After a crash the engine rebuilds its alerting state from snapshot + ledger replay: the
cold-chain runs, the gateway's offline state and the tag positions come out as they were, and
no alert is opened twice."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from support.alerts import events, sensor
from support.services import apply_site_file
from support.wire import T0_MS, epc, rfid, status

from ingest.config import IngestConfig
from ingest.engine import Engine
from ingest.subscriber import Received
from shelfsense.settings import MqttUrl

pytestmark = pytest.mark.integration
SITE = "test-store"


def _engine(url: str) -> tuple[Engine, psycopg.Connection[Any]]:
    conn = psycopg.connect(url, autocommit=True)
    config = IngestConfig(database_url=url, mqtt=MqttUrl.parse("mqtt://127.0.0.1:1"))
    engine = Engine(config, conn)
    engine.rebuild(T0_MS)
    return engine, conn


def _msg(kind: str, device: str, payload: bytes, arrival_ms: int = T0_MS) -> Received:
    suffix = "status" if kind == "status" else f"{kind}/{device}"
    return Received(f"shelf/v1/{SITE}/gw-1/{suffix}", payload, 0, 1, arrival_ms)


def _state(engine: Engine) -> dict[str, Any]:
    part = engine.partitions[(SITE, "gw-1")]
    return {
        "coldchain": part.coldchain.snapshot(),
        "offline": part.offline_since_ms,
        "tags": dict(engine.alerting.tags[SITE].positions),
    }


def test_replay_without_a_snapshot_restores_the_alerting_state(database_url: str) -> None:
    apply_site_file(database_url)
    engine, conn = _engine(database_url)
    reads = [(epc(s), 2) for s in range(1, 4)]  # tuna on shelf-2, whose planogram is empty
    engine.process(
        [_msg("rfid", "reader-1", rfid(i, T0_MS + i * 1000, reads=reads)) for i in range(5)]
    )
    engine.save_snapshots()  # a snapshot after the tags, before the readings
    temps = [4.0, 6.0, 7.0, 8.0, 9.0, 9.5, 9.0, 8.5, 8.0, 7.5]
    engine.process([_msg("env", "probe-1", sensor(0, T0_MS + 10_000, temps, 120_000))])
    engine.process([_msg("status", "", status("offline", T0_MS + 1_300_000))])
    before = _state(engine)
    assert before["coldchain"]["floor/cooler-1"]["out_since_ms"] == T0_MS + 130_000
    assert before["offline"] is not None
    assert len(before["tags"]) == 3
    opened = events(database_url, SITE)
    assert ("opened", "temp_excursion") in [(e, t) for _, e, t, _ in opened]
    assert ("opened", "gateway_offline") in [(e, t) for _, e, t, _ in opened]
    conn.close()  # a crash: no snapshot of the last two groups

    again, conn2 = _engine(database_url)
    assert _state(again) == before
    again.tick(T0_MS + 5_000)
    assert events(database_url, SITE) == opened, "the rebuilt engine opens nothing twice"
    conn2.close()
