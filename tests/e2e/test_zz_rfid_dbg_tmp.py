"""TEMPORARY debug harness (rfid helper): run the outage e2e and dump the ledger. Deleted after."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import psycopg
import pytest

from ingest.store import Store
from shelfsense.runtime import MqttBroker

from e2e import test_store_truth as t

OUT = Path(os.environ.get("RFID_DBG_OUT", "/tmp/rfid_dbg/run"))


def test_dump(database_url: str, fresh_mqtt_broker: MqttBroker, tmp_path: Path) -> None:
    err = None
    try:
        t.test_api_stock_equals_the_simulators_truth(
            database_url, fresh_mqtt_broker, tmp_path, os.environ.get("RFID_DBG_OUTAGE", "1") == "1"
        )
    except AssertionError as exc:
        err = str(exc)[:3000]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "error.txt").write_text(err or "PASS")
    for name in ("truth.jsonl", "site.yaml", "ingest.log", "edge.log"):
        if (tmp_path / name).exists():
            shutil.copy(tmp_path / name, OUT / name)
    with psycopg.connect(database_url) as conn:
        store = Store(conn)
        with (OUT / "ledger.jsonl").open("w") as f:
            for site, gw in conn.execute("select distinct site_id, gateway_id from batch_ledger").fetchall():
                for row in store.ledger_after(site, gw, 0):
                    row = dict(row)
                    row["site"], row["gateway"] = site, gw
                    if row["kind"] == "rfid":
                        row["cols"] = store.rfid_reads(site, row["device_id"], row["t0"], row["t1"])
                    elif row["kind"] == "weight":
                        row["w"] = store.weight_grams(site, row["device_id"], row["t0"])
                    f.write(json.dumps(row, default=str) + "\n")
        rows = conn.execute(
            "select id, extract(epoch from ts)*1000, sku, epc, from_location, to_location, qty, kind,"
            " source, ledger_id, evidence from movements order by id").fetchall()
        (OUT / "movements.json").write_text(json.dumps(rows, default=str))
    print(err or "PASS")
