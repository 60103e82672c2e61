"""Faults: ingest killed with SIGKILL mid-stream loses nothing and doubles nothing.

The same batches go through an undisturbed ingest (the reference) and through one that is
killed twice and restarted, with batches published while it is down. Movements and stock
must come out identical, row for row.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
import pytest
from support.scenario import batches
from support.services import apply_site_file, ingest_thread, kill9, start_cli, terminate, wait_for
from support.wire import publish

from shelfsense.runtime import PostgresCluster

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SECONDS = 150


def _movements(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select ts, epc, kind, from_location, to_location, qty from movements"
            " order by ts, epc, kind"
        ).fetchall()


def _stock(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select sku, location_id, qty, state from stock order by 1, 2"
        ).fetchall()


def _ledger(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("select count(*) from batch_ledger").fetchone()
    return int(row[0]) if row else 0


def _reference(url: str, mqtt_url: str, prefix: str) -> tuple[list[tuple[object, ...]], ...]:
    apply_site_file(url)
    with ingest_thread(url, mqtt_url, prefix=prefix, client_id=prefix):
        publish(mqtt_url, batches(prefix, SECONDS))
        wait_for(lambda: _ledger(url) == SECONDS, timeout_s=60, what="reference ledger")
    return _movements(url), _stock(url)


def _start(url: str, mqtt_url: str, prefix: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        "SHELFSENSE_DATABASE_URL": url,
        "SHELFSENSE_MQTT_URL": mqtt_url,
        "SHELFSENSE_MQTT_PREFIX": prefix,
    }
    proc = start_cli(
        "ingest",
        "--client-id",
        prefix,
        "--snapshot-every-s",
        "0.5",
        "--group-max",
        "7",
        env=env,
        log_path=log,
    )
    wait_for(
        lambda: "ingest running" in log.read_text(errors="replace"),
        timeout_s=60,
        what="ingest to subscribe",
    )
    return proc


def test_kill9_mid_stream_loses_and_doubles_nothing(
    pg_cluster: PostgresCluster,
    migrated_template: str,
    database_url: str,
    mqtt_url: str,
    unique_name: str,
    tmp_path: Path,
) -> None:
    ref_url = pg_cluster.create_database(
        unique_name + "_ref",
        template=migrated_template,
    )
    ref_movements, ref_stock = _reference(ref_url, mqtt_url, unique_name + "r")
    assert len(ref_movements) >= 80, "the scenario should move every tag more than once"

    apply_site_file(database_url)
    prefix, log = unique_name, tmp_path / "ingest.log"
    msgs = batches(prefix, SECONDS)
    proc = _start(database_url, mqtt_url, prefix, log)
    publish(mqtt_url, msgs[:50])
    wait_for(lambda: _ledger(database_url) >= 20, what="some progress")
    kill9(proc)  # mid-stream: un-acknowledged messages stay with the broker
    publish(mqtt_url, msgs[50:100])  # published while ingest is down: queued in its session
    proc = _start(database_url, mqtt_url, prefix, log)
    wait_for(lambda: _ledger(database_url) >= 70, what="progress after the restart")
    kill9(proc)
    proc = _start(database_url, mqtt_url, prefix, log)
    publish(mqtt_url, msgs[100:] + msgs[:30])  # and some old batches again
    wait_for(lambda: _ledger(database_url) == SECONDS, timeout_s=60, what="every batch")
    assert terminate(proc) == 0
    assert "replayed" in log.read_text(), "a restart should replay the ledger after a snapshot"

    assert _movements(database_url) == ref_movements
    assert _stock(database_url) == ref_stock
