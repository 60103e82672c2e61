"""Ingest against a real Mosquitto and a real PostgreSQL: what arrives becomes stock, once."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from support.services import apply_site_file, ingest_thread, scalar, wait_for
from support.wire import T0_MS, epc, publish, rfid, status

pytestmark = pytest.mark.integration

SHELF1 = "floor/aisle-1/shelf-1"


def _topic(prefix: str, kind: str = "rfid", device: str = "reader-1", gw: str = "gw-1") -> str:
    return f"{prefix}/v1/test-store/{gw}/{kind}/{device}"


def _ledger_rows(url: str) -> int:
    return int(str(scalar(url, "select count(*) from batch_ledger") or 0))


def _stock(url: str, sku: str, location: str) -> tuple[int, str] | None:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select qty, state from stock where site_id = 'test-store' and sku = %s"
            " and location_id = %s",
            (sku, location),
        ).fetchone()
    return (int(row[0]), str(row[1])) if row else None


def _tags_on_shelf_then_gone(
    prefix: str, serials: range, present_s: int, absent_s: int
) -> list[tuple[str, bytes]]:
    msgs = []
    for i in range(present_s + absent_s):
        reads = [(epc(s), 1) for s in serials] if i < present_s else []
        msgs.append((_topic(prefix), rfid(i, T0_MS + i * 1000, reads=reads)))
    return msgs


def test_reads_become_arrivals_then_departures(
    database_url: str, mqtt_url: str, unique_name: str
) -> None:
    apply_site_file(database_url)
    with ingest_thread(database_url, mqtt_url, prefix=unique_name, client_id=unique_name):
        msgs = _tags_on_shelf_then_gone(unique_name, range(1, 4), present_s=10, absent_s=0)
        publish(mqtt_url, msgs)
        wait_for(
            lambda: _stock(database_url, "TUNA-160", SHELF1) == (3, "ok"),
            what="three tuna cans on shelf 1",
        )
        arrivals = scalar(database_url, "select count(*) from movements where kind = 'arrive'")
        assert arrivals == 3
        # the cans leave: 40 s of empty batches
        gone = [(_topic(unique_name), rfid(10 + i, T0_MS + (10 + i) * 1000)) for i in range(40)]
        publish(mqtt_url, gone)
        wait_for(
            lambda: _stock(database_url, "TUNA-160", SHELF1) == (0, "out"),
            what="shelf 1 out of stock",
        )
        departures = scalar(database_url, "select count(*) from movements where kind = 'depart'")
        assert departures == 3
        first_depart = scalar(database_url, "select min(ts) from movements where kind = 'depart'")
        # event time, not arrival time: the cans left 10 s into the store's morning
        assert isinstance(first_depart, datetime)
        assert T0_MS + 9_000 <= first_depart.timestamp() * 1000 < T0_MS + 15_000


def test_the_same_batch_twice_changes_nothing(
    database_url: str, mqtt_url: str, unique_name: str
) -> None:
    apply_site_file(database_url)
    with ingest_thread(database_url, mqtt_url, prefix=unique_name, client_id=unique_name):
        msgs = _tags_on_shelf_then_gone(unique_name, range(1, 3), present_s=5, absent_s=0)
        publish(mqtt_url, msgs + msgs)
        wait_for(lambda: _ledger_rows(database_url) == 5, what="five ledger rows")
        publish(mqtt_url, msgs[:2])  # again, later
        publish(
            mqtt_url,
            [(_topic(unique_name), rfid(5, T0_MS + 5000, reads=[(epc(1), 1), (epc(2), 1)]))],
        )
        wait_for(lambda: _ledger_rows(database_url) == 6, what="the sixth batch")
        assert scalar(database_url, "select count(*) from movements") == 2
        assert _stock(database_url, "TUNA-160", SHELF1) == (2, "ok")
        reads = scalar(database_url, "select count(*) from rfid_reads")
        assert reads == 12  # 6 batches x 2 tags, each stored once


BAD_INPUTS = [
    ("rfid", "reader-1", b'{"v":1,"seq":1,', "malformed JSON"),
    ("rfid", "reader-1", b'{"v":1,"seq":"2","t0":1,"t1":2,"ants":[1],"reads":[]}', "seq"),
    (
        "rfid",
        "reader-1",
        b'{"v":1,"seq":3,"t0":1,"t1":2,"ants":[1],"reads":[]' + b" " * 262_144 + b"}",
        "limit",
    ),
    ("weight", "reader-1", b'{"v":1,"seq":4,"t0":1,"t1":1001,"hz":1,"g":[1.0]}', "rfid device"),
    ("rfid", "reader-9", b'{"v":1,"seq":5,"t0":1,"t1":2,"ants":[1],"reads":[]}', "unknown device"),
    (
        "rfid",
        "reader-1",
        b'{"v":1,"seq":6,"t0":1,"t1":2,"ants":[1],"reads":[{"epc":"E2801160600002'
        b'0000000000","ant":1,"ts":1}]}',
        "non-SGTIN",
    ),
]


def test_bad_input_becomes_dead_letters_and_ingest_carries_on(
    database_url: str, mqtt_url: str, unique_name: str
) -> None:
    apply_site_file(database_url)
    with ingest_thread(database_url, mqtt_url, prefix=unique_name, client_id=unique_name):
        bad = [(_topic(unique_name, kind, dev), body) for kind, dev, body, _ in BAD_INPUTS]
        good = _tags_on_shelf_then_gone(unique_name, range(1, 2), present_s=5, absent_s=0)
        publish(mqtt_url, bad + good)
        wait_for(
            lambda: _stock(database_url, "TUNA-160", SHELF1) == (1, "low"),
            what="the good batches after the bad ones",
        )
        import psycopg

        with psycopg.connect(database_url) as conn:
            reasons = [r[0] for r in conn.execute("select reason from dead_letters order by id")]
        assert len(reasons) == len(BAD_INPUTS)
        for (_, _, _, expected), reason in zip(BAD_INPUTS, reasons, strict=True):
            assert expected in reason, reason


def test_gateway_offline_makes_stock_unknown_never_zero(
    database_url: str, mqtt_url: str, unique_name: str
) -> None:
    apply_site_file(database_url)
    with ingest_thread(database_url, mqtt_url, prefix=unique_name, client_id=unique_name):
        publish(mqtt_url, _tags_on_shelf_then_gone(unique_name, range(1, 3), 6, 0))
        wait_for(lambda: _stock(database_url, "TUNA-160", SHELF1) == (2, "ok"), what="stock")
        publish(mqtt_url, [(f"{unique_name}/v1/test-store/gw-1/status", status("offline"))])
        wait_for(
            lambda: _stock(database_url, "TUNA-160", SHELF1) == (2, "unknown"), what="unknown stock"
        )
        state = scalar(database_url, "select state from gateways where gateway_id = 'gw-1'")
        assert state == "offline"
        assert scalar(database_url, "select count(*) from movements where kind='depart'") == 0
        event = scalar(database_url, "select event from batch_ledger where kind = 'status'")
        assert json.loads(json.dumps(event))["state"] == "offline"
