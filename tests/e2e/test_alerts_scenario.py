"""End to end, the ``alerts`` scenario on real parts: firmware_sim → edge → Mosquitto → ingest →
PostgreSQL → API. Each condition the scenario's truth notes announce (a shelf picked below
``min_qty``, another emptied, a weight shelf picked low, the cooler warmed above its range for
longer than ``excursion_after_s``) opens exactly one alert, and each clears when restocked or
cooled. The delivered salad lot is received afterwards with an expiry date in the past (the
expiry clock is wall time): it opens one ``expired`` alert; clearing it by hand while the salad
is still in the cooler makes ingest open a new one.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from support.services import apply_site_file_path, start_cli, terminate, wait_for

from shelfsense.runtime import free_port
from shelfsense.tokens import create_token

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SITE = "alerts-store"
COOLER = "floor/cooler-1"
EXPECTED = {  # truth note -> the alert it should open (all clear by the end of the script)
    ("low_stock", "floor/aisle-1/shelf-1"): ("low_stock", "floor/aisle-1/shelf-1|sku:PASTA-500"),
    ("out_of_stock", "floor/aisle-1/shelf-2"): (
        "out_of_stock",
        "floor/aisle-1/shelf-2|sku:RICE-1K",
    ),
    ("low_stock", "floor/aisle-2/shelf-1"): ("low_stock", "floor/aisle-2/shelf-1|sku:COLA-330"),
    ("temp_excursion", COOLER): ("temp_excursion", COOLER),
}


def _notes(truth: Path) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in truth.read_text().splitlines() if line.strip()]
    return [r for r in records if r.get("kind") == "note"]


def _salad_epcs(truth: Path) -> list[str]:
    records = [json.loads(line) for line in truth.read_text().splitlines() if line.strip()]
    return sorted(
        {r["epc"] for r in records if r.get("sku") == "SALAD-200" and r.get("to") == COOLER}
    )


def _history(url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select type, subject, status from alerts where site_id = %s order by id", (SITE,)
        ).fetchall()
    return [(str(t), str(s).removeprefix("location:"), str(st)) for t, s, st in rows]


def _quiet(url: str, seen: list[int]) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute("select count(*) from batch_ledger").fetchone()
    seen.append(int(row[0]) if row else 0)
    return len(seen) > 40 and seen[-1] == seen[-40] and seen[-1] > 0


def test_each_condition_opens_one_alert_that_clears(
    database_url: str, mqtt_url: str, tmp_path: Path
) -> None:
    env = {
        "SHELFSENSE_DATABASE_URL": database_url,
        "SHELFSENSE_MQTT_URL": mqtt_url,
        "SHELFSENSE_MQTT_PREFIX": "e2ea" + tmp_path.name[-8:].replace("-", ""),
    }
    site, gateway, truth = tmp_path / "site.yaml", tmp_path / "gw.yaml", tmp_path / "truth.jsonl"
    sim = start_cli(
        "sim",
        "--scenario",
        "alerts",
        "--seed",
        "5",
        "--speed",
        "0",
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
        "ingest", "--client-id", "e2e-alerts", env=env, log_path=tmp_path / "ingest.log"
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
        assert sim.wait(300) == 0, (tmp_path / "sim.log").read_text()[-2000:]
        seen: list[int] = []
        wait_for(lambda: _quiet(database_url, seen), timeout_s=120, what="ingest to catch up")
        history = _history(database_url)
        assert len(history) == len(EXPECTED), f"no noise: one alert per condition: {history}"
        for note in _notes(truth):
            key = (note.get("expect"), note.get("location"))
            if key not in EXPECTED:
                continue
            kind, subject = EXPECTED.pop(key)
            mine = [st for t, s, st in history if (t, s) == (kind, subject)]
            assert mine == ["cleared"], f"{kind} {subject}: {mine}; all alerts: {history}"
        assert not EXPECTED, f"the scenario no longer announces {EXPECTED}"
        _expired_lot(database_url, port, truth)
    finally:
        for proc in (api, edge, ingest, sim):
            if proc.poll() is None:
                terminate(proc)


def _expired_lot(url: str, port: int, truth: Path) -> None:
    epcs = _salad_epcs(truth)
    assert len(epcs) == 6
    with psycopg.connect(url) as conn:
        token = create_token(conn, role="operator", name="e2e")
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ) as client:
        wait_for(lambda: client.get("/health").status_code == 200, what="the API")
        expiry = date.today() - timedelta(days=1)
        bad = client.post(
            f"/sites/{SITE}/lots", json={"gs1": "(01)08690123000414(10)S1", "epcs": epcs}
        )
        assert bad.status_code == 422  # wrong check digit (and no expiry): nothing written
        gtin = next(
            p["gtin"]
            for p in client.get(f"/sites/{SITE}").json()["products"]
            if p["sku"] == "SALAD-200"
        )
        made = client.post(
            f"/sites/{SITE}/lots",
            json={"gs1": f"(01){gtin}(10)S1(17){expiry:%y%m%d}", "epcs": epcs},
        )
        assert made.status_code == 201, made.text

        def expired() -> list[dict[str, Any]]:
            rows = client.get(f"/sites/{SITE}/alerts", params={"status": "active"}).json()
            return [r for r in rows if r["type"] == "expired"]

        (alert,) = wait_for(expired, timeout_s=20, what="the expired-lot alert")
        assert (alert["location"], alert["sku"], alert["details"]["qty"]) == (
            COOLER,
            "SALAD-200",
            6,
        )
        rows = client.get(f"/sites/{SITE}/expiry").json()
        assert [(r["lot"], r["status"], r["qty"]) for r in rows] == [("S1", "expired", 6)]
        client.post(f"/sites/{SITE}/alerts/{alert['id']}/clear").raise_for_status()
        (again,) = wait_for(expired, timeout_s=20, what="the alert to re-open")
        assert again["id"] != alert["id"], "the salad is still there: a new alert"
