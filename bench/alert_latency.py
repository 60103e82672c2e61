"""Alert latency through the real chain: a batch published to Mosquitto -> ingest (alert engine)
-> PostgreSQL outbox -> ``shelfsense notify`` -> a JSON webhook on a local capture server.

    .venv/bin/python bench/alert_latency.py                 # 1,000 shelves, 200 conditions
    .venv/bin/python bench/alert_latency.py --conditions 50 # shorter

The store: 1,000 weight shelves (10 gateways x 100 scales), one product each, six units on
every shelf and ``min_qty: 4``. After two warm-up batches per scale (the stock is learned), the
bench empties one shelf at a time: it publishes that scale's next batch, already at the empty
weight and steady for the whole second, which is the batch that makes ``out_of_stock`` true
(no duration rule). Latency = the capture server's arrival time of the notification minus the
wall time just before that batch was published. Ingest and the notifier run as real processes
(``shelfsense ingest``, ``shelfsense notify``) on a private Mosquitto and PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.capture import CaptureServer

from shelfsense.db.migrate import upgrade
from shelfsense.db.sites import apply_site
from shelfsense.runtime import MosquittoBroker, PostgresCluster
from shelfsense.site import load_site

SITE = "latency"
T0_MS = (int(time.time() * 1000) // 86_400_000 - 1) * 86_400_000  # yesterday: inside retention
HZ = 20  # 20 samples a second: the stable window after a pick fits in the same batch
UNIT_G, TARE_G, UNITS = 200.0, 1000.0, 6
GATEWAYS, PER_GATEWAY = 10, 100


def scale(i: int) -> tuple[str, str]:
    """(gateway, device) of shelf ``i``."""
    return f"gw-{i // PER_GATEWAY}", f"scale-{i:04d}"


def site_document(shelves: int) -> str:
    products = [
        {"sku": f"P{i:04d}", "name": f"Product {i}", "unit_weight_g": UNIT_G}
        for i in range(shelves)
    ]
    locations = [
        {"id": f"aisle/shelf-{i:04d}", "kind": "shelf", "sku": f"P{i:04d}", "min_qty": 4}
        for i in range(shelves)
    ]
    devices = [
        {
            "id": scale(i)[1],
            "gateway": scale(i)[0],
            "kind": "weight",
            "location": f"aisle/shelf-{i:04d}",
            "sku": f"P{i:04d}",
            "tare_g": TARE_G,
        }
        for i in range(shelves)
    ]
    doc = {
        "site": SITE,
        "name": "Latency bench",
        "timezone": "UTC",
        "products": products,
        "locations": locations,
        "devices": devices,
    }
    return json.dumps(doc)


def batch(rng: random.Random, seq: int, units: int) -> bytes:
    t0 = T0_MS + seq * 1000
    level = TARE_G + units * UNIT_G
    grams = [round(level + rng.gauss(0.0, 0.5), 2) for _ in range(HZ)]
    return json.dumps(
        {"v": 1, "seq": seq, "t0": t0, "t1": t0 + 1000, "hz": HZ, "g": grams}
    ).encode()


def topic(i: int) -> str:
    gateway, device = scale(i)
    return f"shelf/v1/{SITE}/{gateway}/weight/{device}"


def publisher(broker_url: str) -> mqtt.Client:
    host, port = broker_url.removeprefix("mqtt://").split(":")
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="bench-pub")
    client.max_inflight_messages_set(1000)
    client.connect(host, int(port))
    client.loop_start()
    return client


def heartbeat(client: mqtt.Client, stop: threading.Event) -> None:
    """Every gateway's status every 5 s: a gateway silent for 30 s (wall) makes its stock
    unknown, and the warm-up plus the measurement take longer than that."""
    while not stop.is_set():
        for g in range(GATEWAYS):
            status = {"v": 1, "state": "online", "ts": T0_MS + 2000, "sw": "bench"}  # event time
            client.publish(f"shelf/v1/{SITE}/gw-{g}/status", json.dumps(status), qos=1, retain=True)
        stop.wait(5.0)


def start(verb: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "shelfsense.cli", *verb, "--log-level", "WARNING"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def count(db_url: str, sql: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(sql.encode()).fetchone()
        return int(row[0]) if row else 0


def wait(probe: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not probe():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def quiet_shelves(conn: psycopg.Connection[tuple[object, ...]], shelves: int) -> list[int]:
    """Shelves with no alert open after the warm-up (an open one would not open again)."""
    rows = conn.execute("select sku from alerts where status <> 'cleared' and sku is not null")
    busy = {int(str(row[0])[1:]) for row in rows}
    if busy:
        print(f"{len(busy)} shelves still had an alert open after the warm-up; not sampled")
    return [i for i in range(shelves) if i not in busy]


def diagnose(conn: psycopg.Connection[tuple[object, ...]], sku: str, tmp: Path) -> None:
    for sql in (
        "select qty, state, updated_at from stock where sku = %s",
        "select id, type, status, opened_at, cleared_at from alerts where sku = %s",
        "select type, status, count(*), min(sku), max(sku), %s::text from alerts group by 1, 2",
        "select state, count(*), %s::text from stock group by 1",
        "select e.id, e.event, e.created_at, p.processed_at from alert_events e join alerts a "
        "on a.id = e.alert_id left join notify_processed p on p.alert_event_id = e.id "
        "where a.sku = %s",
        "select d.id, d.kind, d.status, d.created_at, d.sent_at from deliveries d join alerts a on "
        "a.id = d.alert_id where a.sku = %s",
    ):
        print(conn.execute(sql.encode(), (sku,)).fetchall())
    for log in ("ingest.log", "notify.log"):
        print(log, (tmp / log).read_text()[-2000:])


def settle(capture: CaptureServer, quiet_s: float = 3.0) -> None:
    """Return once no request has arrived for ``quiet_s``."""
    while True:
        before = len(capture.hits)
        time.sleep(quiet_s)
        if len(capture.hits) == before:
            return


def arrival(
    capture: CaptureServer, after: int, title_end: str, timeout_s: float = 30
) -> float | None:
    """Wall time at which the alert titled ``…title_end`` arrived (among hits past ``after``)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for hit in capture.hits[after:]:
            body = hit.json()
            if hit.status == 200 and body["kind"] == "alert" and body["title"].endswith(title_end):
                return float(hit.at_wall_s)
        time.sleep(0.002)
    return None


def measure(args: argparse.Namespace, db_url: str, broker_url: str, tmp: Path) -> list[float]:
    rng = random.Random(7)
    env = {
        **os.environ,
        "SHELFSENSE_DATABASE_URL": db_url,
        "SHELFSENSE_MQTT_URL": broker_url,
        "SHELFSENSE_PUBLIC_URL": "https://shelfsense.example.com",
    }
    with CaptureServer() as capture, psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "insert into recipients (name, min_severity, channels) values ('bench', 'info', %s)",
            ([f"json://{capture.base}/hook"],),
        )
        procs = [
            start(["ingest", "--client-id", "bench-ingest"], env, tmp / "ingest.log"),
            start(["notify"], env, tmp / "notify.log"),
        ]
        try:
            time.sleep(3.0)  # subscribed (its persistent session keeps anything later anyway)
            client = publisher(broker_url)
            for seq in (0, 1):
                for i in range(args.shelves):
                    client.publish(topic(i), batch(rng, seq, UNITS), qos=1).wait_for_publish()
            wait(
                lambda: count(db_url, "select count(*) from stock where qty = 6") >= args.shelves,
                300,
                "the warm-up stock",
            )
            stop = threading.Event()
            threading.Thread(target=heartbeat, args=(client, stop), daemon=True).start()
            settle(capture)  # warm-up notifications (if any) are over
            latencies = []
            for i in rng.sample(quiet_shelves(conn, args.shelves), args.conditions):
                seen = len(capture.hits)
                sent_s = time.time()
                client.publish(topic(i), batch(rng, 2, 0), qos=1)
                arrived = arrival(capture, seen, f"Out of stock: P{i:04d}")
                if arrived is None:
                    diagnose(conn, f"P{i:04d}", tmp)
                    raise SystemExit(f"no notification for shelf {i}; see {tmp}/*.log")
                latencies.append(arrived - sent_s)
            stop.set()
            client.loop_stop()
            return latencies
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(30)


def measure_outbox(args: argparse.Namespace, db_url: str, tmp: Path) -> list[float]:
    """The notifier's share alone: an alert + ``opened`` event + NOTIFY committed the way the
    alert engine commits them -> the message at the capture server (no broker, no ingest)."""
    env = {
        **os.environ,
        "SHELFSENSE_DATABASE_URL": db_url,
        "SHELFSENSE_PUBLIC_URL": "https://shelfsense.example.com",
    }
    with CaptureServer() as capture, psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "insert into recipients (name, min_severity, channels) values ('bench', 'info', %s)",
            ([f"json://{capture.base}/hook"],),
        )
        proc = start(["notify"], env, tmp / "notify.log")
        try:
            time.sleep(3.0)
            latencies = []
            for n in range(args.conditions):
                seen, sent_s = len(capture.hits), time.time()
                open_in_outbox(conn, f"P{n % args.shelves:04d}")
                arrived = arrival(capture, seen, f"Out of stock: P{n % args.shelves:04d}")
                if arrived is None:
                    raise SystemExit(f"no notification; see {tmp}/notify.log")
                latencies.append(arrived - sent_s)
            return latencies
        finally:
            proc.terminate()
            proc.wait(30)


def open_in_outbox(conn: psycopg.Connection[tuple[object, ...]], sku: str) -> None:
    with conn.transaction():
        row = conn.execute(
            "insert into alerts (site_id, type, subject, severity, location_id, sku, opened_at, "
            "updated_at) values (%s, 'out_of_stock', %s, 'major', %s, %s, now(), now()) "
            "returning id",
            (SITE, f"location:aisle/{sku}|sku:{sku}|{time.time()}", f"aisle/{sku}", sku),
        ).fetchone()
        assert row is not None
        event = conn.execute(
            "insert into alert_events (site_id, alert_id, event, severity, ts) "
            "values (%s, %s, 'opened', 'major', now()) returning id",
            (SITE, row[0]),
        ).fetchone()
        assert event is not None
        note = json.dumps({"site": SITE, "event_id": event[0]})
        conn.execute("select pg_notify('shelfsense_alerts', %s)", (note,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shelves", type=int, default=1000)
    parser.add_argument("--conditions", type=int, default=200)
    parser.add_argument(
        "--outbox-only",
        action="store_true",
        help="measure only outbox commit -> message (no broker, no ingest)",
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        MosquittoBroker(Path(tmp) / "mq") as broker,
        PostgresCluster() as pg,
    ):
        db_url = pg.create_database("bench")
        upgrade(db_url)
        with psycopg.connect(db_url) as conn:
            apply_site(conn, load_site(site_document(args.shelves), "latency.json"))
            # duration rules aside: the alert opens on the batch that makes the shelf empty
            conn.execute(
                "insert into alert_rules (site_id, rule_key, params) "
                "values (%s, 'out_of_stock', '{\"settle_s\": 0, \"warmup_s\": 0}')",
                (SITE,),
            )
        if args.outbox_only:
            ms = sorted(1000 * s for s in measure_outbox(args, db_url, Path(tmp)))
        else:
            ms = sorted(1000 * s for s in measure(args, db_url, broker.url, Path(tmp)))
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    start_point = "outbox commit" if args.outbox_only else "batch publish"
    print(
        f"alert latency, {start_point} -> message at the capture server "
        f"({args.shelves} shelves under watch, {len(ms)} out-of-stock conditions, one at a time)"
    )
    print(
        f"p50 {statistics.median(ms):.0f} ms   p99 {p99:.0f} ms   max {ms[-1]:.0f} ms   "
        f"target p99 < 1000 ms: {'met' if p99 < 1000 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
