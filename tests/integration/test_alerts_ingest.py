"""Alerting in ingest against real Mosquitto and PostgreSQL: one alert per condition, updated
in place, cleared when the condition is gone, with every change in the outbox."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest
from support.alerts import events, open_alerts, scale_seconds, sensor
from support.services import apply_site_file, ingest_thread, scalar, wait_for
from support.wire import T0_MS, epc, publish, rfid

from shelfsense.lots import receipt_from, receive_lot

pytestmark = pytest.mark.integration

SITE = "test-store"
SHELF1 = "floor/aisle-1/shelf-1"
SCALE_SHELF = "floor/aisle-2/shelf-1"
COOLER = "floor/cooler-1"
LOW = ("low_stock", f"location:{SHELF1}|sku:TUNA-160")
EXCURSION = ("temp_excursion", f"location:{COOLER}")


def _topic(prefix: str, kind: str, device: str) -> str:
    return f"{prefix}/v1/{SITE}/gw-1/{kind}/{device}"


def _reads(prefix: str, seq0: int, seconds: int, serials: range) -> list[tuple[str, bytes]]:
    return [
        (
            _topic(prefix, "rfid", "reader-1"),
            rfid(seq0 + i, T0_MS + (seq0 + i) * 1000, reads=[(epc(s), 1) for s in serials]),
        )
        for i in range(seconds)
    ]


def _has(url: str, key: tuple[str, str]) -> bool:
    return key in open_alerts(url, SITE)


def _no_warmup(url: str, rule: str) -> None:
    """This test's store opens mid-day: no start-up grace for the rule."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into alert_rules (site_id, rule_key, params) values (%s, %s, %s)",
            (SITE, rule, '{"warmup_s": 0}'),
        )


def test_low_stock_opens_once_and_clears_with_hysteresis(
    database_url: str, mqtt_url: str, unique_name: str
) -> None:
    apply_site_file(database_url)
    _no_warmup(database_url, "low_stock")
    with ingest_thread(
        database_url, mqtt_url, prefix=unique_name, client_id=unique_name, catalog_poll_s=0.2
    ):
        publish(mqtt_url, _reads(unique_name, 0, 25, range(1, 2)))  # one can, min_qty 2
        wait_for(lambda: _has(database_url, LOW), what="a low-stock alert")
        publish(mqtt_url, _reads(unique_name, 25, 6, range(1, 3)))  # two: inside the band
        wait_for(
            lambda: (
                scalar(
                    database_url,
                    "select qty from stock where location_id = %s and sku = 'TUNA-160'",
                    SHELF1,
                )
                == 2
            ),
            what="two cans",
        )
        assert _has(database_url, LOW), "qty 2 < min_qty 2 + hysteresis 1: still low"
        publish(mqtt_url, _reads(unique_name, 31, 6, range(1, 4)))  # three: clears
        wait_for(lambda: not _has(database_url, LOW), what="low stock to clear")
    low = [(e, t) for _, e, t, s in events(database_url, SITE) if (t, s) == LOW]
    assert [e for e, _ in low] == ["opened", "updated", "cleared"]  # qty 1 -> 2 -> gone
    assert scalar(database_url, "select count(*) from alerts where type = 'low_stock'") == 1


def _cooler(prefix: str, seq0: int, start_ms: int, temps: list[float]) -> list[tuple[str, bytes]]:
    """Batches of 10 readings (5 min), one every 30 s."""
    msgs = []
    for i in range(0, len(temps), 10):
        t0 = start_ms + i * 30_000
        msgs.append(
            (_topic(prefix, "env", "probe-1"), sensor(seq0 + i // 10, t0, temps[i : i + 10]))
        )
    return msgs


def test_excursion_survives_a_restart_and_clears_inside_by_the_margin(
    database_url: str, mqtt_url: str, unique_name: str
) -> None:
    apply_site_file(database_url)  # probe-1: 0..5 °C, excursion after 900 s
    warm = _cooler(unique_name, 0, T0_MS, [3.0] * 10 + [8.0] * 20)
    with ingest_thread(database_url, mqtt_url, prefix=unique_name, client_id=unique_name):
        publish(mqtt_url, warm)  # 10 min out of range: not yet an excursion
        wait_for(
            lambda: scalar(database_url, "select count(*) from batch_ledger") == 3,
            what="three env batches",
        )
    assert not _has(database_url, EXCURSION)
    readings = scalar(database_url, "select count(*) from sensor_readings")
    assert readings == 30
    more = _cooler(unique_name, 3, T0_MS + 900_000, [9.0] * 20 + [4.8] * 10 + [4.0] * 10)
    with ingest_thread(database_url, mqtt_url, prefix=unique_name, client_id=unique_name):
        publish(mqtt_url, more[:2])  # the run began before the restart: 19.5 min now
        wait_for(lambda: _has(database_url, EXCURSION), what="the excursion")
        alert = open_alerts(database_url, SITE)[EXCURSION]
        assert alert["details"]["out_since_ms"] == T0_MS + 300_000
        assert alert["details"]["peak_c"] == 9.0
        publish(mqtt_url, more[2:3])  # 4.8 °C: back in range, not by the 0.5 °C margin
        wait_for(
            lambda: scalar(database_url, "select count(*) from batch_ledger") == 6,
            what="the sixth batch",
        )
        assert _has(database_url, EXCURSION)
        publish(mqtt_url, more[3:])
        wait_for(lambda: not _has(database_url, EXCURSION), what="the excursion to clear")
    kinds = [e for _, e, t, _ in events(database_url, SITE) if t == "temp_excursion"]
    assert kinds == ["opened", "cleared"]


def test_weight_picks_consume_lots_fefo_and_expired_stock_alerts(
    database_url: str, mqtt_url: str, unique_name: str
) -> None:
    apply_site_file(database_url)  # scale-1: COLA-330 350 g, tare 1200 g
    yesterday, later = date.today() - timedelta(days=1), date.today() + timedelta(days=30)
    with psycopg.connect(database_url, autocommit=True) as conn:
        old = receive_lot(
            conn,
            SITE,
            receipt_from(
                today=date.today(),
                sku="COLA-330",
                lot="OLD",
                expiry=yesterday,
                qty=2,
                location=SCALE_SHELF,
            ),
        )
        new = receive_lot(
            conn,
            SITE,
            receipt_from(
                today=date.today(),
                gs1_text=f"(01)08690000000029(10)NEW(17){later:%y%m%d}",
                qty=8,
                location=SCALE_SHELF,
            ),
        )
    grams = [1200 + 350 * 10] * 20 + [1200 + 350 * 7] * 20  # 10 cans, then 3 picked
    msgs = [(_topic(unique_name, "weight", "scale-1"), b) for b in scale_seconds(0, T0_MS, grams)]
    expired = ("expired", f"lot:{old}|location:{SCALE_SHELF}")
    with ingest_thread(
        database_url, mqtt_url, prefix=unique_name, client_id=unique_name, catalog_poll_s=0.2
    ):
        publish(mqtt_url, msgs[:20])
        wait_for(lambda: _has(database_url, expired), what="the expired lot on the shelf")
        assert open_alerts(database_url, SITE)[expired]["details"]["qty"] == 2
        publish(mqtt_url, msgs[20:])
        wait_for(
            lambda: (
                scalar(database_url, "select remaining_qty from lots where lot_id = %s", old) == 0
            ),
            what="the pick to take the old lot first",
        )
        wait_for(lambda: not _has(database_url, expired), what="the expired alert to clear")
    assert scalar(database_url, "select remaining_qty from lots where lot_id = %s", new) == 7
    assert scalar(database_url, "select sum(qty) from movements where kind = 'pick'") == 3
