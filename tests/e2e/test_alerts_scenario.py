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
from support.capture import CaptureServer
from support.services import wait_for
from support.store_run import running_store

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


def _staff_on_the_phone(url: str, capture: CaptureServer) -> None:
    """A recipient for every alert of every site (on duty before the store opens), whose
    phone is the capture server."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into recipients (site_id, name, min_severity, channels)"
            " values (null, 'floor staff', 'info', %s)",
            ([f"json://{capture.base}/staff"],),
        )


def _deliveries(url: str) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(type, subject) -> [(kind, status)] of every delivery, in order."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select a.type, a.subject, d.kind, d.status from deliveries d"
            " join alerts a on a.id = d.alert_id where a.site_id = %s order by d.id",
            (SITE,),
        ).fetchall()
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for kind, subject, delivery, status in rows:
        key = (str(kind), str(subject).removeprefix("location:"))
        found.setdefault(key, []).append((str(delivery), str(status)))
    return found


def test_each_condition_opens_one_alert_that_clears(
    database_url: str, mqtt_url: str, tmp_path: Path
) -> None:
    with CaptureServer() as phone:
        _staff_on_the_phone(database_url, phone)
        _run_and_check(database_url, mqtt_url, tmp_path, phone)


def _run_and_check(database_url: str, mqtt_url: str, tmp_path: Path, phone: CaptureServer) -> None:
    with running_store(
        database_url, mqtt_url, tmp_path, scenario="alerts", seed=5, notify=True
    ) as store:
        assert store.sim.wait(300) == 0, store.log("sim")[-2000:]
        store.wait_quiet(timeout_s=120)
        truth = store.truth
        expected = list(EXPECTED.values())  # (type, subject) of each alert the script causes
        # every alert reached the phone once when it opened, and once more when it cleared
        wait_for(
            lambda: len(phone.ok_hits("/staff")) >= 2 * len(expected),
            timeout_s=60,
            what="the notifier to deliver",
        )
        delivered = _deliveries(database_url)
        for alert_key in expected:
            assert delivered.get(alert_key) == [("alert", "sent"), ("resolved", "sent")], delivered
        assert len(phone.ok_hits("/staff")) == 2 * len(expected), "one message each, no noise"
        history = _history(database_url)
        assert len(history) == len(EXPECTED), f"no noise: one alert per condition: {history}"
        announced = dict(EXPECTED)
        for note in _notes(truth):
            key = (note.get("expect"), note.get("location"))
            if key not in announced:
                continue
            kind, subject = announced.pop(key)
            mine = [st for t, s, st in history if (t, s) == (kind, subject)]
            assert mine == ["cleared"], f"{kind} {subject}: {mine}; all alerts: {history}"
        assert not announced, f"the scenario no longer announces {announced}"
        _expired_lot(database_url, store.api_port, truth)


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
